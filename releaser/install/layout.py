"""Which of a record's files are wanted, and where each goes in a reproduction or a bundle.

Every name comes from a record, so every one is checked to be a plain path
segment before anything is written (a path trick is refused, exit 2). The tree
(docs/reproduce.md):

    python/<file>                           the Python files (a reproduction: only this interpreter's)
    maven/<g/r/o/u/p>/<artifact>/<baseVersion>/<file>   a Maven repository's layout
    artifacts/<file>, artifacts/<pin>/<file>            URL artifacts (the latter when names collide)

A reproduction needs one Python file per pin, the one pip would choose here
(`files_for_here`); a bundle holds every recorded file, for every platform
(`every_file`). git pins have no files; their commits are checked here all the same.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.install.fetch import PinnedFile
from releaser.plumbing.fsutil import sha256_of

# A Maven timestamped SNAPSHOT build: 1.0-20071115.230503-12 lives in 1.0-SNAPSHOT/.
_BUILD = re.compile(r"^(?P<base>.+)-(?P<stamp>\d{8}\.\d{6})-(?P<number>\d+)$")
_PLAIN = re.compile(r"^[A-Za-z0-9_+~][A-Za-z0-9_.+~%=,@-]*$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")

DIST = "dist"  # dist/<rc>/: what a cut builds, and what it builds with
DEPS = "deps"  # dist/<rc>/deps/<kind>/<file>: the locked Maven and URL files
BUNDLE = "bundle"  # dist/<rc>/bundle/: written by `releaser bundle`, not a built file


def plain(name: str, what: str) -> str:
    """`name` when it can be one path segment; a path trick is refused (exit 2)."""
    if not name or name in (".", "..") or ".." in name or not _PLAIN.match(name):
        raise ConfigError(f"{what}: {name[:80]!r} is not a plain file name; refusing it (path trick?)")
    return name


def short_version(pin: Pin) -> str:
    """A pin's version as people read it: a commit or a sha256 shortened."""
    if pin.kind == "git":
        return pin.version[:12]
    if pin.kind == "artifact" and re.fullmatch(r"[0-9a-f]{64}", pin.version):
        return "sha256:" + pin.version[:12]
    return pin.version


def commit_of(pin: Pin) -> str:
    """A git pin's recorded commit, which must be a full commit id."""
    if not _COMMIT.match(pin.version):
        raise ConfigError(f"git {pin.name}: the record's version {pin.version[:80]!r} is not a full commit id")
    return pin.version


# -- Maven ------------------------------------------------------------------------


def maven_parts(pin: Pin) -> tuple[list[str], str, str]:
    """(group path segments, artifact id, base version) of a Maven pin, each checked."""
    what = f"maven {pin.name}"
    fields = pin.name.split(":")
    if not 2 <= len(fields) <= 4:
        raise ConfigError(f"{what}: the record's name is not group:artifact[:extension[:classifier]]")
    group = [plain(part, what) for part in fields[0].split(".")]
    artifact = plain(fields[1], what)
    match = _BUILD.match(pin.version)
    base = match["base"] + "-SNAPSHOT" if match else pin.version
    return group, artifact, plain(base, what)


def maven_rel(pin: Pin, artifact: Artifact) -> PurePosixPath:
    group, artifact_id, base = maven_parts(pin)
    return PurePosixPath("maven", *group, artifact_id, base, plain(artifact.name, f"maven {pin.name}"))


def snapshot_aliases(maven: list[tuple[PinnedFile, Path]]) -> None:
    """Next to a timestamped SNAPSHOT file, the same bytes under its -SNAPSHOT name, as a local
    repository holds a snapshot, so a build asking for 1.0-SNAPSHOT finds it offline."""
    for item, path in maven:
        match = _BUILD.match(item.pin.version)
        if not match or item.pin.version not in item.artifact.name:
            continue
        alias = path.with_name(item.artifact.name.replace(item.pin.version, match["base"] + "-SNAPSHOT", 1))
        if alias.is_file() and sha256_of(alias) == (item.artifact.sha256, item.artifact.size):
            continue
        tmp = alias.with_name(f".{alias.name}.unverified")
        tmp.unlink(missing_ok=True)
        shutil.copyfile(path, tmp)
        os.replace(tmp, alias)


# -- which files, where ------------------------------------------------------------


def artifact_rels(pins: Iterable[Pin]) -> dict[tuple[str, str], PurePosixPath]:
    """(pin name, file name) -> artifacts/<file>; files whose names collide go under artifacts/<pin>/."""
    files = [(p, a) for p in pins for a in p.artifacts]
    counts: dict[str, set[str]] = {}
    for pin, art in files:
        counts.setdefault(plain(art.name, f"artifact {pin.name}"), set()).add(art.sha256)
    rels = {}
    for pin, art in files:
        if len(counts[art.name]) > 1:
            rels[(pin.name, art.name)] = PurePosixPath("artifacts", plain(pin.name, f"artifact {pin.name}"), art.name)
        else:
            rels[(pin.name, art.name)] = PurePosixPath("artifacts", art.name)
    return rels


def every_file(lock: Lock) -> list[PinnedFile]:
    """Every recorded file of every pin (git has none), and of every build pin, as a bundle holds them."""
    found = _files(lock, lambda pin: list(pin.artifacts))
    for pin in lock.of_kind("python"):
        for b in pin.build:
            for art in b.artifacts:
                found.append(PinnedFile(b, art, build_rel(art.name, pin), f"python {pin.name} {pin.version}: build requirement {art.name}"))
    return list({item.rel: item for item in found}.values())


def build_rel(name: str, pin: Pin) -> PurePosixPath:
    """Where a build pin's file goes: python/build/<file>, apart from the set that is installed."""
    return PurePosixPath("python", "build", plain(name, f"python {pin.name} build requirement"))


def python_files_here(lock: Lock) -> list[PinnedFile]:
    """The file pip would install here of each Python pin `lock` needs here (`for_here`), at python/<file>.

    A pin of a git repository has none: its commit is its hash.
    """
    return [python_file(p, choose_python_file(p)) for p in for_here(lock).of_kind("python") if p.artifacts]


def python_file(pin: Pin, art: Artifact) -> PinnedFile:
    return PinnedFile(pin, art, PurePosixPath("python", plain(art.name, f"python {pin.name}")), f"python {pin.name} {pin.version}: {art.name}")


def files_for_here(lock: Lock) -> list[PinnedFile]:
    """What a reproduction on this interpreter needs: one Python file per pin it needs, every other file.

    Refused (exit 1) on an interpreter that is none of the lock's environments.
    """
    return _files(for_here(lock, "the record"), lambda pin: [choose_python_file(pin)] if pin.kind == "python" else list(pin.artifacts))


def for_here(lock: Lock, what: str = "the lock") -> Lock:
    """`lock` with only the pins (and build pins) the running interpreter needs: a pin for another
    target may have no file for it. Refused (exit 1) on an interpreter none of its environments covers."""
    from dataclasses import replace

    from releaser.core.targets import any_covers, here, marker_targets

    if not lock.environments:
        return lock
    if not any_covers(lock.environments):
        raise Refused(
            f"this interpreter ({here().marker}) is not one of the environments {what} covers: "
            + "; ".join(lock.environments)
        )
    def needed_here(pin: Pin) -> bool:
        return pin.marker is None or any_covers(tuple(marker_targets(pin.marker, lock.environments)))

    # A build pin made for other targets is not this interpreter's either.
    needed = [replace(p, build=tuple(b for b in p.build if needed_here(b))) for p in lock.pins if needed_here(p)]
    return replace(lock, pins=tuple(needed))


def _files(lock: Lock, select: Callable[[Pin], list[Artifact]]) -> list[PinnedFile]:
    rels = artifact_rels(lock.of_kind("artifact"))
    placed = []
    for pin in lock.pins:
        if pin.kind == "git":
            commit_of(pin)
            plain(pin.name, f"git {pin.name}")
            continue
        if pin.kind not in ("python", "maven", "artifact"):
            continue
        if not pin.artifacts:
            raise Refused(f"{pin.kind} {pin.name} {pin.version}: the record holds no file of it, so it cannot be reproduced")
        for art in select(pin):
            if pin.kind == "python":
                placed.append(python_file(pin, art))
            else:
                rel = maven_rel(pin, art) if pin.kind == "maven" else rels[(pin.name, art.name)]
                placed.append(PinnedFile(pin, art, rel, f"{pin.kind} {pin.name} {short_version(pin)}: {art.name}"))
    seen: dict[PurePosixPath, str] = {}
    for item in placed:
        if seen.setdefault(item.rel, item.artifact.sha256) != item.artifact.sha256:
            raise ConfigError(f"{item.rel}: the record names two different files for this path")
    return list({item.rel: item for item in placed}.values())


# -- the Python file for this interpreter ---------------------------------------------


def choose_python_file(pin: Pin) -> Artifact:
    """The file pip would pick here: the wheel whose tag this interpreter prefers most, else the sdist."""
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    from releaser.ecosystems.python.tags import tags_of

    priority = tags_of(None)
    best: tuple[int, str] | None = None
    chosen: Artifact | None = None
    sdist: Artifact | None = None
    for art in pin.artifacts:
        if art.name.endswith(".whl"):
            try:
                tags = parse_wheel_filename(art.name)[3]
            except InvalidWheelFilename:
                continue
            rank = min((priority[t] for t in tags if t in priority), default=None)
            if rank is not None and (best is None or (rank, art.name) < best):
                best, chosen = (rank, art.name), art
        elif sdist is None or art.name < sdist.name:
            try:
                parse_sdist_filename(art.name)
            except InvalidSdistFilename:
                continue
            sdist = art
    found = chosen or sdist
    if found is None:
        names = ", ".join(sorted(a.name for a in pin.artifacts))
        raise Refused(
            f"python {pin.name} {pin.version}: none of the recorded files installs on this interpreter "
            f"({sys.implementation.name} {sys.version.split()[0]}, {sys.platform}): {names}"
        )
    return found


def expand(argv: tuple[str, ...], *, rc: str, dist: Path, files: dict[str, Path] | None = None) -> list[str]:
    """A command with `{dist}` (the RC's dist folder, with a final separator) and `{rc}` replaced, and
    each of `files` (`{dockerfile}`: the pinned copy of the Dockerfile) by its path."""
    out = []
    for arg in argv:
        for name, path in (files or {}).items():
            arg = arg.replace("{" + name + "}", str(path))
        out.append(arg.replace("{dist}", str(dist) + os.sep).replace("{rc}", rc))
    return out
