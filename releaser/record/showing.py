"""`releaser list` and `releaser show RC`: the recorded RCs, read through `records.read`.

Every record is verified as it is read (its manifest must match its lock copy);
one that does not is listed as such rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused
from releaser.core.kinds import KINDS
from releaser.record import records
from releaser.record.manifest import kind_titles, shown_step


@dataclass(frozen=True)
class Entry:
    """One line of `releaser list`."""

    rc: str
    manifest: dict[str, Any] | None  # None when the record does not verify
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.manifest is not None

    def to_dict(self) -> dict[str, Any]:
        if self.manifest is None:
            return {"rc": self.rc, "verified": False, "problem": self.problem}
        m = self.manifest
        return {
            "rc": self.rc,
            "verified": True,
            "cut_at": m.get("cut_at"),
            "commit": m.get("commit"),
            "tag": m.get("tag"),
            "as_of": m.get("as_of"),
            "pins": len(m.get("pins", [])),
            "built": len(m.get("built", [])),
            "lock_digest": m.get("lock_digest"),
        }

    @property
    def pins(self) -> int:
        return len(self.manifest.get("pins", [])) if self.manifest is not None else 0

    def cells(self, digits: int = 1) -> tuple[str, ...]:
        """Its columns in `releaser list`; the pin count right-aligned to `digits`."""
        if self.manifest is None:
            return (self.rc, f"NOT VERIFIED: {self.problem}")
        m = self.manifest
        count = f"{self.pins:>{digits}} pin{'s' if self.pins != 1 else ''}"
        return (self.rc, str(m.get("cut_at")), str(m.get("commit", ""))[:12], count)


def list_lines(items: list[Entry]) -> list[str]:
    """`releaser list`: a line per RC, in columns (id, cut time, commit, pins), whatever their widths."""
    digits = max((len(str(e.pins)) for e in items), default=1)
    return _aligned([e.cells(digits) for e in items])


def entries(config: ReleaseConfig) -> list[Entry]:
    """Every recorded RC, in PEP 440 order, each verified."""
    folder = records.records_dir(config)
    found = []
    for rc in records.recorded(folder):
        try:
            found.append(Entry(rc, records.read(folder, rc).manifest))
        except (Refused, ConfigError) as exc:
            found.append(Entry(rc, None, str(exc)))
    return found


def list_document(items: list[Entry]) -> dict[str, Any]:
    """`releaser list --json`'s document."""
    return {"schema": 1, "releases": [e.to_dict() for e in items]}


def summary(manifest: dict[str, Any]) -> str:
    """`releaser show RC`: the manifest for a person at a terminal."""
    m = manifest
    builder = m.get("builder", {})
    lines = [
        f"{m['rc']}: {m.get('name')} {m.get('version')}",
        f"  commit     {m.get('commit')}",
        f"  tag        {m.get('tag') or '(none)'}",
        f"  cut at     {m.get('cut_at')}",
        f"  as of      {m.get('as_of')}  (the dependency cut-off)",
        f"  lock       {m.get('lock_digest')}",
        f"  built with Python {builder.get('python')} on {builder.get('platform')}, releaser {builder.get('releaser')}",
        f"  resolver   {builder.get('resolver')}",
    ]
    pins = m.get("pins", [])
    lines.append(f"pins ({len(pins)}):")
    titles = kind_titles()
    for kind in KINDS:
        of_kind = [p for p in pins if p.get("kind") == kind]
        if not of_kind:
            continue
        lines.append(f"  {titles.get(kind, kind)}:")
        rows: list[tuple[str, ...]] = []
        for p in of_kind:
            files = len(p.get("artifacts", []))
            why = f"  {p['requested']}" if " via " in (p.get("requested") or "") else ""  # a transitive Maven pin
            rows.append((p["name"], p["version"], p.get("date") or "undated", f"{files} file{'s' if files != 1 else ''}{why}"))
        lines += [f"    {line}" for line in _aligned(rows)]
    built = m.get("built", [])
    lines.append(f"built ({len(built)}):")
    rows = [(str(f["name"]), f"{f['size']} bytes", f"sha256:{f['sha256']}") for f in built]
    lines += [f"  {line}" for line in _aligned(rows, right=(1,))]
    gates = m.get("gates", [])
    if gates:
        lines.append(f"gates passed ({len(gates)}):")
        lines += [f"  {shown_step(g, m)}" for g in gates]
    migrations = m.get("migrations")
    if isinstance(migrations, dict):
        heads = "; ".join(f"{app} {', '.join(h)}" for app, h in sorted(migrations.get("heads", {}).items()) if h)
        lines.append(f"migrations ({migrations.get('framework')}, {len(migrations.get('migrations', []))}; heads: {heads or 'none'}):")
        lines += [f"  new: {name}" for name in migrations.get("new", [])]
        lines += [f"  accepted: {f.get('name')} ({f.get('kind')})" for f in migrations.get("accepted", [])]
    return "\n".join(lines)


def _aligned(rows: list[tuple[str, ...]], right: tuple[int, ...] = ()) -> list[str]:
    """Rows as columns two spaces apart, each as wide as its widest cell (those in `right` right-aligned).

    A row may have fewer cells than others: its last one runs on (a record's problem) and
    widens no column."""
    if not rows:
        return []

    def sized(row: tuple[str, ...], i: int) -> bool:
        return i < len(row) - 1 or (i in right and i < len(row))

    widths = [max((len(str(row[i])) for row in rows if sized(row, i)), default=0) for i in range(max(map(len, rows)))]
    out = []
    for row in rows:
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
    return out
