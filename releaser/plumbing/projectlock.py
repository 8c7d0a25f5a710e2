"""One writing releaser at a time per project, and what a killed one left behind cleaned up.

`lock`, `cut`, `reproduce` and `bundle` hold the project lock while they run: an
flock(2) on `releaser.lock` in the project's git directory (`.git/`, never in the
work tree, so it cannot make a cut's tree dirty), or in the records folder of a
project outside git. The file records the holder's pid, command and start time
for the message a second releaser shows; the kernel releases the lock when the
holder exits, however it exits, so a lock left by a killed process is stale and
taken over at once. A second command waits up to RELEASER_LOCK_WAIT seconds
(default 5), then refuses with one line (exit 1).

Whoever holds the lock may remove what an interrupted releaser left: the
lockfile's `.release.lock.*.tmp`, the records' `.<rc>.*.partial` folders, and
the private credential files of any releaser that was killed (`privatefiles`).

A killed releaser is simulated with `fsutil.fault_point`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core.errors import ConfigError, Refused
from releaser.plumbing.privatefiles import sweep as sweep_private_files

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig

LOCK_NAME = "releaser.lock"
DEFAULT_WAIT = 5.0
_held: dict[Path, tuple[int, int]] = {}  # lock file -> (descriptor, depth): re-entrant in one process
_guard = threading.Lock()


def lock_path(config: ReleaseConfig) -> Path:
    """Where the project lock lives: the git directory of the project's repository, else the records folder."""
    return in_git_dir(config.root) or config.root / config.release.records / f".{LOCK_NAME}"


def in_git_dir(root: Path) -> Path | None:
    """The project lock's place in the git directory of the repository holding `root`; None outside one."""
    for folder in (root.absolute(), *root.absolute().parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git / LOCK_NAME
        if dot_git.is_file():  # a linked worktree: "gitdir: <path>"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                return (folder / text.removeprefix("gitdir:").strip()) / LOCK_NAME
    return None


@contextmanager
def hold(config: ReleaseConfig, command: str) -> Iterator[list[str]]:
    """Hold the project lock for `command`; yields notes on leftovers that were cleaned up."""
    path = lock_path(config).absolute()
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield []
        finally:
            with _guard:
                fd, depth = _held[path]
                _held[path] = (fd, depth - 1)
        return
    made = not path.parent.exists()  # a records folder made only to hold the lock goes again
    fd = _acquire(path, command)
    with _guard:
        _held[path] = (fd, 1)
    try:
        yield clean_leftovers(config)
    finally:
        with _guard:
            del _held[path]
        try:
            path.unlink(missing_ok=True)  # before the unlock: a waiter re-checks the inode it locked
            if made:
                path.parent.rmdir()
        except OSError:
            pass
        finally:
            os.close(fd)


def _acquire(path: Path, command: str) -> int:
    wait = _wait()
    give_up = time.monotonic() + wait
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path.parent}: cannot hold the project lock there: {exc.strerror}") from None
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            if time.monotonic() >= give_up:
                raise Refused(
                    f"another releaser is working on this project ({holder}); "
                    f"try again when it has finished (waited {wait:g} s, RELEASER_LOCK_WAIT)"
                ) from None
            time.sleep(0.1)
            continue
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder removed the file as we opened it: lock the new one
            os.close(fd)
            continue
        record = {"pid": os.getpid(), "command": command, "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        return fd


def _holder(fd: int) -> str:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {int(record['pid'])}, `releaser {str(record['command'])[:20]}` since {str(record['since'])[:25]}"
    except (ValueError, KeyError, TypeError, OSError, RecursionError):
        return "starting"


def _wait() -> float:
    text = os.environ.get("RELEASER_LOCK_WAIT")
    if text is None:
        return DEFAULT_WAIT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigError(f"RELEASER_LOCK_WAIT={text[:20]!r}: must be a number of seconds, 0 or more")
    return value


def clean_leftovers(config: ReleaseConfig) -> list[str]:
    """Remove what an interrupted releaser left: the lockfile's temporary files, partial records."""
    notes = []
    lockfile = config.lockfile
    for path in sorted(lockfile.parent.glob(f".{lockfile.name}.*.tmp")):
        path.unlink(missing_ok=True)
        notes.append(f"removed {path.name}, left by an interrupted `releaser lock`")
    records = config.root / config.release.records
    for path in sorted(records.glob(".*.partial")) if records.is_dir() else ():
        shutil.rmtree(path, ignore_errors=True)
        notes.append(f"removed {config.release.records}/{path.name}/, left by an interrupted `releaser cut`")
    for name in sweep_private_files():
        notes.append(f"removed the private credential files of a killed releaser ({name})")
    return notes
