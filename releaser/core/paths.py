"""Where a path leads: input may not lead outside the project."""

from __future__ import annotations

from pathlib import Path


def inside(root: Path, path: Path) -> bool:
    """Whether `path`, every symlink resolved, is `root` or below it: input may not lead outside the project."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False
    return True
