"""A misbehaving upstream (releaser/loopback/faults.py): retries, deadlines, size caps, malformed answers.

Every failure is an UpstreamError (exit 3) naming the URL, within the configured deadline:
never a hang, never a traceback, never a document held in memory past its cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_releaser

from loopback.faults import Answer, Drip, FaultServer, Flood, Hang, Reset, redirect
from releaser.core.errors import UpstreamError
from releaser.ecosystems.python.index import JSON_TYPE, PackageIndexReader
from releaser.plumbing.http import Http, Limits

SHORT = Limits(timeout=0.5, metadata_deadline=2.0, download_deadline=2.0, metadata_max=100_000)


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.fixture
def http() -> Iterator[Http]:
    with Http(limits=SHORT, backoff=0.01) as session:
        yield session


def test_5xx_and_429_are_retried_then_answered(faults: FaultServer, http: Http) -> None:
    url = faults.script("a", Answer(500), Answer(503), Answer(429, headers={"Retry-After": "0"}), Answer(200, b"ok"))
    response = http.get(url, what="page")
    assert response is not None and response.content == b"ok"
    assert faults.hits("a") == 4


def test_a_server_that_keeps_failing_is_an_upstream_error_naming_the_url(faults: FaultServer, http: Http) -> None:
    url = faults.script("a", Answer(500))
    with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/a answered HTTP 500"):
        http.get(url, what="page")
    assert faults.hits("a") == 4  # the first try and three retries


def test_a_reset_connection_is_retried(faults: FaultServer, http: Http) -> None:
    url = faults.script("a", Reset(), Answer(200, b"ok"))
    response = http.get(url, what="page")
    assert response is not None and response.content == b"ok"
    with pytest.raises(UpstreamError, match=r"cannot reach http://127\.0\.0\.1:\d+/b"):
        http.get(faults.script("b", Reset()), what="page")


def test_redirects_are_followed(faults: FaultServer, http: Http) -> None:
    faults.script("new", Answer(200, b"moved"))
    response = http.get(faults.script("old", redirect(faults.url("new"))), what="page")
    assert response is not None and response.content == b"moved"


@pytest.mark.parametrize("step", [Hang(), Drip(b"x" * 1000, interval=0.1)], ids=["never-answers", "drips"])
def test_the_deadline_ends_a_request_that_never_finishes(faults: FaultServer, http: Http, step: object, tmp_path: Path) -> None:
    url = faults.script("slow", step)  # type: ignore[arg-type]
    with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/slow"):
        http.get(url, what="page")
    with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/slow"):
        http.download(url, tmp_path / "file", what="file")
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_a_metadata_document_past_the_cap_is_refused(faults: FaultServer, http: Http) -> None:
    url = faults.script("big", Flood(50_000_000))
    with pytest.raises(UpstreamError, match=r"more than 100000 bytes.*RELEASER_METADATA_MAX_BYTES"):
        http.get(url, what="index page")
    # a file is not metadata: no cap, only the deadline
    sha256, size = http.download(faults.script("file", Flood(300_000)), None, what="file")
    assert size == 300_000


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe garbage",
        b"[]",
        b'{"files": 5}',
        b'{"files": [{"filename": "a-1.0.tar.gz"}]}',
        b'{"files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "upload-time": "yesterday"}]}',
        b'{"files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "size": "big"}]}',
        b'{"files": [{"filename": "a-1.0.tar.gz", "url": "a-1.0.tar.gz", "hashes": {"sha256": "nothex"}}]}',
        b'{"files": [{"filename": "../../a-1.0.tar.gz", "url": "a-1.0.tar.gz"}]}',
        b'{"files": [{"filename": "a-1.0.tar.gz", "url": "file:///etc/passwd"}]}',
    ],
)
def test_a_malformed_index_page_is_refused_before_it_reaches_a_lock(faults: FaultServer, http: Http, body: bytes) -> None:
    faults.script("simple/a/", Answer(200, body, JSON_TYPE))
    reader = PackageIndexReader(http, (faults.url("simple"),))
    with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/simple/a/"):
        reader.project_files(faults.url("simple"), "a")


def test_lock_against_a_hanging_maven_repository_exits_3_naming_the_url(faults: FaultServer, tmp_path: Path) -> None:
    faults.script("maven2/org/x/lib/maven-metadata.xml", Hang())
    (tmp_path / "release.toml").write_text(
        '[release]\nname = "cosmo"\nversion = "0.9.0"\n\n'
        f'[[maven]]\nrepository = "{faults.url("maven2")}"\ndependencies = ["org.x:lib:LATEST"]\n',
        encoding="utf-8",
    )
    env = {"RELEASER_HTTP_TIMEOUT": "0.3", "RELEASER_METADATA_DEADLINE": "1"}
    done = run_releaser(tmp_path, "lock", env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "maven2/org/x/lib/maven-metadata.xml" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "release.lock").exists()


def test_a_bad_limit_in_the_environment_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "release.toml").write_text('[release]\nname = "c"\nversion = "1.0"\n[[artifact]]\nname = "a"\nurl = "http://127.0.0.1:9/a"\n')
    done = run_releaser(tmp_path, "lock", env={"RELEASER_DOWNLOAD_DEADLINE": "soon"})
    assert done.returncode == 2 and "RELEASER_DOWNLOAD_DEADLINE" in done.stderr, done.stderr


def test_the_resolver_is_bounded_by_its_deadline_when_the_index_drips(faults: FaultServer, tmp_path: Path) -> None:
    faults.script("simple/alpha/", Drip(b"<html>" + b" " * 10_000, interval=0.2, content_type="text/html"))
    (tmp_path / "requirements.in").write_text("alpha\n")
    (tmp_path / "release.toml").write_text(
        f'[release]\nname = "cosmo"\nversion = "0.9.0"\n\n[python]\nrequirements = ["requirements.in"]\nindex-url = "{faults.url("simple")}"\n'
    )
    done = run_releaser(tmp_path, "lock", env={"RELEASER_RESOLVE_DEADLINE": "4"}, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "pip-compile did not finish within 4 s (RELEASER_RESOLVE_DEADLINE)" in done.stderr
    assert faults.hits("simple/alpha/") >= 1 and not (tmp_path / "release.lock").exists()


def test_a_body_that_stalls_fails_on_the_stall_limit_long_before_the_deadline(faults: FaultServer, tmp_path: Path) -> None:
    """A 10 MB promise kept one byte at a time: given up on after the stall window, not the 30-minute deadline."""
    url = faults.script("slow.bin", Drip(b"x" * 10_000_000, interval=0.2))
    limits = Limits(timeout=5, download_deadline=1800, metadata_deadline=1800, stall_rate=1024, stall_window=1.5)
    with Http(limits=limits) as http:
        with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/slow\.bin sent \d+ bytes in \d+ s.*stalled \(RELEASER_STALL_RATE"):
            http.download(url, tmp_path / "slow.bin", what="file")
        with pytest.raises(UpstreamError, match=r"/slow\.bin .*stalled"):
            http.get(url, what="index page")
    assert not any(tmp_path.iterdir())  # nothing half-written
    # a server that keeps up passes, however long it takes
    fast = faults.script("fast.bin", Drip(b"y" * 40, interval=0.01))
    with Http(limits=Limits(stall_rate=10, stall_window=0.1)) as http:
        assert http.download(fast, None, what="file")[1] == 40


def test_lock_against_a_dripping_artifact_exits_3_on_the_configured_stall_window(faults: FaultServer, tmp_path: Path) -> None:
    url = faults.script("tz.tar.gz", Drip(b"x" * 10_000_000, interval=0.5))
    (tmp_path / "release.toml").write_text(
        f'[release]\nname = "cosmo"\nversion = "0.9.0"\n\n[[artifact]]\nname = "tz"\nurl = "{url}"\n', encoding="utf-8"
    )
    done = run_releaser(tmp_path, "lock", env={"RELEASER_STALL_WINDOW": "2", "RELEASER_HTTP_TIMEOUT": "5"}, timeout=120)
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "/tz.tar.gz" in done.stderr and "RELEASER_STALL_WINDOW" in done.stderr
    assert not (tmp_path / "release.lock").exists()
    done = run_releaser(tmp_path, "lock", env={"RELEASER_STALL_RATE": "-1"})
    assert done.returncode == 2 and "RELEASER_STALL_RATE" in done.stderr, done.stderr
