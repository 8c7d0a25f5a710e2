"""The ecosystems releaser pins: one `Source` per kind of input in release.toml."""

from __future__ import annotations

from releaser.core.config import ReleaseConfig
from releaser.ecosystems.base import LockRequest, Source

__all__ = ["LockRequest", "Source", "sources_for"]


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
    return found
