"""What an index says of a file is checked before it reaches a lock (issue 26): its name is the
name in its URL, as pip reads it, and its size a byte count TOML can hold."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from loopback.faults import Answer, FaultServer
from releaser.core import lockfile
from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems.python.index import JSON_TYPE, PackageIndexReader
from releaser.plumbing.http import Http

SHA = "a" * 64


@pytest.fixture
def reader() -> Iterator[tuple[FaultServer, PackageIndexReader]]:
    with FaultServer() as faults, Http(backoff=0.01) as http:
        yield faults, PackageIndexReader(http, (faults.url("simple"),))


def html(*anchors: tuple[str, str]) -> Answer:
    body = "".join(f'<a href="{href}">{text}</a><br/>' for href, text in anchors)
    return Answer(200, f"<html><body>{body}</body></html>".encode(), "text/html")


def test_a_pep503_file_name_is_the_one_in_its_url(reader: tuple[FaultServer, PackageIndexReader]) -> None:
    faults, index = reader
    faults.script("simple/alpha/", html((f"../../files/alpha-1.0%2Blocal-py3-none-any.whl#sha256={SHA}", "alpha-1.0+local-py3-none-any.whl")))
    [listed] = index.project_files(faults.url("simple"), "alpha") or []
    assert listed.filename == "alpha-1.0+local-py3-none-any.whl" and listed.url.endswith("/files/alpha-1.0%2Blocal-py3-none-any.whl")


def test_an_anchor_naming_another_file_than_its_url_is_refused(reader: tuple[FaultServer, PackageIndexReader]) -> None:
    """pip would install 2.0's bytes for the anchor that says 1.0: the lock must not pin 1.0's name to them."""
    faults, index = reader
    faults.script("simple/alpha/", html((f"../../files/alpha-2.0-py3-none-any.whl#sha256={SHA}", "alpha-1.0-py3-none-any.whl")))
    with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/simple/alpha/: the anchor 'alpha-1\.0-py3-none-any\.whl' links to a file named 'alpha-2\.0"):
        index.project_files(faults.url("simple"), "alpha")


def test_a_size_beyond_what_a_lock_can_hold_is_refused_naming_the_page(reader: tuple[FaultServer, PackageIndexReader]) -> None:
    faults, index = reader
    entry = {"filename": "alpha-1.0-py3-none-any.whl", "url": "alpha-1.0-py3-none-any.whl", "hashes": {"sha256": SHA}, "size": 10**30}
    faults.script("simple/alpha/", Answer(200, json.dumps({"files": [entry]}).encode(), JSON_TYPE))
    with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/simple/alpha/: 'alpha-1\.0-py3-none-any\.whl': size 10{30} is not a byte count"):
        index.project_files(faults.url("simple"), "alpha")


def test_a_lock_value_beyond_tomls_integers_is_refused_when_written_and_when_read(tmp_path: Path) -> None:
    """Whatever let it through, no lock is written with it, and a lock edited to hold one is bad input."""
    artifact = Artifact("alpha-1.0-py3-none-any.whl", "https://i/a.whl", SHA, 10**30)
    lock = Lock(datetime(2024, 1, 1, tzinfo=timezone.utc), "0.1.0", "none", {}, {"python": ("https://i/simple",)},
                (Pin("python", "alpha", "1.0", "https://i/simple", "alpha==1.0", None, (artifact,)),))
    with pytest.raises(UpstreamError, match=r"^alpha, alpha-1\.0-py3-none-any\.whl: size 1000000000000000000000000000000 is beyond TOML's 64-bit integers"):
        lockfile.dumps(lock)
    fine = lockfile.dumps(dataclasses.replace(lock, pins=(dataclasses.replace(lock.pins[0], artifacts=(dataclasses.replace(artifact, size=10),)),)))
    with pytest.raises(ConfigError, match=r"release.lock: .*size is beyond TOML's 64-bit integers"):
        lockfile.loads(fine.replace("size = 10\n", f"size = {10**30}\n"), tmp_path / "release.lock")


def test_check_online_reports_a_file_whose_stated_size_changed(reader: tuple[FaultServer, PackageIndexReader]) -> None:
    """Same sha256, another size: `reproduce` would refuse the file, so `check --online` says so first."""
    from releaser.ecosystems.python.verify import _verify_pin

    faults, index = reader
    entry = {"filename": "alpha-1.0-py3-none-any.whl", "url": "alpha-1.0-py3-none-any.whl", "hashes": {"sha256": SHA}, "size": 11}
    faults.script("simple/alpha/", Answer(200, json.dumps({"files": [entry]}).encode(), JSON_TYPE))
    simple = faults.url("simple")
    pin = Pin("python", "alpha", "1.0", simple, "alpha==1.0", None, (Artifact("alpha-1.0-py3-none-any.whl", f"{simple}/a.whl", SHA, 10),))
    [finding] = _verify_pin(pin, index, index.http, simple)
    assert finding.code == "hash-changed" and "now gives its size as 11 bytes, the lock has 10" in finding.message
