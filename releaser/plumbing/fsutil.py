"""Files on disk: written so that a failed or killed run leaves the previous bytes in
place, and read back as the sha256 and size that pin them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> bool:
    """Replace `path` with `data` in one step; return False when it already held them.

    The new content goes to a temporary file in the same directory, is flushed to
    disk, then renamed over the old one: a reader sees the old file or the new one,
    never a mix, and an unchanged file keeps its bytes and its mtime.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.read_bytes() == raw:
            return False
    except FileNotFoundError:
        pass
    import tempfile  # not at the top: `releaser check` imports this module and writes nothing

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        write_synced(fd, raw)
        os.chmod(tmp, 0o644)
        fault_point(f"replace:{path.name}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True


def write_synced(target: Path | int, data: bytes) -> None:
    """Write `data` to `target` (a path, or a descriptor open for writing) and flush it to disk."""
    with os.fdopen(target, "wb") if isinstance(target, int) else open(target, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def sha256_of(path: Path) -> tuple[str, int]:
    """(hex sha256, size in bytes) of the file at `path`."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def fault_point(name: str) -> None:
    """Die here, as `kill -9` would, when RELEASER_KILL_AT names this commit point.

    How the tests prove that a kill at any commit point of lock, cut or reproduce
    leaves nothing half-written and nothing the next run trips over.
    """
    if os.environ.get("RELEASER_KILL_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
