"""The ecosystems releaser pins: one `Source` per kind of input in release.toml."""

from __future__ import annotations

from releaser.core.config import ReleaseConfig
from releaser.ecosystems.base import LockRequest, Source

__all__ = ["LockRequest", "Source", "source_class", "sources_for"]


def source_class(kind: str) -> type[Source] | None:
    """The Source of a kind whose rules live only in its package (imported on demand)."""
    if kind == "image":
        from releaser.ecosystems.containers.source import ContainerSource

        return ContainerSource
    return None


def sources_for(config: ReleaseConfig) -> list[Source]:
    """The sources release.toml configures, in the lock's order."""
    found: list[Source] = []
    if config.python is not None:
        from releaser.ecosystems.python.source import PythonSource

        found.append(PythonSource(config.root, config.python))
    if config.maven:
        from releaser.ecosystems.maven.source import MavenSource

        found.append(MavenSource(config.path, config.maven))  # one source for every [[maven]] table
    if config.git:
        from releaser.ecosystems.git.source import GitSource

        found.append(GitSource(config.git))
    if config.artifacts:
        from releaser.ecosystems.url.source import UrlSource

        found.append(UrlSource(config.artifacts))
    if config.containers is not None and config.containers.files:  # registries only: no images to pin
        from releaser.ecosystems.containers.source import ContainerSource

        found.append(ContainerSource(config.root, config.containers, config.lockfile))
    return found
