"""releaser's caches forget what no run has used for 30 days, pruned at most once a day."""

from __future__ import annotations

import os
import time
from pathlib import Path

from releaser.plumbing.cachetrim import DAY, UNUSED_DAYS, mark_used, prune_unused
from releaser.plumbing.pagecache import PageCache

NOW = time.time()


def _aged(path: Path, days: float) -> Path:
    os.utime(path, (NOW - days * DAY, NOW - days * DAY))
    return path


def test_entries_unused_for_30_days_go_once_a_day_and_the_rest_stay(tmp_path):
    (tmp_path / "page-old").write_bytes(b"x")
    _aged(tmp_path / "page-old", UNUSED_DAYS + 1)
    (tmp_path / "page-new").write_bytes(b"x")
    (tmp_path / ("a" * 64)).mkdir()
    (tmp_path / ("a" * 64) / "old.whl").write_bytes(b"x")
    _aged(tmp_path / ("a" * 64), UNUSED_DAYS + 5)
    (tmp_path / ".lock").write_bytes(b"")
    _aged(tmp_path / ".lock", 400)  # a lock file another process may wait on: never removed

    assert sorted(prune_unused(tmp_path, now=NOW)) == sorted(["page-old", "a" * 64])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", ".pruned", "page-new"]

    # Within the day nothing is pruned again; a day later what has aged since goes.
    _aged(tmp_path / "page-new", UNUSED_DAYS + 1)
    assert prune_unused(tmp_path, now=NOW + DAY / 2) == []
    assert (tmp_path / "page-new").exists()
    assert prune_unused(tmp_path, now=NOW + DAY) == ["page-new"]


def test_a_missing_or_unwritable_cache_is_no_error(tmp_path):
    assert prune_unused(tmp_path / "never-made") == []
    mark_used(tmp_path / "never-made" / "page")  # nothing to mark: no error


def test_a_page_used_is_kept_and_one_unused_for_long_goes_when_the_cache_is_next_opened(tmp_path):
    pages = PageCache(tmp_path)
    headers = {"ETag": '"v1"', "Content-Type": "application/vnd.pypi.simple.v1+json"}
    pages.keep("https://index.example/simple/alpha/", None, b"{}", headers)
    pages.keep("https://index.example/simple/beta/", None, b"{}", headers)
    for name in os.listdir(tmp_path):
        _aged(tmp_path / name, UNUSED_DAYS + 1)
    assert pages.lookup("https://index.example/simple/alpha/", None) is not None  # used now

    PageCache(tmp_path)  # the next run: pruned, the stamp being 31 days old
    assert pages.lookup("https://index.example/simple/alpha/", None) is not None
    assert pages.lookup("https://index.example/simple/beta/", None) is None


def test_a_stamp_or_entry_linked_out_of_the_cache_is_never_written_through(tmp_path):
    cache, outside = tmp_path / "cache", tmp_path / "outside"
    cache.mkdir()
    outside.mkdir()
    (cache / ".pruned").symlink_to(outside / "made-by-releaser")  # dangling: a followed link would create it
    (outside / "precious").write_bytes(b"x")
    _aged(outside / "precious", 400)
    (cache / "entry").symlink_to(outside / "precious")
    mark_used(cache / "entry")
    assert prune_unused(cache, now=NOW) == []
    assert not (outside / "made-by-releaser").exists()
    assert NOW - (outside / "precious").stat().st_mtime > 399 * DAY  # not marked through the link
