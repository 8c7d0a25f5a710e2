"""`releaser lock`: every source's inputs pinned, one lockfile written atomically."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser import __version__
from releaser.core import lockfile, seal
from releaser.core.config import CONFIG_NAME, ReleaseConfig
from releaser.core.errors import ConfigError, Refused, ReleaserError
from releaser.core.kinds import KINDS, TABLES
from releaser.core.lockfile import InputRecord, Lock, Pin
from releaser.core.progress import Event, Progress, silent
from releaser.ecosystems import LockRequest, Source, ecosystem, sources_for
from releaser.lock import sealing
from releaser.lock.soundness import unlisted

if TYPE_CHECKING:  # `releaser check` imports this module and must not pay for requests
    from releaser.plumbing.http import Http


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    previous: Lock | None
    written: bool  # False when the file already held exactly these bytes
    notes: tuple[str, ...] = ()  # what the user should know about how the lock was made
    warnings: tuple[str, ...] = ()  # pinned, but worth a word: a yanked release

    @property
    def pins(self) -> int:
        return len(self.lock.pins)

    @property
    def as_of(self) -> datetime:
        return self.lock.as_of

    @property
    def changes(self) -> list[str]:
        """One line per pin added, removed or moved (a Python git pin: its version or its commit)."""
        before = _versions(self.previous.pins if self.previous else ())
        after = _versions(self.lock.pins)
        lines = []
        for key in sorted(before.keys() | after.keys()):
            old, new = before.get(key), after.get(key)
            if old != new:
                lines.append(f"{key[0]} {key[1]}: {old or '(new)'} -> {new or '(removed)'}")
        return lines


def _versions(pins: tuple[Pin, ...]) -> dict[tuple[str, str], str]:
    """(kind, name) -> its version as shown; versions pinned per target (markers), together."""
    found: dict[tuple[str, str], set[str]] = {}
    for pin in pins:
        found.setdefault((pin.kind, pin.name), set()).add(_shown(pin))
    return {key: ", ".join(sorted(shown)) for key, shown in found.items()}


def _shown(pin: Pin) -> str:
    """A pin's version as a change line shows it; a commit moved under the same version shows too."""
    return f"{pin.version} ({pin.commit[:12]})" if pin.commit else pin.version


def input_records(
    config: ReleaseConfig, sources: list[Source], known: Mapping[str, InputRecord] | None = None
) -> dict[str, InputRecord]:
    """Every input's digest and normalized entries, as the lock header records them.

    Offline and fast: `releaser check` calls it on every run and compares the result
    with the header, entry by entry, to say what changed. `known` (the lock's records):
    a source whose inputs' bytes are the ones recorded there may answer with those
    records instead of parsing its inputs again.
    """
    records = {CONFIG_NAME: InputRecord(config.dependency_digest, config_entries(config))}
    for source in sources:
        found = source.unchanged_records(known) if known else None
        records.update(found if found is not None else source.input_records())
    return records


def config_entries(config: ReleaseConfig) -> dict[str, dict[str, Any]]:
    """release.toml's dependency sections, normalized, credentials removed: each kind's own, by its table."""
    entries: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        found = ecosystem(kind).config_entries(config) if kind in config.inputs else None
        if found:
            entries[TABLES[kind]] = dict(found)
    return entries


def lock(
    config: ReleaseConfig,
    *,
    as_of: datetime | None = None,
    upgrade_all: bool = False,
    upgrade: tuple[str, ...] = (),
    http: Http | None = None,
    progress: Progress | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> LockResult | Answered:
    """Resolve every input and write the lockfile; the previous one stays intact on failure.

    A plain relock (no `as_of`, no upgrade, not `strict`) whose inputs, lock and releaser
    are as they were when the lock was written answers from the lock, resolving nothing
    (`unchanged`): every pin would be kept and the file left byte for byte. `refresh`
    resolves anyway, as a plain relock always did.

    Earlier pins are kept (seeded into the resolvers) only when they can be trusted
    and asked for: not with `as_of`, whose lock must be the one the inputs and the
    cut-off give from scratch, whatever lock was there, and not from a lock edited
    by hand, whose entries are re-derived from the inputs (`LockResult.notes` says so),
    so that relocking never launders an edit into a valid digest. Holds the project
    lock (`releaser.plumbing.projectlock`) while it runs. `progress` hears of each source's
    resolution and of the index pages read (N/M). A yanked release is pinned with a
    warning; with `strict`, refused and nothing written.
    """
    from releaser.plumbing.projectlock import hold

    with hold(config, "lock"):
        if not (as_of or upgrade_all or upgrade or strict or refresh):
            found = unchanged(config)
            if found is not None:
                return found
        return _lock(config, as_of=as_of, upgrade_all=upgrade_all, upgrade=upgrade, http=http, progress=progress, strict=strict)


UNCHANGED = seal.UNCHANGED


@dataclass(frozen=True)
class Answered:
    """A relock answered from a lock whose check seal holds: its bytes are the ones `releaser lock`
    wrote, so the seal's pin count and the header's cut-off are all a user is told, and the pins
    are parsed only when asked for (`lock`): a no-op relock of 300 pins costs no lock parse."""

    path: Path
    pins: int
    as_of: datetime
    written: bool = False
    notes: tuple[str, ...] = (UNCHANGED,)
    warnings: tuple[str, ...] = ()

    @property
    def changes(self) -> list[str]:
        return []  # answered from the lock: nothing moved

    @functools.cached_property
    def lock(self) -> Lock:
        found = lockfile.read(self.path)
        if found is None:
            raise Refused(f"{self.path} was removed while it was being read")
        return found


def unchanged(config: ReleaseConfig) -> LockResult | Answered | None:
    """The lock as it is, when a relock would keep every pin and write the same bytes; else None.

    That holds when its check seal holds (the inputs' bytes, the lock's and this releaser's
    version are the ones it was sealed with; with `[migrations]`, the lock's part of it), or,
    for a lock that is never sealed (another lockfile name, `[attest] public-key`), when it is untampered, fresh,
    sound, made for this interpreter by this releaser. A sealable lock whose seal does not
    hold is relocked, which seals it again.
    """
    data = _bytes(config.lockfile)
    if data is None:
        return None
    held = seal.holding(str(config.root), __version__) if config.release.lockfile == seal.LOCKFILE else None
    if held is not None and (as_of := seal.header_as_of(data)) is not None:
        return Answered(config.lockfile, held[0], as_of)
    previous, notes = _previous(config)
    if previous is None or notes or previous.releaser != __version__:
        return None
    from releaser.lock.soundness import floating, other_target, uncovered

    sources = sources_for(config)
    try:
        records = input_records(config, sources, known=previous.inputs)
    except ReleaserError:
        return None  # the full lock reports it, in its own words
    if dict(records) != dict(previous.inputs) or previous.inputs.keys() != records.keys():
        return None
    if floating(previous) or uncovered(config, previous, records) or unlisted(config, previous) or other_target(previous):
        return None  # the full lock says what floats
    if sealing.sealable(config, previous, records):
        return None  # its seal does not hold: relock, and seal it again
    return LockResult(previous, previous, False, (UNCHANGED,), ())


def _lock(
    config: ReleaseConfig, *, as_of: datetime | None, upgrade_all: bool, upgrade: tuple[str, ...], http: Http | None,
    progress: Progress | None, strict: bool,
) -> LockResult:
    now = datetime.now(UTC)
    if as_of is not None and as_of > now:
        raise ConfigError(
            f"--as-of {as_of.astimezone(UTC).isoformat()} is in the future: "
            "a cut-off must be a time the indexes have already seen"
        )
    previous, notes = _previous(config)
    sources = sources_for(config)
    read = sealing.snapshot(config, sources)  # before the records: an edit meanwhile shows
    records = input_records(config, sources)  # validates every input before any network
    config.require_environment()  # a URL's ${VAR} is needed now
    wanted = _upgrade_names(previous, upgrade)
    cutoff = (as_of or now).astimezone(UTC)
    seeds = previous if as_of is None and not notes else None

    pins: list[Pin] = []
    warnings: list[str] = []
    import tempfile  # here, not at the top: `releaser check` imports this module

    from releaser.plumbing.fsutil import fault_point, write_atomic
    from releaser.plumbing.http import Http

    with tempfile.TemporaryDirectory(prefix="releaser-lock-") as tmp, (http or Http()) as session:
        for source in sources:
            workdir = Path(tmp) / source.kind
            workdir.mkdir()
            kinds = (source.kind, *source.also_pins)
            request = LockRequest(
                as_of=cutoff,
                dated=as_of is not None,
                previous=tuple(p for kind in kinds for p in seeds.of_kind(kind)) if seeds else (),
                upgrade_all=upgrade_all,
                upgrade=frozenset(n for kind, n in wanted if kind in kinds),
                http=session,
                workdir=workdir,
                progress=progress,
                warnings=warnings,
                notes=notes,
            )
            (progress or silent)(Event("resolve", f"resolving the {source.kind} inputs"))
            pins.extend(source.lock(request))
    # Two sources may pin one dependency (an image a Dockerfile and a workflow's docker:// step both
    # name): the first source's pin stands, once. A marker tells apart one package's pins per target.
    first: dict[tuple[str, str, str | None], Pin] = {}
    for pin in pins:
        first.setdefault((pin.kind, pin.name, pin.marker), pin)

    new = Lock(
        as_of=cutoff,
        releaser=__version__,
        resolver=", ".join(r for r in (s.resolver() for s in sources) if r) or "none",
        inputs=records,
        sources={s.kind: s.source_urls() for s in sources if s.source_urls()},
        pins=tuple(first.values()),
        **_targets(config),
    )
    if seeds is not None and new.same_pins(seeds):
        # Nothing moved: keep the recorded cut-off and who resolved these pins (a newer
        # pip-tools that picks the same pins is no change), so the file does not churn.
        new = replace(new, as_of=seeds.as_of, releaser=seeds.releaser, resolver=seeds.resolver)
        if seeds.target is not None:  # nor the interpreter it was first made on
            new = replace(new, target=seeds.target)
    if strict and warnings:
        raise Refused(f"{'; '.join(warnings)} (--strict): require another version, then lock again")
    fault_point("lock:resolved")
    text = sealing.sealed(lockfile.dumps(new), config, new, records, read)
    written = write_atomic(config.lockfile, sealing.kept(text, _bytes(config.lockfile)))
    notes += [f"{f.subject} {f.message}: {f.fix}" for f in unlisted(config, new, config.release.lockfile)]
    return LockResult(new, previous, written, tuple(notes), tuple(warnings))


def _previous(config: ReleaseConfig) -> tuple[Lock | None, list[str]]:
    """The lock there now, and a note when it was edited by hand (then none of it is kept)."""
    found = lockfile.read_recorded(config.lockfile)
    if found is None:
        return None, []
    previous, recorded = found
    if recorded == previous.content_digest:
        return previous, []
    return previous, [
        f"{config.release.lockfile} was edited by hand (its entries do not match its content-digest): "
        "no pin of it was kept; every pin is re-derived from the inputs"
    ]


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _targets(config: ReleaseConfig) -> dict[str, Any]:
    """What each kind adds to the lock's header (Python: its targets)."""
    return {key: value for kind in KINDS if kind in config.inputs for key, value in ecosystem(kind).lock_header(config).items()}


def _upgrade_names(previous: Lock | None, names: tuple[str, ...]) -> set[tuple[str, str]]:
    """(kind, name) of each pin to re-resolve; a name the lock does not pin is an error."""
    if not names or previous is None:
        return set()  # nothing is kept from a lock that is not there: every pin is resolved anew
    found: set[tuple[str, str]] = set()
    for name in names:
        matches = {(p.kind, p.name) for p in previous.pins if p.name in ecosystem(p.kind).upgrade_names(name)}
        if not matches:
            raise ConfigError(f"--upgrade {name}: release.lock pins no dependency of that name")
        found |= matches
    return found
