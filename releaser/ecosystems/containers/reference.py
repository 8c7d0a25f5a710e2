"""Image references as Docker and compose read them: `[registry/]repository[:tag][@sha256:...]`.

The grammar is distribution's (`github.com/distribution/reference`): the first path
component is a registry when it has a `.` or a `:`, or is `localhost`; otherwise the
image is on Docker Hub, whose one-component names live under `library/`. No tag and no
digest means `latest`, as `docker pull` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"  # where docker.io's distribution API answers
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?")


@dataclass(frozen=True)
class ImageRef:
    """One image reference, as written and as the registry API needs it."""

    written: str  # as the Dockerfile or compose file has it (ARGs substituted)
    registry: str  # host[:port] as written (docker.io for Docker Hub)
    repository: str  # library/python for `python`
    tag: str | None
    digest: str | None  # sha256:<hex> when the reference carries one

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def tag_or_latest(self) -> str:
        return self.tag or "latest"

    @property
    def name(self) -> str:
        """The written reference without its digest: what a pin is named by, and the tag a digest is added to."""
        return self.written.split("@", 1)[0]

    @property
    def locator(self) -> str:
        """`registry/repository:tag` in full: the key of the witness log (one tag of one registry)."""
        return f"{self.registry}/{self.repository}:{self.tag_or_latest}"

    def pinned(self, digest: str) -> str:
        """The reference with `digest`, tag kept for the reader: `python:3.12@sha256:...`."""
        return f"{self.name}@{digest}"


def parse(text: str) -> ImageRef:
    """The reference `text`; ValueError saying what is wrong with it."""
    written = text.strip()
    if not written or any(c.isspace() for c in written):
        raise ValueError(f"{text[:80]!r} is not an image reference")
    rest, digest = written, None
    if "@" in rest:
        rest, _, digest = rest.partition("@")
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"{written[:100]!r}: {digest[:80]!r} is not a sha256 digest (sha256: and 64 hex digits)")
    tag = None
    last = rest.rpartition("/")[2]
    if ":" in last:
        rest, _, tag = rest.rpartition(":")
        if not _TAG.fullmatch(tag):
            raise ValueError(f"{written[:100]!r}: {tag[:80]!r} is not a valid tag")
    parts = rest.split("/")
    registry = DOCKER_HUB
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        registry = parts.pop(0)
        if not _HOST.fullmatch(registry):
            raise ValueError(f"{written[:100]!r}: {registry[:80]!r} is not a registry host[:port]")
    if not parts or not all(_COMPONENT.fullmatch(p) for p in parts):
        raise ValueError(f"{written[:100]!r} is not a repository name (lowercase letters, digits, . _ - and /)")
    repository = "/".join(parts)
    if registry == DOCKER_HUB and len(parts) == 1:
        repository = f"library/{repository}"
    if len(repository) > 255:
        raise ValueError(f"{written[:100]!r}: the repository name is longer than 255 characters")
    return ImageRef(written, registry, repository, tag, digest)
