"""Where a path leads: nothing is read or written through a symlink that leaves the project.

A commit can carry symlinks: a migration file linked to `/dev/zero`, a records or
reproduction folder linked to a folder elsewhere. Whatever releaser reads from the
project or writes into it goes through `confined` (and reads through `read_input`):
a path that leads outside its root, a device, a FIFO or a socket, or a file larger
than any real input, is refused with one line naming it (exit 2).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from releaser.core.errors import ConfigError

MAX_INPUT_BYTES = 64 * 1024 * 1024  # a project file releaser reads: far beyond any real migration or manifest


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, every symlink resolved, is `root` or below it: input may not lead outside the project."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False
    return True


_PLAIN = re.compile(r"^[A-Za-z0-9_+~][A-Za-z0-9_.+~%=,@-]*$")


def plain(name: str, what: str) -> str:
    """`name` when it can be one path segment; a path trick is refused (exit 2).

    Every file name a record or a lock gives is checked with it before anything is written.
    """
    from releaser.core.errors import ConfigError

    if not name or name in (".", "..") or ".." in name or not _PLAIN.match(name):
        raise ConfigError(f"{what}: {name[:80]!r} is not a plain file name; refusing it (path trick?)")
    return name
def confined(root: Path, path: Path) -> Path:
    """`path`, refused (ConfigError) when it or a folder on its way is a symlink leading outside `root`."""
    if not inside(root, path):
        raise ConfigError(
            f"{_shown(root, path)}: a symlink leads outside {root}; releaser reads and writes nothing through it"
        )
    return path


def confined_output(project: Path, folder: Path, paths: Iterable[Path] = ()) -> None:
    """Refuse writing under `folder` when a symlink leads a path of it elsewhere: `folder` itself out of
    the project (when it lies in it; a folder the user names outside is theirs), any of `paths` (what
    will be written there, existing or not) or any entry already in `folder` out of `folder`."""
    folder = folder.absolute()
    if _lexically_inside(project, folder):
        confined(project, folder)
    for path in [*paths, *(folder.iterdir() if folder.is_dir() else ())]:
        confined(folder, path)


def read_input(root: Path, path: str | Path, *, cap: int = MAX_INPUT_BYTES, folder_checked: bool = False) -> bytes:
    """The bytes of the regular file `path`, inside `root`, of at most `cap` bytes; anything else is refused.

    `folder_checked`: its folder is known to be inside `root` (walked without following links),
    so only the file itself, when a symlink, needs resolving: reading 1,000 migrations stays cheap.
    """
    if not folder_checked or os.path.islink(path):
        confined(root, Path(path))
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer (it is refused just below).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ConfigError(f"{_shown(root, path)}: cannot be read: {exc.strerror}") from None
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            raise ConfigError(f"{_shown(root, path)}: is not a regular file (a device, FIFO or socket); refused")
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(1 << 20, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            raise ConfigError(f"{_shown(root, path)}: is larger than {cap >> 20} MiB, more than any real input; refused")
        return b"".join(chunks)
    except OSError as exc:
        raise ConfigError(f"{_shown(root, path)}: cannot be read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _lexically_inside(root: Path, path: Path) -> bool:
    return path.absolute().is_relative_to(root.absolute())


def _shown(root: Path, path: str | Path) -> str:
    try:
        return Path(path).absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        return str(path)
