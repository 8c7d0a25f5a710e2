"""`releaser diff A B`: what changed between two RCs or two lockfiles.

Pins are matched by kind and name, and a Python pin needed on only some of the lock's
targets by its marker too (two targets may pin one project at two versions). A pin is
*added*, *removed*, or *changed* when
any of its version, requested spec, source, date or files differ. The JSON
document is stable and documented in docs/reproduce.md; the text is for people,
one line per pin, grouped by kind:

    python    beta      1.0 (2024-01-02) -> 2.0 (2024-01-31)

Between two RCs whose records hold migrations, the migrations added (and removed)
from A to B are listed too:

    migration added    shop.0043_add_price (shop/migrations/0043_add_price.py)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releaser.core import lockfile
from releaser.core.kinds import KINDS
from releaser.core.lockfile import Lock, Pin
from releaser.ecosystems import ecosystem
from releaser.record import records
from releaser.record.manifest import iso

SCHEMA = 1
FIELDS = ("version", "requested", "source", "date", "artifacts")


@dataclass(frozen=True)
class Side:
    ref: str  # as given on the command line
    type: str  # "rc" or "lockfile"
    lock: Lock
    migrations: Mapping[str, Any] | None = None  # an RC's recorded migration graph, if it has one

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "type": self.type,
            "as_of": iso(self.lock.as_of),
            "content_digest": self.lock.content_digest,
            "pins": len(self.lock.pins),
        }


def load(arg: str, records_dir: Callable[[], Path]) -> Side:
    """An existing file is a lockfile; anything else is an RC id read from its record."""
    path = Path(arg)
    lock = lockfile.read(path) if path.is_file() else None
    if lock is not None:
        return Side(arg, "lockfile", lock)
    record = records.read(records_dir(), arg)
    return Side(arg, "rc", record.lock, record.manifest.get("migrations"))


@dataclass(frozen=True)
class PinState:
    """A pin as a diff compares it: the fields whose change is a change of the pin."""

    version: str
    requested: str | None
    source: str
    date: str | None  # ISO 8601, UTC
    artifacts: tuple[tuple[str, str, int], ...]  # (name, sha256, size) of every file

    @classmethod
    def of(cls, pin: Pin) -> PinState:
        files = sorted(pin.artifacts, key=lambda a: (a.name, a.url))
        return cls(pin.version, pin.requested, pin.source, iso(pin.date), tuple((a.name, a.sha256, a.size) for a in files))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "requested": self.requested,
            "source": self.source,
            "date": self.date,
            "artifacts": [{"name": name, "sha256": sha, "size": size} for name, sha, size in self.artifacts],
        }


def entry_document(entry: dict[str, Any]) -> dict[str, Any]:
    """A pin as a record's manifest.json lists it, in `pin_document`'s shape: compared on the same FIELDS."""
    files = entry.get("artifacts") or []
    return {
        "version": entry.get("version"),
        "requested": entry.get("requested"),
        "source": entry.get("source"),
        "date": entry.get("date"),
        "artifacts": sorted(
            ({"name": a.get("name"), "sha256": a.get("sha256"), "size": a.get("size")} for a in files if isinstance(a, dict)),
            key=lambda a: (str(a["name"]), str(a["sha256"])),
        ),
    }


@dataclass(frozen=True)
class PinChange:
    """One pin added, removed or changed (`fields`: which of FIELDS differ)."""

    kind: str
    name: str
    change: str  # "added" | "removed" | "changed"
    fields: tuple[str, ...]
    before: PinState | None
    after: PinState | None
    marker: str | None = None  # a Python pin needed on only some targets: the marker naming them

    @property
    def shown_name(self) -> str:
        return named(self.name, self.marker)

    def to_json(self) -> dict[str, Any]:
        document = {
            "kind": self.kind, "name": self.name, "change": self.change, "fields": list(self.fields),
            "from": self.before.to_json() if self.before else None, "to": self.after.to_json() if self.after else None,
        }
        if self.marker:
            document["marker"] = self.marker
        return document

    def line(self) -> str:
        """What happened to the pin, for people (after its kind and name)."""
        kind, old, new = self.kind, self.before, self.after
        if old is None:
            assert new is not None
            return f"added {_shown(kind, new)}{_why(new)}"
        if new is None:
            return f"removed {_shown(kind, old)}{_why(old)}"
        extra = []
        if "requested" in self.fields:
            extra.append(f"requested {old.requested or '(transitive)'} -> {new.requested or '(transitive)'}")
        if "source" in self.fields:
            extra.append(f"source {old.source} -> {new.source}")
        if "artifacts" in self.fields and old.version == new.version:
            was = {(name, sha) for name, sha, _ in old.artifacts}
            now = {(name, sha) for name, sha, _ in new.artifacts}
            extra.append(f"files +{len(now - was)} -{len(was - now)}")
        return f"{_shown(kind, old)} -> {_shown(kind, new)}" + ("  [" + "; ".join(extra) + "]" if extra else "")


@dataclass(frozen=True)
class MovedMigration:
    migration: str  # app.name
    file: str

    def to_json(self) -> dict[str, str]:
        return {"migration": self.migration, "file": self.file}


@dataclass(frozen=True)
class Diff:
    """What changed from one side to the other: the stable document of `releaser diff --json`."""

    before: Side
    after: Side
    changes: tuple[PinChange, ...]
    unchanged: int
    # Between two RCs whose records hold migrations: (added, removed) from `before` to `after`.
    migrations: tuple[tuple[MovedMigration, ...], tuple[MovedMigration, ...]] | None = None

    @property
    def summary(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0, "unchanged": self.unchanged}
        for c in self.changes:
            counts[c.change] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        document = {
            "schema": SCHEMA,
            "from": self.before.to_json(),
            "to": self.after.to_json(),
            "summary": self.summary,
            "changes": [c.to_json() for c in self.changes],
        }
        if self.migrations is not None:
            added, removed = self.migrations
            document["migrations"] = {"added": [m.to_json() for m in added], "removed": [m.to_json() for m in removed]}
        return document

    def render(self) -> str:
        """For people: a summary line, then one aligned line per pin that moved."""
        s = self.summary
        head = f"{self.before.ref} -> {self.after.ref}: "
        added, removed = self.migrations or ((), ())
        moved = [("added", m) for m in added] + [("removed", m) for m in removed]
        migration_lines = [f"migration {change:<7}  {m.migration} ({m.file})" for change, m in moved]
        if not self.changes:
            return "\n".join([head + f"no changes ({s['unchanged']} pins the same)", *migration_lines]) + "\n"
        head += f"{s['changed']} changed, {s['added']} added, {s['removed']} removed, {s['unchanged']} unchanged"
        kind_width = max(len(c.kind) for c in self.changes)
        name_width = max(len(c.shown_name) for c in self.changes)
        lines = [head]
        lines += [f"{c.kind:<{kind_width}}  {c.shown_name:<{name_width}}  {c.line()}".rstrip() for c in self.changes]
        return "\n".join(lines + migration_lines) + "\n"


def diff(a: Side, b: Side) -> Diff:
    """What changed from `a` to `b`."""
    before = {(p.kind, p.name, p.marker or ""): PinState.of(p) for p in a.lock.pins}
    after = {(p.kind, p.name, p.marker or ""): PinState.of(p) for p in b.lock.pins}
    order = {kind: i for i, kind in enumerate(KINDS)}
    changes: list[PinChange] = []
    unchanged = 0
    for key in sorted(before.keys() | after.keys(), key=lambda k: (order.get(k[0], len(KINDS)), k[0], k[1].lower(), k[1], k[2])):
        (kind, name, marker), old, new = key, before.get(key), after.get(key)
        if old is not None and new is not None:
            differing = tuple(f for f in FIELDS if getattr(old, f) != getattr(new, f))
            if not differing:
                unchanged += 1
                continue
            changes.append(PinChange(kind, name, "changed", differing, old, new, marker or None))
        else:
            changes.append(PinChange(kind, name, "added" if old is None else "removed", (), old, new, marker or None))
    moved = None
    if a.migrations is not None and b.migrations is not None:
        moved = migration_changes(a.migrations, b.migrations)
    return Diff(a, b, tuple(changes), unchanged, moved)


def migration_changes(
    a: Mapping[str, Any], b: Mapping[str, Any]
) -> tuple[tuple[MovedMigration, ...], tuple[MovedMigration, ...]]:
    """The migrations B recorded that A did not (added), and the other way round (removed)."""

    def files(record: Mapping[str, Any]) -> dict[str, str]:
        return {f"{m['app']}.{m['name']}": m["file"] for m in record.get("migrations", [])}

    before, after = files(a), files(b)
    return (
        tuple(MovedMigration(k, after[k]) for k in sorted(after.keys() - before.keys())),
        tuple(MovedMigration(k, before[k]) for k in sorted(before.keys() - after.keys())),
    )


def named(name: str, marker: str | None) -> str:
    """A pin's name as a requirement writes it: with its marker when it is needed on only some targets."""
    return f"{name}; {marker}" if marker else name


def _shown(kind: str, pin: PinState) -> str:
    version = ecosystem(kind).shown_version(pin.version) if kind in KINDS else pin.version
    return f"{version} ({pin.date[:10]})" if pin.date else version


def _why(pin: PinState) -> str:
    """For a Maven pin another artifact's POM brought in: what asked for it."""
    requested = pin.requested or ""
    return f", {requested}" if " via " in requested else ""
