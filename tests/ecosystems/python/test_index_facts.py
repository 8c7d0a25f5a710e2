"""What an index says of a file is checked before it reaches a lock (issue 26): its name is the
name in its URL, as pip reads it, and its size a byte count TOML can hold."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    lock = Lock(datetime(2024, 1, 1, tzinfo=UTC), "0.1.0", "none", {}, {"python": ("https://i/simple",)},
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


def test_a_lock_checks_only_the_pinned_versions_files_of_a_page(reader: tuple[FaultServer, PackageIndexReader]) -> None:
    """A large project's page lists thousands of files: a lock reads those of the version it pins;
    `check --online`, which looks at every version for newer ones, still refuses a bad entry anywhere."""
    faults, index = reader
    good = {"filename": "alpha-1.0-py3-none-any.whl", "url": "alpha-1.0-py3-none-any.whl", "hashes": {"sha256": SHA}, "size": 3}
    broken = {"filename": "alpha-0.9.tar.gz", "url": "alpha-0.9.tar.gz", "hashes": {"sha256": "not hex"}}
    faults.script("simple/alpha/", Answer(200, json.dumps({"files": [broken, good, "not even an object"]}).encode(), JSON_TYPE))
    found = index.version_files("alpha", "1.0", cutoff=datetime(2030, 1, 1, tzinfo=UTC), dated=False)
    assert [(a.name, a.sha256, a.size) for a in found.artifacts] == [("alpha-1.0-py3-none-any.whl", SHA, 3)]
    with pytest.raises(UpstreamError, match=r"'alpha-0\.9\.tar\.gz': sha256 'not hex' is not 64 hex digits"):
        index.project_files(faults.url("simple"), "alpha")


_NAME = st.tuples(st.sampled_from(["a", "Ab", "x1"]), st.sampled_from(["", "-b", "_c", ".d", "-e-f", "--g"])).map("".join)
_VERSION = st.sampled_from(["1.0", "1.0.0", "01.0", "1.0rc1", "1.0-rc1", "1.0.post1", "1.0-1", "1!2.0", "1.0+local", "v1.0", "x"])
_REST = st.sampled_from(["py3-none-any", "1-py3-none-any", "cp311-cp311-win_amd64", "none", "a-b-c-d-e"])
_SUFFIX = st.sampled_from([".whl", ".tar.gz", ".zip", ".zip.tar.gz", ".tar.gz.zip", ".egg"])


@settings(max_examples=300, deadline=None)
@given(_NAME, _VERSION, st.one_of(st.none(), _REST), _SUFFIX)
def test_the_quick_cut_by_version_keeps_every_file_packaging_would_give_that_version(
    name: str, version: str, rest: str | None, suffix: str
) -> None:
    """The lock's files of a version are exactly those `packaging` reads as that version: the cheap first
    cut over a page's file names never drops one."""
    from releaser.ecosystems.python.index import _quick_version, filename_version

    filename = "-".join(p for p in (name, version, rest) if p) + suffix
    exact = filename_version(filename, name)
    assert exact is None or _quick_version(filename) == exact
