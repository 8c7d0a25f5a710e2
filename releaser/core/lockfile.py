"""release.lock: the pins, as deterministic TOML.

Same pins and same header give the same bytes: entries sorted, no timestamp that
moves when nothing moved. The format is documented in docs/lockfile.md. Locks are
read with tomli, the parser the standard library's tomllib is made from, whose wheels
are compiled: about twice as fast on a large lock, which is what `releaser check`
spends most of its time on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releaser.core import documents
from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.kinds import KINDS  # the lock's tables, in its order

LOCK_VERSION = 1
# Every key a lock may hold; anything else is refused (it would sit outside what releaser reads).
HEADER_KEYS = frozenset(
    {"lock-version", "as-of", "releaser", "resolver", "content-digest", "check-seal", "environments", "target", "inputs",
     "sources", *KINDS}
)
PIN_KEYS = frozenset({"name", "version", "commit", "marker", "requested", "source", "date", "artifacts", "build", "scope"})
ARTIFACT_KEYS = frozenset({"name", "url", "sha256", "size", "date", "upstream"})
_BANNER = (
    "# Written by `releaser lock`. Do not edit: change release.toml or the requirement\n"
    "# files and run `releaser lock` again (`releaser check` detects hand edits).\n"
)


@dataclass(frozen=True)
class Artifact:
    """One file of a pin, with what proves it is the same file later."""

    name: str
    url: str
    sha256: str
    size: int
    date: datetime | None = None
    # Checksums the source publishes itself, e.g. {"sha1": "..."} for a Maven .sha1.
    upstream: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Pin:
    """One dependency resolved to something exact."""

    kind: str
    name: str
    version: str  # exact: a version, a timestamped build, a commit id
    source: str  # the index, repository or remote, credentials removed
    requested: str | None = None  # what the inputs ask for; None for a transitive pin
    date: datetime | None = None
    artifacts: tuple[Artifact, ...] = ()
    # The commit id of a Python direct reference to a git repository (`pkg @ git+URL@ref`):
    # its hash, as it has no artifact. None for everything else (a [[git]] pin's version is its commit).
    commit: str | None = None
    # A Python pin needed on only some of the lock's targets: the marker naming them
    # (releaser.core.targets). None: needed on every target.
    marker: str | None = None
    # What building a Python pin from its sdist needs (its [build-system] requirements,
    # resolved under the same cut-off, hashed): set only when no wheel of it fits the
    # interpreter that locked. Absent in locks written before build pins existed.
    build: tuple[Pin, ...] = ()
    # A Maven pin's scope as Maven would give it (compile, runtime, ...; parent or import for a POM
    # that shapes the graph). None for every other kind.
    scope: str | None = None


# A recorded entry: a string (a requirement, a version, a setting) or a table of
# strings (e.g. a git input's url and ref).
EntryValue = str | Mapping[str, str]


@dataclass(frozen=True)
class InputRecord:
    """One input as it was when the lock was written: its digest and its entries.

    `entries` maps a group (`requirements`, `constraints`, `python`, `maven`, `git`,
    `artifact`) to its entries by key, normalized, so that `releaser check` can say
    *what* changed in a stale input, not only that it changed. URLs are recorded
    without credentials. A lock written before entries were recorded has none.
    """

    digest: str
    entries: Mapping[str, Mapping[str, EntryValue]] = field(default_factory=dict)
    # sha256 of the input's bytes as read (with the files it includes): while they are
    # the same, `releaser check` takes this record as the current one without parsing.
    files: str | None = None


@dataclass(frozen=True)
class Lock:
    as_of: datetime
    releaser: str
    resolver: str
    inputs: Mapping[str, InputRecord] = field(default_factory=dict)  # input name -> record
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> URLs
    pins: tuple[Pin, ...] = ()
    # The Python targets (markers): `[python] environments` as configured, or else the one
    # interpreter the lock was made on (`target`). Both empty in a lock written before them.
    environments: tuple[str, ...] = ()
    target: str | None = None
    # Read from a lock whose content-digest covers only its entries (releaser before 0.2 wrote
    # those); every lock written now has a digest of the whole document.
    legacy_digest: bool = field(default=False, compare=False)

    def of_kind(self, kind: str) -> tuple[Pin, ...]:
        return tuple(p for p in self.pins if p.kind == kind)

    def same_pins(self, other: Lock | None) -> bool:
        return other is not None and set(self.pins) == set(other.pins)

    @property
    def targets(self) -> tuple[str, ...]:
        """Where its Python pins are meant to install (markers): `environments`, or else `target`."""
        return self.environments or ((self.target,) if self.target else ())

    @property
    def content_digest(self) -> str:
        """Digest of the whole document but this digest, recorded in the header so a hand edit shows.

        Header, inputs, sources and entries alike: an edited index URL shows as much as
        an edited pin. A lock read with `legacy_digest` is checked the old way (entries only).
        """
        if self.legacy_digest:
            return _entries_digest(self)
        return _digest(_document(self))


def _digest(document: Any) -> str:
    blob = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _entries_digest(lock: Lock) -> str:
    """The content-digest of locks written before it covered the whole document: the entries only."""
    tables = [(p.kind, _pin_table(p)) for p in sorted(lock.pins, key=_pin_order)]
    blob = json.dumps(tables, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _document(lock: Lock) -> dict[str, Any]:
    """The lock as the TOML document holds it, without its content-digest."""
    doc: dict[str, Any] = {
        "lock-version": LOCK_VERSION,
        "as-of": _utc(lock.as_of),
        "releaser": lock.releaser,
        "resolver": lock.resolver,
        **({"environments": list(lock.environments)} if lock.environments else {}),
        **({"target": lock.target} if lock.target else {}),
        "inputs": {name: _input_table(rec) for name, rec in sorted(lock.inputs.items())},
        "sources": {k: list(v) for k, v in sorted(lock.sources.items())},
    }
    for kind in KINDS:
        pins = sorted(lock.of_kind(kind), key=_pin_order)
        if pins:
            doc[kind] = [_pin_table(p) for p in pins]
    return doc


TOML_INT = range(-(2**63), 2**63)  # TOML integers are 64-bit: a reader may refuse, or wrap, anything else


def dumps(lock: Lock) -> str:
    """The lock as TOML. A value no TOML reader must accept (an integer past 64 bits, from an
    index that stated a size of 10**30) is refused here, before any lock holds it."""
    import tomli_w  # only writers pay for the import

    doc = _document(lock)
    _within_toml(doc)
    written = {**doc, "content-digest": _digest(doc)}  # always the whole-document digest
    ordered = {key: written[key] for key in ("lock-version", "as-of", "releaser", "resolver", "content-digest")}
    return _BANNER + tomli_w.dumps({**ordered, **written})


def _within_toml(value: Any, names: tuple[str, ...] = (), key: str = "") -> None:
    """UpstreamError naming the pin, the file and the key of an integer TOML cannot hold."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in TOML_INT:
        where = ", ".join(names) or "the lock"
        raise UpstreamError(f"{where}: {key} {str(value)[:40]} is beyond TOML's 64-bit integers; no lock can hold it, refused")
    if isinstance(value, dict):
        named = (*names, str(value["name"])) if isinstance(value.get("name"), str) else names
        for inner, item in value.items():
            _within_toml(item, named, inner)
    elif isinstance(value, list):
        for item in value:
            _within_toml(item, names, key)


def loads(text: str, path: Path) -> Lock:
    """Parse a lock; ConfigError names the file and what is wrong."""
    return _parse(text, path)[0]


def read_recorded(path: Path) -> tuple[Lock, object] | None:
    """The lock at `path` and the content-digest its header claims (None if absent).

    One read and one parse, for `releaser check`; None when there is no lock yet.
    """
    text = _read_text(path)
    return None if text is None else _parse(text, path)


def _parse(text: str, path: Path) -> tuple[Lock, object]:
    doc = documents.toml(text, path)
    unknown = sorted(set(doc) - HEADER_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key or table {unknown[0][:40]!r}; a lock holds only what `releaser lock` writes")
    version = doc.get("lock-version")
    if version != LOCK_VERSION or isinstance(version, bool):
        hint = "; upgrade releaser" if isinstance(version, int) and version > LOCK_VERSION else ""
        raise ConfigError(f"{path}: lock-version {version!r} is not one this releaser reads ({LOCK_VERSION}){hint}")
    r = _Reader(path)
    r.get(doc, "check-seal", str, default=None)  # `releaser check` reads it itself (releaser.core.seal)
    pins: dict[tuple[str, str], list[Pin]] = {}
    for kind in KINDS:
        for i, table in enumerate(r.get(doc, kind, list, default=[])):
            pin = r.pin(kind, table, f"[[{kind}]] #{i + 1}")
            same = pins.setdefault((kind, pin.name), [])
            if not all(_apart(pin, other) for other in same):
                raise ConfigError(
                    f"{path}: {kind} {pin.name[:60]!r} is pinned twice; a lock pins each dependency once "
                    "(once per target, with markers naming different targets)"
                )
            same.append(pin)
    lock = Lock(
        as_of=r.get(doc, "as-of", datetime),
        releaser=r.get(doc, "releaser", str),
        resolver=r.get(doc, "resolver", str),
        inputs={name: r.input(name, rec) for name, rec in r.get(doc, "inputs", dict, default={}).items()},
        sources=r.sources(r.get(doc, "sources", dict, default={})),
        pins=tuple(pin for same in pins.values() for pin in same),
        environments=tuple(r.strings(doc, "environments")),
        target=r.get(doc, "target", str, default=None),
    )
    _check_targets(lock, path)
    recorded = doc.get("content-digest")
    if recorded != lock.content_digest and recorded == _entries_digest(lock):
        lock = replace(lock, legacy_digest=True)  # written before the digest covered the whole document
    return lock, recorded


def _apart(pin: Pin, other: Pin) -> bool:
    """Whether two pins of one dependency are for different targets: a package may resolve to
    another version on another target (`[python] environments`), each pin marked with its own."""
    from releaser.core.targets import named_in

    return pin.marker is not None and other.marker is not None and named_in(pin.marker).isdisjoint(named_in(other.marker))


def _check_targets(lock: Lock, path: Path) -> None:
    """Every target in the header is one releaser reads; every pin's (and build pin's) marker names some of them."""
    from releaser.core import targets

    for text in (*lock.environments, *((lock.target,) if lock.target else ())):
        try:
            targets.parse(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    marked = [(f"[[{p.kind}]] {p.name}", p.marker) for p in lock.pins]
    marked += [(f"[[{p.kind}]] {p.name} build {b.name}", b.marker) for p in lock.pins for b in p.build]
    for where, marker in marked:
        if marker is None:
            continue
        named = targets.marker_targets(marker, lock.environments)
        if not named or len(named) != len(marker.split(" or ")):
            raise ConfigError(f"{path}: {where}: marker {marker!r} names no environment of the lock")


def read(path: Path) -> Lock | None:
    """The lock at `path`, or None when there is none yet."""
    text = _read_text(path)
    return None if text is None else loads(text, path)


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


def _pin_order(pin: Pin) -> tuple[str, str, str]:
    return (pin.kind, pin.name.lower(), pin.version)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _pin_table(pin: Pin) -> dict[str, Any]:
    table: dict[str, Any] = {"name": pin.name, "version": pin.version}
    if pin.commit is not None:
        table["commit"] = pin.commit
    if pin.marker is not None:
        table["marker"] = pin.marker
    if pin.requested is not None:
        table["requested"] = pin.requested
    if pin.scope is not None:
        table["scope"] = pin.scope
    table["source"] = pin.source
    if pin.date is not None:
        table["date"] = _utc(pin.date)
    if pin.artifacts:
        table["artifacts"] = [_artifact_table(a) for a in sorted(pin.artifacts, key=lambda a: (a.name, a.url))]
    if pin.build:
        table["build"] = [_pin_table(b) for b in sorted(pin.build, key=_pin_order)]
    return table


def _input_table(record: InputRecord) -> dict[str, Any]:
    table: dict[str, Any] = {"digest": record.digest}
    if record.files is not None:
        table["files"] = record.files
    for group, entries in sorted(record.entries.items()):
        table[group] = {
            key: (value if isinstance(value, str) else dict(sorted(value.items())))
            for key, value in sorted(entries.items())
        }
    return table


def _artifact_table(a: Artifact) -> dict[str, Any]:
    table: dict[str, Any] = {"name": a.name, "url": a.url, "sha256": a.sha256, "size": a.size}
    if a.date is not None:
        table["date"] = _utc(a.date)
    if a.upstream:
        table["upstream"] = dict(sorted(a.upstream))
    return table


class _Reader:
    """Typed access to a parsed lock, with errors that name the entry."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, table: dict[str, Any], key: str, kind: type, where: str = "", default: Any = ...) -> Any:
        if key not in table:
            if default is ...:
                raise ConfigError(f"{self.path}: {where + ' ' if where else ''}{key} is missing")
            return default
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{self.path}: {where + ' ' if where else ''}{key} has the wrong type ({type(value).__name__})")
        if kind is int and value not in TOML_INT:
            raise ConfigError(f"{self.path}: {where + ' ' if where else ''}{key} is beyond TOML's 64-bit integers")
        return value

    def input(self, name: str, record: Any) -> InputRecord:
        """An [inputs] record: a table with a digest and entry groups (a bare digest string
        is the older form, still read)."""
        where = f"[inputs.{json.dumps(name)}]"
        if isinstance(record, str):
            return InputRecord(record)
        if not isinstance(record, dict):
            raise ConfigError(f"{self.path}: {where} must be a table, not {type(record).__name__}")
        groups: dict[str, dict[str, EntryValue]] = {}
        for group, entries in record.items():
            if group in ("digest", "files"):
                continue
            if not isinstance(entries, dict):
                raise ConfigError(f"{self.path}: {where} {group} must be a table")
            for key, value in entries.items():
                ok = isinstance(value, str) or (
                    isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
                )
                if not ok:
                    raise ConfigError(f"{self.path}: {where} {group}.{key} must be a string or a table of strings")
            groups[group] = entries
        return InputRecord(self.get(record, "digest", str, where), groups, self.get(record, "files", str, where, None))

    def sources(self, table: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        for kind, urls in table.items():
            if kind not in KINDS:
                raise ConfigError(f"{self.path}: [sources] {kind[:40]!r} is not a kind releaser pins ({', '.join(KINDS)})")
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                raise ConfigError(f"{self.path}: [sources] {kind} must be a list of URLs")
        return {kind: tuple(urls) for kind, urls in table.items()}

    def known(self, table: dict[str, Any], keys: frozenset[str], where: str) -> None:
        unknown = sorted(set(table) - keys)
        if unknown:
            raise ConfigError(f"{self.path}: {where}: unknown key {unknown[0][:40]!r}")

    def pin(self, kind: str, t: dict[str, Any], where: str) -> Pin:
        if not isinstance(t, dict):
            raise ConfigError(f"{self.path}: {where} must be a table")
        self.known(t, PIN_KEYS, where)
        artifacts = []
        for j, a in enumerate(self.get(t, "artifacts", list, where, default=[])):
            if not isinstance(a, dict):
                raise ConfigError(f"{self.path}: {where} artifacts[{j}] must be a table")
            at = f"{where} artifacts[{j}]"
            self.known(a, ARTIFACT_KEYS, at)
            upstream = self.get(a, "upstream", dict, at, default={})
            if not all(isinstance(v, str) for v in upstream.values()):
                raise ConfigError(f"{self.path}: {at} upstream must be a table of strings")
            if self.get(a, "size", int, at) < 0:
                raise ConfigError(f"{self.path}: {at} size is negative")
            artifacts.append(
                Artifact(
                    name=self.get(a, "name", str, at),
                    url=self.get(a, "url", str, at),
                    sha256=self.get(a, "sha256", str, at),
                    size=self.get(a, "size", int, at),
                    date=self.get(a, "date", datetime, at, default=None),
                    upstream=tuple(sorted(self.get(a, "upstream", dict, at, default={}).items())),
                )
            )
        return Pin(
            kind=kind,
            name=self.get(t, "name", str, where),
            version=self.get(t, "version", str, where),
            source=self.get(t, "source", str, where),
            requested=self.get(t, "requested", str, where, default=None),
            date=self.get(t, "date", datetime, where, default=None),
            artifacts=tuple(artifacts),
            commit=self.get(t, "commit", str, where, default=None),
            marker=self.get(t, "marker", str, where, default=None),
            build=tuple(
                self.pin(kind, b, f"{where} build[{j}]") for j, b in enumerate(self.get(t, "build", list, where, default=[]))
            ),
            scope=self.get(t, "scope", str, where, default=None),
        )

    def strings(self, table: dict[str, Any], key: str) -> list[str]:
        values: list[str] = self.get(table, key, list, default=[])
        if not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{self.path}: {key} must be a list of strings")
        return values
