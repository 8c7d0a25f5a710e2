"""[[artifact]] inputs pinned against a real HTTP file server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from loopback.files import FileServer
from releaser.core import lockfile
from releaser.core.errors import ConfigError, UpstreamError
from releaser.ecosystems import load_config
from releaser.lock.locking import lock
from releaser.plumbing.http import Http

JAN = datetime(2024, 1, 1, 12, tzinfo=UTC)
FEB = datetime(2024, 2, 1, 12, tzinfo=UTC)
DATA = b"tzdata 2024a\n" * 100
DATA2 = b"tzdata 2024b\n" * 100


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_project(root: Path, *artifacts: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = '[release]\nname = "cosmo"\nversion = "0.9.0"\n'
    for table in artifacts:
        text += "\n[[artifact]]\n" + "".join(f'{k} = "{v}"\n' for k, v in table.items())
    (root / "release.toml").write_text(text, encoding="utf-8")
    return root


def run_lock(root: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    # A fast backoff: the retry tests should not sleep.
    return lock(load_config(root / "release.toml"), http=Http(backoff=0.01), **kwargs)  # type: ignore[arg-type]


def pins(root: Path) -> dict[str, lockfile.Pin]:
    current = lockfile.read(root / "release.lock")
    assert current is not None
    return {p.name: p for p in current.of_kind("artifact")}


def test_artifact_is_hashed_sized_and_dated(tmp_path: Path, files: FileServer) -> None:
    url = files.put("dl/tzdata-latest.tar.gz", DATA, last_modified=JAN)
    root = write_project(tmp_path / "p", {"name": "tzdata", "url": url})
    run_lock(root)
    pin = pins(root)["tzdata"]
    assert (pin.version, pin.source, pin.requested, pin.date) == (sha(DATA), url, url, JAN)
    assert [(a.name, a.url, a.sha256, a.size, a.date, a.upstream) for a in pin.artifacts] == [
        ("tzdata-latest.tar.gz", url, sha(DATA), len(DATA), JAN, ())
    ]
    doc = tomllib.loads((root / "release.lock").read_text())
    assert doc["artifact"][0]["artifacts"][0]["sha256"] == sha(DATA)
    assert doc["sources"]["artifact"] == [url]

    # No Last-Modified: no date (and a URL ending in '/' is named after the artifact).
    bare = files.put("latest/", DATA)
    write_project(root, {"name": "tzdata", "url": bare})
    run_lock(root)
    pin = pins(root)["tzdata"]
    assert pin.date is None and pin.artifacts[0].name == "tzdata" and pin.artifacts[0].date is None


def test_relock_keeps_same_bytes_and_pins_new_ones(tmp_path: Path, files: FileServer) -> None:
    url = files.put("tz.tar.gz", DATA, last_modified=JAN)
    root = write_project(tmp_path / "p", {"name": "tzdata", "url": url})
    run_lock(root)
    before = (root / "release.lock").read_bytes()

    files.put("tz.tar.gz", DATA, last_modified=FEB)  # touched, same bytes: the pin stands
    assert not run_lock(root, refresh=True).written and (root / "release.lock").read_bytes() == before
    # --upgrade downloads again and re-records it (here: the new date).
    run_lock(root, upgrade=("tzdata",))
    assert pins(root)["tzdata"].date == FEB

    files.put("tz.tar.gz", DATA2, last_modified=FEB)  # new bytes: a plain relock keeps the pin (nothing changed here)
    assert run_lock(root).changes == [] and pins(root)["tzdata"].version == sha(DATA)
    result = run_lock(root, refresh=True)  # asked to look again: pinned anew, shown as a change
    assert result.changes == [f"artifact tzdata: {sha(DATA)} -> {sha(DATA2)}"]
    assert pins(root)["tzdata"].artifacts[0].size == len(DATA2)


def test_sha256_in_release_toml_is_enforced(tmp_path: Path, files: FileServer) -> None:
    url = files.put("tz.tar.gz", DATA)
    root = write_project(tmp_path / "p", {"name": "tzdata", "url": url, "sha256": sha(DATA)})
    run_lock(root)
    before = (root / "release.lock").read_bytes()

    files.put("tz.tar.gz", DATA2)
    with pytest.raises(UpstreamError) as caught:
        run_lock(root, refresh=True)
    assert str(caught.value) == (
        f"artifact tzdata: {url} has sha256 {sha(DATA2)}, but release.toml requires {sha(DATA)}; nothing was recorded"
    )
    assert (root / "release.lock").read_bytes() == before


def test_503_twice_then_success(tmp_path: Path, files: FileServer) -> None:
    url = files.put("tz.tar.gz", DATA, last_modified=JAN)
    files.fail_next("tz.tar.gz", 2)
    root = write_project(tmp_path / "p", {"name": "tzdata", "url": url})
    run_lock(root)
    assert pins(root)["tzdata"].version == sha(DATA)
    # Two 503s, the download, then the HEAD that asks for its date.
    assert files.requests_seen == [("GET", "/tz.tar.gz")] * 3 + [("HEAD", "/tz.tar.gz")]

    files.fail_next("tz.tar.gz", 10)  # more than the retries: an outside failure, exit 3
    with pytest.raises(UpstreamError, match=f"artifact tzdata: {url} answered HTTP 503"):
        run_lock(root, refresh=True)


@pytest.mark.parametrize("tail", ["..%2F..%2Fetc%2Fpasswd", "..", "a%5Cb.tar.gz", "x%00y"])
def test_path_tricks_in_the_file_name_are_refused(tmp_path: Path, files: FileServer, tail: str) -> None:
    url = files.url(f"dl/{tail}")
    root = write_project(tmp_path / "p", {"name": "tzdata", "url": url})
    with pytest.raises(ConfigError, match=r"\[\[artifact\]\] tzdata: .* which is not a plain file name"):
        run_lock(root)
    assert files.requests_seen == []  # refused before any download
    assert not (root / "release.lock").exists()


def test_as_of_needs_a_date_before_the_cut_off(tmp_path: Path, files: FileServer) -> None:
    url = files.put("tz.tar.gz", DATA, last_modified=FEB)
    root = write_project(tmp_path / "p", {"name": "tzdata", "url": url})
    run_lock(root, as_of=FEB + timedelta(days=1))
    assert pins(root)["tzdata"].date == FEB

    with pytest.raises(UpstreamError, match="last modified at 2024-02-01T12:00:00Z, after the cut-off 2024-01-15T00:00:00Z"):
        run_lock(root, as_of=datetime(2024, 1, 15, tzinfo=UTC), upgrade_all=True)
    files.put("tz.tar.gz", DATA)
    with pytest.raises(UpstreamError, match="gives no Last-Modified date, so releaser cannot establish"):
        run_lock(root, as_of=FEB + timedelta(days=1), upgrade_all=True)


def test_credentials_never_reach_the_lock_or_errors(tmp_path: Path) -> None:
    with FileServer(auth=("deploy", "hunter2-secret")) as files:
        files.put("tz.tar.gz", DATA)
        plain = files.url("tz.tar.gz")
        root = write_project(tmp_path / "p", {"name": "tzdata", "url": plain.replace("http://", "http://deploy:${TOKEN}@")})
        env = {**os.environ, "TOKEN": "hunter2-secret"}
        run = [sys.executable, "-m", "releaser", "lock"]
        done = subprocess.run(run, cwd=root, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        text = (root / "release.lock").read_text()
        assert "hunter2" not in text and "deploy" not in text and plain in text

        env["TOKEN"] = "wrong-secret-value"
        done = subprocess.run([*run, "--refresh"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 3
        assert done.stderr.strip() == f"releaser: artifact tzdata: {plain} answered HTTP 401"


def test_credentials_from_netrc_are_used_and_never_written(tmp_path: Path) -> None:
    # The README: put credentials in the environment "or ~/.netrc".
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login deploy password hunter2-secret\n", encoding="utf-8")
    (home / ".netrc").chmod(0o600)
    with FileServer(auth=("deploy", "hunter2-secret")) as files:
        plain = files.put("tz.tar.gz", DATA)
        root = write_project(tmp_path / "p", {"name": "tzdata", "url": plain})
        env = {**os.environ, "HOME": str(home)}
        env.pop("NETRC", None)
        done = subprocess.run([sys.executable, "-m", "releaser", "lock"], cwd=root, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert pins(root)["tzdata"].version == sha(DATA)
        text = (root / "release.lock").read_text()
        assert "hunter2" not in text and "deploy" not in text and plain in text
        assert "hunter2" not in done.stdout + done.stderr
