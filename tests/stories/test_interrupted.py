"""Kill -9 at every commit point of lock, cut and reproduce, and two releasers at once.

`RELEASER_KILL_AT=<point>` makes the command SIGKILL itself at that point (a hook in
the code, not a timed kill). After each kill the previous files are intact, and the
next run cleans what the killed one left and finishes or redoes its work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import days, run_releaser

from loopback.files import FileServer

RC1, RC2 = "0.9.0rc1", "0.9.0rc2"
IDENTITY = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Release Engineer",
    "GIT_AUTHOR_EMAIL": "re@example.org",
    "GIT_COMMITTER_NAME": "Release Engineer",
    "GIT_COMMITTER_EMAIL": "re@example.org",
}


def project(root: Path, files: FileServer, *, build: str = "") -> Path:
    """A project pinning one URL artifact, committed in its own git repository, dist/ ignored."""
    files.put("tz/tzdata.tar.gz", b"tzdata 2024a\n", last_modified=days(2))
    root.mkdir(parents=True)
    (root / "release.toml").write_text(
        f'[release]\nname = "cosmo"\nversion = "0.9.0"\n{build}\n'
        f'[[artifact]]\nname = "tzdata"\nurl = "{files.url("tz/tzdata.tar.gz")}"\n',
        encoding="utf-8",
    )
    (root / ".gitignore").write_text("/dist/\n/reproduce/\n")
    return root


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=root, capture_output=True, text=True, env={**os.environ, **IDENTITY})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def releaser(root: Path, *args: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**IDENTITY, "GIT_CONFIG_GLOBAL": str(root.parent / "gitconfig")}
    if kill_at:
        env["RELEASER_KILL_AT"] = kill_at
    return run_releaser(root, *args, env=env, timeout=300)


def locked_and_committed(root: Path) -> None:
    assert releaser(root, "lock").returncode == 0
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")


@pytest.mark.parametrize("point", ["lock:resolved", "replace:release.lock"])
def test_a_lock_killed_at_a_commit_point_leaves_the_lock_and_the_next_run_cleans_up(
    tmp_path: Path, files: FileServer, point: str
) -> None:
    root = project(tmp_path / "p", files)
    locked_and_committed(root)
    before = (root / "release.lock").read_bytes()
    files.put("tz/tzdata.tar.gz", b"tzdata 2024b\n", last_modified=days(3))  # upstream moved: the lock would change

    killed = releaser(root, "lock", "--refresh", kill_at=point)  # --refresh: resolve, though no input changed
    assert killed.returncode == -signal.SIGKILL
    assert (root / "release.lock").read_bytes() == before

    # a leftover temp file does not make the next cut refuse the tree as dirty
    files.put("tz/tzdata.tar.gz", b"tzdata 2024a\n", last_modified=days(2))
    done = releaser(root, "cut")
    assert done.returncode == 0, done.stderr
    assert not list(root.glob(".release.lock.*.tmp"))
    assert git(root, "tag", "--list") == "v0.9.0rc1"


@pytest.mark.parametrize("point", ["cut:built", "record:staged", "cut:recorded", "cut:committed"])
def test_a_cut_killed_at_a_commit_point_is_finished_or_redone_by_the_next_cut(
    tmp_path: Path, files: FileServer, point: str
) -> None:
    root = project(tmp_path / "p", files)
    locked_and_committed(root)
    built = git(root, "rev-parse", "HEAD")

    killed = releaser(root, "cut", kill_at=point)
    assert killed.returncode == -signal.SIGKILL

    listed = releaser(root, "list")
    assert listed.returncode == 0, listed.stderr  # a partial record is never listed as an RC
    done = releaser(root, "cut")
    assert done.returncode == 0, done.stderr
    assert f"cut {RC1}" in done.stdout  # rc1 is finished or redone, not skipped for rc2
    assert git(root, "tag", "--list") == "v0.9.0rc1"
    assert git(root, "status", "--porcelain") == ""
    manifest = json.loads((root / "releases" / RC1 / "manifest.json").read_text())
    assert manifest["commit"] == built
    assert git(root, "rev-parse", "v0.9.0rc1^{commit}^") == built  # the tag holds the record, on the built commit
    assert not list((root / "releases").glob(".*"))
    again = releaser(root, "cut")
    assert again.returncode == 0 and f"cut {RC2}" in again.stdout, again.stderr


@pytest.mark.parametrize("point", ["reproduce:fetched"])
def test_a_reproduce_killed_midway_is_completed_by_the_next_one(tmp_path: Path, files: FileServer, point: str) -> None:
    root = project(tmp_path / "p", files)
    locked_and_committed(root)
    assert releaser(root, "cut").returncode == 0

    killed = releaser(root, "reproduce", RC1, kill_at=point)
    assert killed.returncode == -signal.SIGKILL
    done = releaser(root, "reproduce", RC1)
    assert done.returncode == 0, done.stderr
    assert (root / "reproduce" / RC1 / "artifacts" / "tzdata.tar.gz").read_bytes() == b"tzdata 2024a\n"
    assert not [p for p in (root / "reproduce").rglob(".*") if p.name != ".releaser-reproduce.json"]


def test_a_second_cut_waits_then_refuses_in_one_line_and_touches_nothing(tmp_path: Path, files: FileServer) -> None:
    # the first cut's build waits until the test lets it go
    gate = tmp_path / "go"
    build = f'build = ["{sys.executable}", "-c", "import os,time\\nwhile not os.path.exists({str(gate)!r}): time.sleep(0.05)"]'
    root = project(tmp_path / "p", files, build=build)
    locked_and_committed(root)
    env = {**os.environ, **IDENTITY, "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig")}
    first = subprocess.Popen([sys.executable, "-m", "releaser", "cut"], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # until the first cut holds the project lock and builds
            if (root / "dist" / RC1).exists():
                break
            time.sleep(0.05)
        second = run_releaser(root, "cut", env={**IDENTITY, "RELEASER_LOCK_WAIT": "0.5"}, timeout=120)
        relock = run_releaser(root, "lock", env={"RELEASER_LOCK_WAIT": "0"}, timeout=120)
    finally:
        gate.touch()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    assert "another releaser is working on this project" in second.stderr and f"pid {first.pid}" in second.stderr
    assert relock.returncode == 1 and "`releaser cut`" in relock.stderr
    assert (root / "dist" / RC1).is_dir()  # the second cut did not delete the first one's dist/<rc>
    assert git(root, "tag", "--list") == "v0.9.0rc1"


def test_a_lock_held_by_a_dead_process_is_stale(tmp_path: Path, files: FileServer) -> None:
    root = project(tmp_path / "p", files)
    locked_and_committed(root)
    # a holder that died without cleaning up: its file, its pid, no flock
    (root / ".git" / "releaser.lock").write_text(json.dumps({"pid": 999999, "command": "cut", "since": "2024-01-01T00:00:00+00:00"}))
    done = run_releaser(root, "lock", env={"RELEASER_LOCK_WAIT": "0"})
    assert done.returncode == 0, done.stderr
    assert not (root / ".git" / "releaser.lock").exists()


@pytest.mark.parametrize("point", ["reproduce:fetched", "reproduce:venv"])
def test_a_reproduce_with_python_killed_midway_is_completed_by_the_next_one(world, point: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    killed = run_releaser(world.project.root, "reproduce", RC1, env={"RELEASER_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    done = world.run("reproduce", RC1)
    assert done.returncode == 0, done.stderr
    into = world.project.root / "reproduce" / RC1
    assert (into / "venv" / "releaser-set.json").is_file()
    assert "reused" in done.stdout if point == "reproduce:venv" else "created" in done.stdout
    assert (into / "git" / "windmill" / ".git").is_dir() and not list(into.rglob(".*.partial"))
