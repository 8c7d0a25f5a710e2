"""What releaser's caches hold and no run has used for `UNUSED_DAYS` days, removed.

The caches of verified files and of index pages would otherwise grow with every lock and
cut for as long as a machine is used (the kept venvs are pruned by count: keptvenv.py).
A run marks each entry it uses (its mtime); at most once a day, a run removes the entries
of a cache that none marked for `UNUSED_DAYS` days. An entry removed is fetched again
when it is next needed, as after deleting the folder by hand, which stays safe.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

UNUSED_DAYS = 30
DAY = 86_400
STAMP = ".pruned"  # its mtime: when the folder was last pruned
KEPT = {STAMP, ".lock"}  # never pruned: a lock file another process may be waiting on


def mark_used(path: Path) -> None:
    """`path` was used now: it is kept another `UNUSED_DAYS` days. A cache that cannot be marked is no error."""
    try:
        os.utime(path, follow_symlinks=False)  # never a file a planted link points at
    except OSError:
        pass


def prune_unused(folder: Path, *, days: int = UNUSED_DAYS, now: float | None = None) -> list[str]:
    """Remove each entry (file or folder) directly in `folder` not marked used for `days` days, unless
    the folder was pruned less than a day ago; the names removed. Failing to remove one is no error."""
    now = time.time() if now is None else now
    stamp = folder / STAMP
    try:
        if now - stamp.stat().st_mtime < DAY:
            return []
    except OSError:
        pass  # never pruned
    try:
        os.close(os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        os.utime(stamp, (now, now), follow_symlinks=False)
        entries = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for entry in entries:
        try:
            if entry.name in KEPT or now - entry.stat(follow_symlinks=False).st_mtime < days * DAY:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return removed
