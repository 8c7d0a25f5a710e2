"""Maven coordinates as written in release.toml: `group:artifact[:extension[:classifier]]:version`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_VERSION = re.compile(r"^[A-Za-z0-9_.\-\[\](),]+$")


@dataclass(frozen=True, order=True)
class MavenCoordinate:
    group: str
    artifact: str
    version: str
    extension: str = "jar"
    classifier: str = ""

    @classmethod
    def parse(cls, text: str) -> MavenCoordinate:
        """Parse `text`; ValueError says what is wrong with it."""
        parts = text.split(":")
        if not 3 <= len(parts) <= 5:
            raise ValueError(
                f"{text!r} is not group:artifact[:extension[:classifier]]:version"
            )
        *names, version = parts
        group, artifact = names[0], names[1]
        extension = names[2] if len(names) > 2 else "jar"
        classifier = names[3] if len(names) > 3 else ""
        for label, value in (("group", group), ("artifact", artifact), ("extension", extension)):
            if not _PART.match(value):
                raise ValueError(f"{text!r} has a malformed {label} {value!r}")
        if classifier and not _PART.match(classifier):
            raise ValueError(f"{text!r} has a malformed classifier {classifier!r}")
        if not _VERSION.match(version) or ".." in version:
            raise ValueError(f"{text!r} has a malformed version {version!r}")
        if version[0] in "[(" and version[-1] not in "])":
            raise ValueError(f"{text!r} has an unclosed version range {version!r}")
        return cls(group, artifact, version, extension, classifier)

    @property
    def key(self) -> str:
        """group:artifact[:extension[:classifier]], the identity of a pin across relocks."""
        parts = [self.group, self.artifact]
        if self.extension != "jar" or self.classifier:
            parts.append(self.extension)
        if self.classifier:
            parts.append(self.classifier)
        return ":".join(parts)

    @property
    def floats(self) -> bool:
        """True for a version that can change meaning without a commit here."""
        v = self.version
        return v.endswith("-SNAPSHOT") or v in ("LATEST", "RELEASE") or v[0] in "[("

    def __str__(self) -> str:
        return f"{self.key}:{self.version}"
