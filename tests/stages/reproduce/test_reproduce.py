"""`releaser reproduce`, `bundle` and `diff` against real servers on 127.0.0.1.

The Python pins come from a real lock against the loopback index; the Maven, git
and URL pins point at real files on a loopback file server and a real git
repository (file:// URL). Upstream then drifts, is tampered with, and goes away.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from helpers import Project, days
from loopback.pypi import PackageIndex
from loopback.wheels import build_wheel
from recorded import (
    RC1,
    RC2,
    SNAP,
    World,
    drift,
    file_sha,
    head,
    installed,
    serve,
    sha,
    tree,
    write_record,
)
from releaser.core import lockfile
from releaser.core.errors import UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.lock import locking
from releaser.reproduce import reproducing


def test_reproduce_after_drift_gives_rc1_exactly_and_a_rerun_downloads_nothing(world: World) -> None:
    drift(world)
    done = world.run("reproduce", RC1)
    assert done.returncode == 0, done.stderr
    into = world.project.root / "reproduce" / RC1
    assert tree(into) == world.expected(into)  # every file, and nothing else, byte for byte
    assert {k.lower(): v for k, v in installed(into).items()} == {"alpha": "1.0", "beta": "1.0"}
    assert head(into / "git" / "windmill") == world.commit != world.repo.rev("main")
    classpath = (into / "maven" / "classpath.txt").read_text().strip().split(os.pathsep)
    assert classpath == [str((into / f"maven/{SNAP.removeprefix('maven2/')}/lib-1.0-20240105.120000-3.jar").resolve())]
    assert "source reproduce/0.9.0rc1/venv/bin/activate" in done.stdout
    assert f"-Dmaven.repo.local={(into / 'maven').resolve()}" in done.stdout
    assert f"windmill at {world.commit[:12]}" in done.stdout

    seen_index, seen_files = len(world.index.requests_seen), len(world.files.requests_seen)
    again = world.run("reproduce", RC1)
    assert again.returncode == 0, again.stderr
    assert len(world.index.requests_seen) == seen_index and len(world.files.requests_seen) == seen_files
    assert "0 files downloaded" in again.stdout and "reused" in again.stdout and "(kept)" in again.stdout
    assert tree(into) == world.expected(into)


def test_upstream_tampering_is_refused_by_name_and_leaves_no_file(world: World, tmp_path: Path) -> None:
    world.files.put("tz/tzdata-latest.tar.gz", b"tzdata 2024b, same name\n")
    world.index.remove("beta-1.0-py3-none-any.whl")
    (tmp_path / "evil").mkdir()
    evil = build_wheel(tmp_path / "evil", "beta", "1.0", files={"beta/evil.py": "print('hi')\n"})
    world.index.add(evil, uploaded=days(1))
    into = tmp_path / "out"

    done = world.run("reproduce", RC1, "--into", str(into))
    assert done.returncode == 3, done.stderr
    assert "tzdata-latest.tar.gz" in done.stderr and "beta-1.0-py3-none-any.whl" in done.stderr
    assert "refused" in done.stderr and "--from-bundle" in done.stderr
    assert not (into / "artifacts" / "tzdata-latest.tar.gz").exists()
    assert not (into / "cache" / "python" / "beta-1.0-py3-none-any.whl").exists()
    assert not (into / "venv").exists()
    assert [p.name for p in into.rglob(".*") if p.name != reproducing.MARKER] == []  # no partial leftovers


def test_a_download_cut_off_midway_leaves_no_file(world: World, tmp_path: Path) -> None:
    payload = b"x" * 200_000
    with _CutOffServer(len(payload), payload[:50_000]) as url:
        art = Artifact("big.tar.gz", url, sha(payload), len(payload))
        lock = replace(world.lock, pins=(Pin("artifact", "big", art.sha256, url, url, None, (art,)),))
        write_record(world.project.root, "0.9.0rc7", lock)
        into = tmp_path / "cut"
        with pytest.raises(UpstreamError, match="big.tar.gz"):
            reproducing.reproduce(world.project.config(), "0.9.0rc7", into)
    assert list((into / "artifacts").iterdir()) == []


def test_a_path_trick_in_a_record_is_refused_before_anything_is_written(world: World, tmp_path: Path) -> None:
    art = Artifact("../../escaped.txt", world.files.put("x", b"x"), sha(b"x"), 1)
    lock = replace(world.lock, pins=(Pin("artifact", "x", art.sha256, art.url, art.url, None, (art,)),))
    write_record(world.project.root, "0.9.0rc8", lock)
    done = world.run("reproduce", "0.9.0rc8", "--into", str(tmp_path / "trick" / "in"))
    assert done.returncode == 2 and "not a plain file name" in done.stderr
    assert not (tmp_path / "trick").exists()


def test_unknown_rc_lists_the_recorded_ones_and_a_tampered_record_is_refused(world: World) -> None:
    done = world.run("reproduce", "0.9.0rc9")
    assert done.returncode == 2 and RC1 in done.stderr and "0.9.0rc9" in done.stderr
    assert world.run("diff", RC1, "0.9.0rc9").returncode == 2

    lock_copy = world.project.root / "releases" / RC1 / "release.lock"
    lock_copy.write_text(lock_copy.read_text().replace('version = "1.0"', 'version = "2.0"', 1))
    for args in (("reproduce", RC1), ("bundle", RC1), ("diff", RC1, RC1)):
        done = world.run(*args)
        assert done.returncode == 1, (args, done.stderr)
        assert "does not match its copy of the lock" in done.stderr
    assert not (world.project.root / "reproduce").exists()


def test_bundle_then_reproduce_offline_after_upstream_is_gone(world: World, tmp_path: Path) -> None:
    done = world.run("bundle", RC1)
    assert done.returncode == 0, done.stderr
    root = world.project.root / "dist" / RC1 / "bundle"
    index = json.loads((root / "bundle.json").read_text())
    assert index["rc"] == RC1 and index["schema"] == 1
    python = {a.name for p in world.lock.of_kind("python") for a in p.artifacts}
    assert {f"python/{n}" for n in python} <= set(index["files"])  # every platform's file, the sdist too
    assert len(python) == 4 and "git/windmill.bundle" in index["files"]
    for rel, digest in index["files"].items():
        assert file_sha(root / rel) == digest
    again = world.run("bundle", RC1)  # verified, nothing fetched again
    assert again.returncode == 0 and "0 downloaded" in again.stdout and "windmill (kept)" in again.stdout

    world.index.stop()
    world.files.stop()
    world.repo.path.rename(tmp_path / "gone")
    into = tmp_path / "offline"
    done = world.run("reproduce", RC1, "--into", str(into), "--from-bundle", str(root))
    assert done.returncode == 0, done.stderr
    assert "copied from the bundle" in done.stdout
    assert tree(into) == world.expected(into)
    assert {k.lower(): v for k, v in installed(into).items()} == {"alpha": "1.0", "beta": "1.0"}
    assert head(into / "git" / "windmill") == world.commit

    (root / "artifacts" / "tzdata-latest.tar.gz").write_bytes(b"altered\n")
    done = world.run("reproduce", RC1, "--into", str(tmp_path / "again"), "--from-bundle", str(root))
    assert done.returncode == 1 and "tzdata-latest.tar.gz" in done.stderr


def test_diff_between_two_rcs_and_two_lockfiles(world: World, tmp_path: Path) -> None:
    python_lock = locking.lock(world.project.config(), as_of=days(40), upgrade_all=True).lock  # beta 2.0
    commit2 = world.repo.commit({"README": "windmill 2\n"}, when=days(35))
    build = "1.0-20240201.080000-4"
    snap = (serve(world.files, f"{SNAP}/lib-{build}.jar", b"lib build 4\n", 31),)
    old = {(p.kind, p.name): p for p in world.lock.pins}
    pins = python_lock.pins + (
        replace(old[("maven", "org.acme:lib")], version=build, date=days(31), artifacts=snap),
        old[("maven", "org.acme:tools:zip:dist")],
        replace(old[("git", "windmill")], version=commit2, date=days(35)),
    )
    lock2 = replace(python_lock, pins=pins)  # tzdata removed
    write_record(world.project.root, RC2, lock2)

    done = world.run("diff", RC1, RC2)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{RC1} -> {RC2}: 3 changed, 0 added, 1 removed, 2 unchanged"
    assert re.search(r"^python\s+beta\s+1\.0 \(2024-01-02\) -> 2\.0 \(2024-01-31\)$", done.stdout, re.M)
    assert re.search(r"^maven\s+org\.acme:lib\s+1\.0-20240105\.120000-3 \(2024-01-05\) -> 1\.0-20240201\.080000-4 \(2024-02-01\)$", done.stdout, re.M)
    assert re.search(rf"^git\s+windmill\s+{world.commit[:12]} \(2024-01-04\) -> {commit2[:12]} \(2024-02-05\)$", done.stdout, re.M)
    assert re.search(r"^artifact\s+tzdata\s+removed sha256:[0-9a-f]{12} \(2024-01-03\)$", done.stdout, re.M)
    assert [line.split()[0] for line in lines[1:]] == ["python", "maven", "git", "artifact"]  # grouped by kind

    as_json = world.run("diff", "--json", RC1, RC2)
    assert as_json.returncode == 0
    document = json.loads(as_json.stdout)
    assert document["schema"] == 1 and document["from"]["type"] == "rc" and document["from"]["ref"] == RC1
    assert document["summary"] == {"added": 0, "removed": 1, "changed": 3, "unchanged": 2}
    beta = next(c for c in document["changes"] if c["name"] == "beta")
    assert beta["kind"] == "python" and beta["change"] == "changed" and "version" in beta["fields"]
    assert (beta["from"]["version"], beta["to"]["version"]) == ("1.0", "2.0")
    assert beta["to"]["date"] == "2024-01-31T00:00:00Z"
    tz = next(c for c in document["changes"] if c["name"] == "tzdata")
    assert tz["change"] == "removed" and tz["to"] is None

    one, two = tmp_path / "one.lock", tmp_path / "two.lock"
    one.write_text(lockfile.dumps(world.lock))
    two.write_text(lockfile.dumps(lock2))
    files = world.run("diff", "--json", str(two), str(one))
    assert files.returncode == 0, files.stderr
    reverse = json.loads(files.stdout)
    assert reverse["from"]["type"] == "lockfile" and reverse["summary"] == {"added": 1, "removed": 0, "changed": 3, "unchanged": 2}
    same = world.run("diff", str(one), RC1)
    assert same.returncode == 0 and "no changes" in same.stdout


def test_cut_bundle_then_reproduce_the_cut_rc_offline(populated: PackageIndex, make_project: Callable[..., Project], tmp_path: Path) -> None:
    """End to end with a record written by the real `releaser cut --bundle`."""
    project = make_project(populated.url)
    project.write(".gitignore", "/dist/\n/reproduce/\n")
    locking.lock(project.config())
    env = {
        "GIT_CONFIG_GLOBAL": str(tmp_path / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
        **{f"GIT_{who}_{key}": value for who in ("AUTHOR", "COMMITTER") for key, value in (("NAME", "RE"), ("EMAIL", "re@example.org"))},
    }
    for args in (["init", "-q", "--initial-branch=main"], ["add", "-A"], ["commit", "-q", "-m", "locked"]):
        subprocess.run(["git", *args], cwd=project.root, env={**os.environ, **env}, check=True, capture_output=True)
    done = project.releaser("cut", "--bundle", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"bundled {RC1}" in done.stdout
    populated.stop()
    done = project.releaser("reproduce", RC1, "--from-bundle", f"dist/{RC1}/bundle", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note:" not in done.stderr  # reproduce/ is ignored: the tree stays clean for the next cut
    assert {k.lower(): v for k, v in installed(project.root / "reproduce" / RC1).items()} == {"alpha": "1.0", "beta": "2.0"}


class _CutOffServer:
    """Answers any GET with a Content-Length of `size`, sends `part` of it, then hangs up."""

    def __init__(self, size: int, part: bytes) -> None:
        self.size, self.part = size, part
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {self.size}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
                    + self.part
                )

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/big.tar.gz"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
