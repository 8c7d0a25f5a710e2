"""What every kind of dependency implements: its `Ecosystem` (what the stages ask of a kind)
and its `Source` (how its inputs are pinned).

A kind is one package under `releaser/ecosystems/` and one line in the registry
(`releaser.core.kinds`); the stages reach it through `releaser.ecosystems.ecosystem(kind)`
and never name it. An ecosystem module imports only `core` at its top: `releaser check`
asks every kind in the lock whether its pins float, and must stay fast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from releaser.core.errors import Refused
from releaser.core.lockfile import Artifact, EntryValue, InputRecord, Lock, Pin
from releaser.core.progress import Progress

if TYPE_CHECKING:
    from releaser.core.config import ConfigReader, KindInputs, ReleaseConfig
    from releaser.core.verdict import Finding
    from releaser.plumbing.fetch import PinnedFile
    from releaser.plumbing.http import Http

# How a kind's files are used once they are on disk, verified (install, reproduce, cut):
# environment: installed into a virtual environment (reproduce: DIR/venv; cut: the build's venv);
# repository: laid out as a repository a build tool reads offline, fetched into deps/<kind>/ for a cut;
# checkout: no files, a clone at the pinned commit; files: plain files, fetched into deps/<kind>/;
# own: no files fetched generically (container images: manifests need their Accept headers), the kind
# keeps its bytes itself (`bundle_pins`, `restore_pins`).
Role = Literal["environment", "repository", "checkout", "files", "own"]


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
    # Kinds besides its own whose pins `lock` returns: those its inputs name and only it can find
    # (a composite action's `docker://` step is known once the action is pinned). Its `LockRequest`
    # then holds their previous pins and upgrades too; a pin another source made first stands.
    also_pins: ClassVar[tuple[str, ...]] = ()

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

    def unchanged_records(self, known: Mapping[str, InputRecord]) -> dict[str, InputRecord] | None:
        """The records in `known` (the lock's), when this source's inputs are byte for byte the ones
        they were made from: `check` then need not parse them. None: parse them (the default)."""
        return None

    def input_paths(self) -> list[Path] | None:
        """Every file the input records are read from besides release.toml, for the check seal
        (`releaser.core.seal`); None when the source cannot say, and then the lock is not sealed."""
        return None

    def verify(self, pins: tuple[Pin, ...], http: Http, targets: tuple[str, ...] = ()) -> list[Finding] | None:
        """`releaser check --online`: is each of this source's pins still what upstream serves?

        `targets`: the lock's Python targets (`Lock.targets`), for a kind whose releases
        install on some of them only (a newer one is news only where it installs).
        Return findings (gone, hash-changed, yanked: failures; newer: information),
        or None to let the ecosystem verify generically (`releaser.ecosystems.upstream`):
        every artifact URL must still answer with the recorded sha256, every git commit must
        still exist.
        """
        return None


class Ecosystem(ABC):
    """A kind of dependency, as the stages see it: one instance per kind, from the registry."""

    kind: ClassVar[str]  # its table in release.toml and in release.lock
    title: ClassVar[str]  # the heading of its pins in a record ("Maven")
    label: ClassVar[str]  # how `check` names one of its release.toml entries ("Maven dependency")
    role: ClassVar[Role]
    folder: ClassVar[str]  # the top folder of its files in a reproduction or a bundle

    # -- release.toml and the lock ----------------------------------------------------

    @abstractmethod
    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> KindInputs | None:
        """This kind's tables of release.toml (`data`: the whole document), every key checked,
        errors naming the file, the key and its line; None when it has none."""

    @abstractmethod
    def source(self, config: ReleaseConfig) -> Source | None:
        """The source of this kind's inputs release.toml configures; None when it configures none."""

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        """This kind's release.toml settings, normalized, credentials removed, as the lock header
        records them (so `check` can say what changed); None when release.toml has none."""
        return None

    def lock_header(self, config: ReleaseConfig) -> dict[str, Any]:
        """Keys this kind adds to the lock's header (Python: its targets)."""
        return {}

    def upgrade_names(self, name: str) -> frozenset[str]:
        """The pin names `--upgrade NAME` may mean in this kind."""
        return frozenset({name})

    # -- check ---------------------------------------------------------------------

    @abstractmethod
    def floats(self, pin: Pin) -> str | None:
        """Why `pin` is not exact (its meaning could change without a commit here), or None.

        Every file already has a valid sha256 when it is asked (`releaser.lock.soundness`)."""

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        """Every direct input of this kind the lock does not pin."""
        return []

    def insist_sources(self, config: ReleaseConfig, lock: Lock) -> None:
        """Refused (exit 1) when the lock's sources of this kind are not the ones release.toml names:
        an export or an install never follows another index than the configured one."""
        return None

    def unlisted(self, config: ReleaseConfig, lock: Lock, lockname: str) -> list[Finding]:
        """The project's dependency files of this kind release.toml does not list, naming what
        the lock does not pin (they would float)."""
        return []

    def notes(self, lock: Lock, lockname: str) -> list[Finding]:
        """Information about how the lock was made worth a word from `check` (never a failure)."""
        return []

    def verify(
        self, config: ReleaseConfig, source: Source | None, pins: tuple[Pin, ...], http: Http,
        userinfo: Mapping[str, str], targets: tuple[str, ...] = (),
    ) -> list[Finding] | None:
        """`check --online`: the source's own verification; None to have every file and commit
        re-checked generically (`releaser.ecosystems.upstream.verify_generic`). `targets`: the
        lock's (`Lock.targets`)."""
        return source.verify(pins, http, targets) if source is not None else None

    # -- how people read a pin ------------------------------------------------------

    def shown_version(self, version: str) -> str:
        """A pin's version as people read it (a commit or a sha256 shortened)."""
        return version

    def commit(self, pin: Pin) -> str | None:
        """The commit a pin was built from, when it names one."""
        return pin.commit

    @abstractmethod
    def purl(self, pin: Pin) -> Any:
        """The pin's package URL (a `packageurl.PackageURL`), for the SBOM."""

    def sbom_group(self, pin: Pin) -> str | None:
        """The SBOM component's group (Maven's groupId); None for kinds without one."""
        return None

    # -- files on disk ---------------------------------------------------------------

    def files(self, pins: Sequence[Pin], *, here: bool) -> list[PinnedFile]:
        """Where each of `pins`' files goes: every file (a bundle) or, `here`, only those the
        running machine uses (a reproduction). A pin the record holds no file of is refused."""
        from releaser.plumbing.fetch import PinnedFile

        placed = []
        for pin in pins:
            if not pin.artifacts:
                raise Refused(f"{pin.kind} {pin.name} {pin.version}: the record holds no file of it, so it cannot be reproduced")
            placed += [
                PinnedFile(pin, a, self.place(pin, a), f"{pin.kind} {pin.name} {self.shown_version(pin.version)}: {a.name}")
                for a in pin.artifacts
            ]
        return placed

    def place(self, pin: Pin, artifact: Artifact) -> PurePosixPath:
        """Where one file of a pin goes (each segment checked with `releaser.core.paths.plain`)."""
        from releaser.core.paths import plain

        return PurePosixPath(self.folder, plain(artifact.name, f"{pin.kind} {pin.name}"))

    def checkout_name(self, pin: Pin) -> str:
        """A checkout pin's folder and bundle name in a reproduction or a bundle (a plain file name)."""
        return pin.name

    def build_files(self, lock: Lock) -> list[PinnedFile]:
        """Files a bundle holds besides the pins' own: what building them needs (Python build pins)."""
        return []

    # -- exports ---------------------------------------------------------------------

    def exports(self) -> Mapping[str, Export]:
        """The formats `releaser export --format` offers for this kind, by name."""
        return {}

    # `releaser export --format F` for each F here writes this kind's input files with their pins.
    file_formats: ClassVar[tuple[str, ...]] = ()

    def pinned_files(self, config: ReleaseConfig, fmt: str, pins: tuple[Pin, ...]) -> dict[Path, str]:
        """Each input file of export format `fmt`, as text, with `pins` (every pin of the lock: a file may
        name other kinds', a workflow's `docker://` step an image) written into it (offline)."""
        return {}

    # -- cut, bundle and reproduce, for a kind of role "own" ----------------------------

    def cut_inputs(self, config: ReleaseConfig, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, Path]:
        """Before an RC is built: check upstream still serves `pins` as locked (Refused if not), write
        what the build reads of them under `folder`, and return the `{placeholder}`s of build commands
        that name those files. The default: nothing to write."""
        return {}

    def bundle_pins(self, config: ReleaseConfig, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, str]:
        """`releaser bundle`: the pins' bytes the generic bundle does not store, under `folder`;
        each file written (relative to `folder`) -> its sha256."""
        return {}

    def restore_pins(
        self, config: ReleaseConfig, pins: tuple[Pin, ...], into: Path, bundle: Path | None, http: Http | None,
        push: str | None = None,
    ) -> list[str]:
        """`releaser reproduce`: what `bundle_pins` stored, under `into`, from `bundle` or upstream,
        verified (with `push`, a registry host[:port], put there too); lines saying what was done."""
        return []


class Export(ABC):
    """One format `releaser export` writes a lock as (pylock.toml, requirements.txt, a Maven POM, ...)."""

    name: ClassVar[str]  # --format NAME
    default_output: ClassVar[str]  # the file it writes without --output

    @abstractmethod
    def render(self, lock: Lock) -> str:
        """The lock as this format's text; ConfigError/Refused when the lock cannot be written so."""
