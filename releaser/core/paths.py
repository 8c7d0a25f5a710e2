"""Where a path leads: input may not lead outside the project."""

from __future__ import annotations

import re
from pathlib import Path


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
