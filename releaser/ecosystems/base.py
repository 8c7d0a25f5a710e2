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
    from releaser.core.config import ReleaseConfig
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
    notes: list[str] = field(default_factory=list)  # how the pins were made, worth a line (a build backend's warnings)


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

    def uncovered(self, pinned: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """(where, message) for each input the lock's pins (`(kind, name)`) leave floating, for
        `releaser check`; the default: none beyond what `releaser.lock.soundness` finds itself."""
        return []

    # `releaser export --format F` for each F here writes this source's input files with their pins.
    export_formats: ClassVar[tuple[str, ...]] = ()

    def pinned_files(self, fmt: str, pins: tuple[Pin, ...]) -> dict[Path, str]:
        """Each input file of export format `fmt`, as text, with `pins` written into it (offline)."""
        return {}

    def cut_inputs(self, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, Path]:
        """Before an RC is built: check upstream still serves `pins` as locked (Refused if not), write
        what the build reads of them under `folder`, and return the `{placeholder}`s of build commands
        that name those files. The default: nothing to write."""
        return {}

    @classmethod
    def bundle_pins(cls, config: ReleaseConfig, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, str]:
        """`releaser bundle`, for a kind the generic bundle does not store: its pins' bytes under `folder`;
        each file written (relative to `folder`) -> its sha256."""
        return {}

    @classmethod
    def restore_pins(
        cls, config: ReleaseConfig, pins: tuple[Pin, ...], into: Path, bundle: Path | None, http: Http | None,
        push: str | None = None,
    ) -> list[str]:
        """`releaser reproduce`, for such a kind: its pins under `into`, from `bundle` (what `bundle_pins`
        wrote) or upstream, verified; lines saying what was done."""
        return []

    @staticmethod
    def purl(pin: Pin) -> object | None:
        """The pin's package URL (a `packageurl.PackageURL`) when this kind has its own purl type."""
        return None

    @staticmethod
    def floats(pin: Pin) -> str | None:
        """Why one of this kind's pins is not exact, or None; `releaser.lock.soundness` asks
        kinds it has no rule of its own for."""
        return None

    def verify(self, pins: tuple[Pin, ...], http: Http, targets: tuple[str, ...] = ()) -> list[Finding] | None:
        """`releaser check --online`: is each of this source's pins still what upstream serves?

        `targets`: the lock's Python targets (`Lock.targets`), for a kind whose releases
        install on some of them only (a newer one is news only where it installs).
        Return findings (gone, hash-changed, yanked: failures; newer: information),
        or None to let `releaser.check.checking` verify generically: every artifact URL must
        still answer with the recorded sha256, every git commit must still exist.
        """
        return None
