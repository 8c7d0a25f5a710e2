"""The `Source` interface: what every ecosystem (python, maven, git, url) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from releaser.core.lockfile import InputRecord, Pin
from releaser.core.progress import Progress

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.plumbing.http import Http


@dataclass(frozen=True)
class LockRequest:
    """What a source needs to know to pin its inputs."""

    as_of: datetime  # the cut-off: nothing uploaded or built at or after it is pinned
    dated: bool  # True when the user asked for --as-of: insist on dates, filter by them
    previous: tuple[Pin, ...]  # this source's pins in the current lock, kept unless upgraded
    upgrade_all: bool
    upgrade: frozenset[str]  # names to re-resolve (as the source names its pins)
    http: Http
    workdir: Path  # a private temporary directory, removed after the lock
    progress: Progress | None = None  # how far it is, for the command line to show
    warnings: list[str] = field(default_factory=list)  # pinned, but worth a word (a yanked release)


class Source(ABC):
    """One ecosystem's inputs, and how to pin them."""

    kind: ClassVar[str]

    @abstractmethod
    def input_digests(self) -> dict[str, str]:
        """Digest of each input this source reads (offline, fast: `check` calls it)."""

    @abstractmethod
    def lock(self, request: LockRequest) -> list[Pin]:
        """Resolve every input to exact, hashed, dated pins."""

    def resolver(self) -> str | None:
        """The external resolver and its version, for the lock header; None if none."""
        return None

    def source_urls(self) -> tuple[str, ...]:
        """The indexes or repositories consulted, credentials removed, for the header."""
        return ()

    def input_records(self) -> dict[str, InputRecord]:
        """Each input's digest and normalized entries, for the lock header (offline, fast).

        The default records digests only; a source whose inputs have entries worth
        naming (requirements, coordinates) overrides it so `check` can say what changed.
        """
        return {name: InputRecord(digest) for name, digest in self.input_digests().items()}

    def input_paths(self) -> list[Path] | None:
        """Every file the input records are read from besides release.toml, for the check seal
        (`releaser.core.seal`); None when the source cannot say, and then the lock is not sealed."""
        return None

    def verify(self, pins: tuple[Pin, ...], http: Http) -> list[Finding] | None:
        """`releaser check --online`: is each of this source's pins still what upstream serves?

        Return findings (gone, hash-changed, yanked: failures; newer: information),
        or None to let `releaser.check.checking` verify generically: every artifact URL must
        still answer with the recorded sha256, every git commit must still exist.
        """
        return None
