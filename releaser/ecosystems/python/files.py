"""Which of a Python pin's recorded files a machine uses, and where build pins' files go.

A reproduction needs one file per pin, the one pip would choose on this
interpreter; a bundle holds every recorded file, for every platform, and the
files of each pin's build requirements apart from the set that is installed.
"""

from __future__ import annotations

import sys
from pathlib import PurePosixPath

from releaser.core.errors import Refused
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.core.paths import plain

FOLDER = "python"


def build_rel(name: str, pin: Pin) -> PurePosixPath:
    """Where a build pin's file goes: python/build/<file>, apart from the set that is installed."""
    return PurePosixPath(FOLDER, "build", plain(name, f"python {pin.name} build requirement"))


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
