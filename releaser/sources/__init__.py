"""The ecosystems releaser pins: one `Source` per kind of input in release.toml."""

from __future__ import annotations

from releaser.core.config import ReleaseConfig
from releaser.sources.base import LockRequest, Source

__all__ = ["LockRequest", "Source", "sources_for"]


def sources_for(config: ReleaseConfig) -> list[Source]:
    """The sources release.toml configures, in the lock's order."""
    found: list[Source] = []
    if config.python is not None:
        from releaser.sources.python import PythonSource

        found.append(PythonSource(config.root, config.python))
    if config.maven:
        from releaser.sources.maven import MavenSource

        found.append(MavenSource(config.path, config.maven))  # one source for every [[maven]] table
    if config.git:
        from releaser.sources.git import GitSource

        found.append(GitSource(config.git))
    if config.artifacts:
        from releaser.sources.url import UrlSource

        found.append(UrlSource(config.artifacts))
    return found
