"""Nothing half-written: a failed or killed lock leaves the previous file byte-identical."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from releaser.lock.locking import lock
from releaser.plumbing import fsutil


def leftovers(project) -> list[str]:
    return sorted(p.name for p in project.root.iterdir() if p.name.startswith(".release.lock"))


def test_a_lock_killed_midway_leaves_the_previous_file(populated, make_project):
    project = make_project(populated.url)
    lock(project.config())
    before = project.lockfile.read_bytes()
    seen = len(populated.requests_seen)

    process = subprocess.Popen(
        [sys.executable, "-m", "releaser", "lock", "--upgrade"],
        cwd=project.root,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while len(populated.requests_seen) == seen and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)  # the resolver is talking to the index right now
    process.wait()

    assert project.lockfile.read_bytes() == before
    assert leftovers(project) == []


def test_a_write_interrupted_before_the_rename_keeps_the_old_bytes(tmp_path, monkeypatch):
    target = tmp_path / "release.lock"
    target.write_text("old\n")

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(fsutil.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fsutil.write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["release.lock"]


def test_rewriting_identical_content_does_not_touch_the_file(tmp_path):
    target = tmp_path / "release.lock"
    assert fsutil.write_atomic(target, "same\n") is True
    mtime = target.stat().st_mtime_ns
    assert fsutil.write_atomic(target, "same\n") is False
    assert target.stat().st_mtime_ns == mtime
