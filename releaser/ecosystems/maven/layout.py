"""Where a Maven pin's files go: a local repository's layout, as `mvn -o` reads it.

    maven/<g/r/o/u/p>/<artifact>/<baseVersion>/<file>

Every segment comes from a record, so each is checked to be a plain path segment.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from releaser.core.errors import ConfigError
from releaser.core.lockfile import Artifact, Pin
from releaser.core.paths import plain
from releaser.plumbing.fetch import PinnedFile
from releaser.plumbing.fsutil import sha256_of

# A Maven timestamped SNAPSHOT build: 1.0-20071115.230503-12 lives in 1.0-SNAPSHOT/.
_BUILD = re.compile(r"^(?P<base>.+)-(?P<stamp>\d{8}\.\d{6})-(?P<number>\d+)$")


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


def snapshot_aliases(maven: Iterable[tuple[PinnedFile, Path]]) -> None:
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
