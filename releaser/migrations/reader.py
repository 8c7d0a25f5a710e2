"""What every migration framework's reader implements, and the registry of them by framework name.

A reader reads the migration files `[migrations] paths` name (their bytes, from disk or
from a commit: `releaser.migrations.loader`) statically, never importing the project,
and returns the graph (`releaser.migrations.graph`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from releaser.core.migration_config import MigrationSettings
    from releaser.migrations.graph import Graph
    from releaser.migrations.pysource import Source


class MigrationReader(ABC):
    """One framework `[migrations] framework` may name."""

    framework: ClassVar[str]  # as release.toml names it
    recursive: ClassVar[bool] = False  # reads its folders' subfolders too (Flyway's locations)

    @abstractmethod
    def read(self, settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
        """The graph of the migration files in `dirs` (folder -> its files)."""
