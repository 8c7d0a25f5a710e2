"""A warm relock: index pages kept from the last lock are revalidated (304), never trusted blind."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import days
from releaser.core import lockfile
from releaser.lock.locking import lock
from releaser.plumbing.pagecache import PageCache

UV = 'resolver = "uv"'


@pytest.fixture
def own_cache(tmp_path, monkeypatch) -> Path:
    """A cache of this test's own: the first lock is cold."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "releaser" / "pages"


def releasers(index) -> list[str]:
    """The pages the index answered 304 to releaser itself (uv revalidates its own cache too)."""
    return sorted(path for path, agent in index.not_modified_sent if agent.startswith("releaser/"))


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_a_warm_relock_revalidates_every_page_and_writes_the_same_lock(populated, make_project, own_cache, resolver):
    project = make_project(populated.url, python=f'resolver = "{resolver}"')
    lock(project.config(), as_of=days(10))
    cold = project.lockfile.read_bytes()
    assert populated.not_modified_sent == []
    lock(project.config(), as_of=days(10), refresh=True)
    assert project.lockfile.read_bytes() == cold
    assert releasers(populated) == ["/simple/alpha/", "/simple/beta/"]


def test_a_page_that_changed_is_read_again_not_taken_from_the_cache(populated, make_project, own_cache):
    project = make_project(populated.url, python=UV)
    lock(project.config(), as_of=days(10))
    populated.publish("beta", "1.0", uploaded=days(1), tags=("cp312-cp312-win_amd64",))  # a late wheel of the pinned version
    lock(project.config(), as_of=days(10), refresh=True)
    [beta] = [p for p in lockfile.read(project.lockfile).pins if p.name == "beta"]
    assert "beta-1.0-cp312-cp312-win_amd64.whl" in {a.name for a in beta.artifacts}
    assert releasers(populated) == ["/simple/alpha/"]


def test_a_damaged_cache_is_read_as_empty(populated, make_project, own_cache):
    project = make_project(populated.url, python=UV)
    lock(project.config(), as_of=days(10))
    cold = project.lockfile.read_bytes()
    kept = sorted(p for p in own_cache.iterdir() if p.name != ".pruned")
    assert kept
    for path in kept:
        path.write_bytes(path.read_bytes()[:-7])  # torn: shorter than its header says
    lock(project.config(), as_of=days(10), refresh=True)
    assert project.lockfile.read_bytes() == cold
    assert releasers(populated) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_in_a_kept_file_are_a_miss_or_a_page(tmp_path_factory, raw):
    cache = PageCache(tmp_path_factory.mktemp("pages"))
    cache.keep("http://h/simple/a/", "x", b"{}", {"ETag": '"1"', "Content-Type": "application/json"})
    [path] = [p for p in cache.directory.iterdir() if p.name != ".pruned"]  # the pruning stamp aside
    path.write_bytes(raw)
    found = cache.lookup("http://h/simple/a/", "x")
    assert found is None or found.conditions()


def test_an_answer_marked_no_store_or_without_a_validator_is_not_kept(tmp_path):
    cache = PageCache(tmp_path / "pages")
    cache.keep("http://h/a/", None, b"x", {"ETag": '"1"', "Cache-Control": "private, no-store"})
    cache.keep("http://h/b/", None, b"x", {"Cache-Control": "no-cache"})
    assert cache.lookup("http://h/a/", None) is None and cache.lookup("http://h/b/", None) is None
    cache.keep("http://u:secret@h/c/", None, b"x", {"Last-Modified": "Mon, 07 Dec 2026 16:00:00 GMT"})
    [path] = (tmp_path / "pages").iterdir()
    assert b"secret" not in path.read_bytes() and path.stat().st_mode & 0o077 == 0
    assert cache.lookup("http://u:secret@h/c/", None).conditions() == {"If-Modified-Since": "Mon, 07 Dec 2026 16:00:00 GMT"}
