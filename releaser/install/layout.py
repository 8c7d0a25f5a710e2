"""Which of a record's files are wanted, and where each goes in a reproduction or a bundle.

Every name comes from a record, so every one is checked to be a plain path
segment before anything is written (a path trick is refused, exit 2). Each kind
places its own files (`Ecosystem.files`) under its folder (docs/reproduce.md):

    python/<file>                           the Python files (a reproduction: only this interpreter's)
    maven/<g/r/o/u/p>/<artifact>/<baseVersion>/<file>   a Maven repository's layout
    artifacts/<file>, artifacts/<pin>/<file>            URL artifacts (the latter when names collide)

A reproduction needs one Python file per pin, the one pip would choose here
(`files_for_here`); a bundle holds every recorded file, for every platform
(`every_file`). git pins have no files; their commits are checked here all the same.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from releaser.core.errors import ConfigError
from releaser.core.kinds import KINDS
from releaser.core.lockfile import Lock, Pin
from releaser.core.paths import plain
from releaser.ecosystems import ecosystem
from releaser.ecosystems.base import Role
from releaser.ecosystems.python.files import for_here
from releaser.plumbing.fetch import PinnedFile

__all__ = ["BUNDLE", "DEPS", "DIST", "checkout_of", "every_file", "expand", "files_for_here", "folder_of", "of_role", "plain"]

DIST = "dist"  # dist/<rc>/: what a cut builds, and what it builds with
DEPS = "deps"  # dist/<rc>/deps/<kind>/<file>: the locked files a build reads from disk
BUNDLE = "bundle"  # dist/<rc>/bundle/: written by `releaser bundle`, not a built file


def every_file(lock: Lock) -> list[PinnedFile]:
    """Every recorded file of every pin (git has none), and what building them needs, as a bundle holds them."""
    found = _files(lock, here=False)
    found += [item for kind in KINDS for item in ecosystem(kind).build_files(lock)]
    return list({item.rel: item for item in found}.values())


def files_for_here(lock: Lock) -> list[PinnedFile]:
    """What a reproduction on this interpreter needs: one Python file per pin it needs, every other file.

    Refused (exit 1) on an interpreter that is none of the lock's environments.
    """
    return _files(for_here(lock, "the record"), here=True)


def _files(lock: Lock, *, here: bool) -> list[PinnedFile]:
    placed = [item for kind in KINDS for item in ecosystem(kind).files(lock.of_kind(kind), here=here)]
    seen: dict[PurePosixPath, str] = {}
    for item in placed:
        if seen.setdefault(item.rel, item.artifact.sha256) != item.artifact.sha256:
            raise ConfigError(f"{item.rel}: the record names two different files for this path")
    return list({item.rel: item for item in placed}.values())


def of_role(lock: Lock, role: Role) -> list[Pin]:
    """The pins of every kind whose files are used so (`Ecosystem.role`), in the lock's order."""
    return [pin for kind in KINDS if ecosystem(kind).role == role for pin in lock.of_kind(kind)]


def folder_of(pin: Pin) -> str:
    """The folder of a pin's kind in a reproduction or a bundle (`git`, `maven`, ...)."""
    return ecosystem(pin.kind).folder


def expand(argv: tuple[str, ...], *, rc: str, dist: Path, files: dict[str, Path] | None = None) -> list[str]:
    """A command with `{dist}` (the RC's dist folder, with a final separator) and `{rc}` replaced, and
    each of `files` (`{dockerfile}`: the pinned copy of the Dockerfile) by its path."""
    out = []
    for arg in argv:
        for name, path in (files or {}).items():
            arg = arg.replace("{" + name + "}", str(path))
        out.append(arg.replace("{dist}", str(dist) + os.sep).replace("{rc}", rc))
    return out


def checkout_of(pin: Pin) -> str:
    """A checkout pin's folder (and `.bundle` file) name inside its kind's folder, checked plain."""
    return plain(ecosystem(pin.kind).checkout_name(pin), f"{pin.kind} {pin.name}")
