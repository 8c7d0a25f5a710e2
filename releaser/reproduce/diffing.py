"""`releaser diff A B`: what changed between two RCs or two lockfiles.

Pins are matched by kind and name. A pin is *added*, *removed*, or *changed* when
any of its version, requested spec, source, date or files differ. The JSON
document is stable and documented in docs/reproduce.md; the text is for people,
one line per pin, grouped by kind:

    python    beta      1.0 (2024-01-02) -> 2.0 (2024-01-31)

Between two RCs whose records hold migrations, the migrations added (and removed)
from A to B are listed too:

    migration added    shop.0043_add_price (shop/migrations/0043_add_price.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from releaser.core import lockfile
from releaser.core.lockfile import KINDS, Lock, Pin
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
    migrations: dict[str, Any] | None = None  # an RC's recorded migration graph, if it has one


def load(arg: str, records_dir: Callable[[], Path]) -> Side:
    """An existing file is a lockfile; anything else is an RC id read from its record."""
    path = Path(arg)
    lock = lockfile.read(path) if path.is_file() else None
    if lock is not None:
        return Side(arg, "lockfile", lock)
    record = records.read(records_dir(), arg)
    return Side(arg, "rc", record.lock, record.manifest.get("migrations"))


def pin_document(pin: Pin) -> dict[str, Any]:
    return {
        "version": pin.version,
        "requested": pin.requested,
        "source": pin.source,
        "date": iso(pin.date),
        "artifacts": [
            {"name": a.name, "sha256": a.sha256, "size": a.size}
            for a in sorted(pin.artifacts, key=lambda a: (a.name, a.url))
        ],
    }


def diff(a: Side, b: Side) -> dict[str, Any]:
    """The stable JSON document of what changed from `a` to `b`."""
    before = {(p.kind, p.name): p for p in a.lock.pins}
    after = {(p.kind, p.name): p for p in b.lock.pins}
    order = {kind: i for i, kind in enumerate(KINDS)}
    changes: list[dict[str, Any]] = []
    counts = {"added": 0, "removed": 0, "changed": 0, "unchanged": 0}
    for key in sorted(before.keys() | after.keys(), key=lambda k: (order.get(k[0], len(KINDS)), k[0], k[1].lower(), k[1])):
        old, new = before.get(key), after.get(key)
        old_doc = pin_document(old) if old else None
        new_doc = pin_document(new) if new else None
        if old_doc is not None and new_doc is not None:
            differing = [f for f in FIELDS if old_doc[f] != new_doc[f]]
            if not differing:
                counts["unchanged"] += 1
                continue
            change = "changed"
        else:
            differing = []
            change = "added" if old_doc is None else "removed"
        counts[change] += 1
        changes.append(
            {"kind": key[0], "name": key[1], "change": change, "fields": differing, "from": old_doc, "to": new_doc}
        )
    document = {
        "schema": SCHEMA,
        "from": _side_document(a),
        "to": _side_document(b),
        "summary": counts,
        "changes": changes,
    }
    if a.migrations is not None and b.migrations is not None:
        document["migrations"] = migration_changes(a.migrations, b.migrations)
    return document


def migration_changes(a: dict[str, Any], b: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The migrations B recorded that A did not (added), and the other way round (removed)."""

    def files(record: dict[str, Any]) -> dict[str, str]:
        return {f"{m['app']}.{m['name']}": m["file"] for m in record.get("migrations", [])}

    before, after = files(a), files(b)
    return {
        "added": [{"migration": k, "file": after[k]} for k in sorted(after.keys() - before.keys())],
        "removed": [{"migration": k, "file": before[k]} for k in sorted(before.keys() - after.keys())],
    }


def _side_document(side: Side) -> dict[str, Any]:
    return {
        "ref": side.ref,
        "type": side.type,
        "as_of": iso(side.lock.as_of),
        "content_digest": side.lock.content_digest,
        "pins": len(side.lock.pins),
    }


def _shown(kind: str, pin: dict[str, Any]) -> str:
    version = ecosystem(kind).shown_version(pin["version"]) if kind in KINDS else pin["version"]
    date = pin["date"]
    return f"{version} ({date[:10]})" if date else version


def _why(pin: dict[str, Any]) -> str:
    """For a Maven pin another artifact's POM brought in: what asked for it."""
    requested = pin.get("requested") or ""
    return f", {requested}" if " via " in requested else ""


def render(document: dict[str, Any]) -> str:
    """The document as text: a summary line, then one aligned line per pin that moved."""
    s = document["summary"]
    head = f"{document['from']['ref']} -> {document['to']['ref']}: "
    moved = document.get("migrations", {})
    migration_lines = [
        f"migration {change:<7}  {m['migration']} ({m['file']})" for change in ("added", "removed") for m in moved.get(change, [])
    ]
    if not document["changes"]:
        return "\n".join([head + f"no changes ({s['unchanged']} pins the same)", *migration_lines]) + "\n"
    head += f"{s['changed']} changed, {s['added']} added, {s['removed']} removed, {s['unchanged']} unchanged"
    rows = []
    for c in document["changes"]:
        kind, old, new = c["kind"], c["from"], c["to"]
        if c["change"] == "added":
            text = f"added {_shown(kind, new)}{_why(new)}"
        elif c["change"] == "removed":
            text = f"removed {_shown(kind, old)}{_why(old)}"
        else:
            text = f"{_shown(kind, old)} -> {_shown(kind, new)}"
            extra = []
            if "requested" in c["fields"]:
                extra.append(f"requested {old['requested'] or '(transitive)'} -> {new['requested'] or '(transitive)'}")
            if "source" in c["fields"]:
                extra.append(f"source {old['source']} -> {new['source']}")
            if "artifacts" in c["fields"] and old["version"] == new["version"]:
                was = {(a["name"], a["sha256"]) for a in old["artifacts"]}
                now = {(a["name"], a["sha256"]) for a in new["artifacts"]}
                extra.append(f"files +{len(now - was)} -{len(was - now)}")
            if extra:
                text += "  [" + "; ".join(extra) + "]"
        rows.append((kind, c["name"], text))
    kind_width = max(len(r[0]) for r in rows)
    name_width = max(len(r[1]) for r in rows)
    lines = [head]
    lines += [f"{kind:<{kind_width}}  {name:<{name_width}}  {text}".rstrip() for kind, name, text in rows]
    return "\n".join(lines + migration_lines) + "\n"
