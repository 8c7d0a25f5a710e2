"""Files on disk: written so that a failed or killed run leaves the previous bytes in
place, and read back as the sha256 and size that pin them."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
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


def copy_file(path: str, to: str, st: os.stat_result) -> os.stat_result:
    """Copy `path` to the new file `to` in the kernel (its mode and times as `st`); what the source's
    fstat says after the copy, so that a write during it is seen."""
    source = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        sink = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            _send(source, sink, st.st_size)
            os.fchmod(sink, stat.S_IMODE(st.st_mode))
            os.utime(sink, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(sink)
        return os.fstat(source)
    finally:
        os.close(source)


def _send(source: int, sink: int, size: int) -> None:
    """`size` bytes from `source` to `sink`, in the kernel where it can (Linux), else through a buffer."""
    offset = 0
    try:
        while offset < size and (sent := os.sendfile(sink, source, offset, size - offset)):
            offset += sent
    except OSError as exc:
        if offset or exc.errno not in (errno.EINVAL, errno.ENOTSOCK, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
        with open(sink, "wb", closefd=False) as out:
            while block := os.read(source, 1 << 20):
                out.write(block)


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
