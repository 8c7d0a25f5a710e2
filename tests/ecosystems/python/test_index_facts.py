"""What an index says of a file is checked before it reaches a lock (issue 26): its name is the
name in its URL, as pip reads it, and its size a byte count TOML can hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopback.faults import Answer, FaultServer
from releaser.core.errors import UpstreamError
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
