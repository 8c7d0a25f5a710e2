"""What each page of the site says, as values: the index's line of RCs, and one RC's pins,
migrations and rehearsal, each compared with the RC before it.

Pins are compared as `releaser diff` compares them (`releaser.reproduce.diffing`), so the
site and the command line never disagree about what changed. Ages are at the cut: how
old a pin's upload or build was when the RC was recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from releaser.core.errors import ReleaserError
from releaser.core.kinds import KINDS
from releaser.migrations.graph import Graph, undotted
from releaser.rehearse.rehearsing import NOISE
from releaser.reproduce import diffing
from releaser.site import graphs, svg
from releaser.site.history import Entry


@dataclass(frozen=True)
class PinRow:
    kind: str
    name: str
    version: str
    date: str  # YYYY-MM-DD, or "" when unknown
    age_days: int | None  # at the cut
    change: str  # "", "changed", "new"
    before: str = ""  # the previous RC's version, for a changed pin


@dataclass(frozen=True)
class GonePin:
    kind: str
    name: str
    version: str


@dataclass(frozen=True)
class MigrationRow:
    app: str
    name: str
    file: str
    reversible: bool | None


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    previous_seconds: float | None
    did: str


@dataclass(frozen=True)
class Rc:
    """One RC as the site shows it: the index's row and its own page."""

    entry: Entry
    previous: str | None
    cut_at: str
    commit: str
    pins: tuple[PinRow, ...]
    gone: tuple[GonePin, ...]
    by_kind: tuple[tuple[str, int], ...]
    migrations: tuple[MigrationRow, ...]
    drawings: tuple[tuple[str, Markup], ...]  # (app, its graph around the new migrations)
    rehearsal: str  # "passed", "not rehearsed", or what the record says
    steps: tuple[Step, ...]
    max_slowdown: float | None

    @property
    def rc(self) -> str:
        return self.entry.rc

    @property
    def changed(self) -> int:
        return sum(1 for p in self.pins if p.change == "changed")

    @property
    def appeared(self) -> int:
        return sum(1 for p in self.pins if p.change == "new")

    @property
    def total_seconds(self) -> float | None:
        return round(sum(s.seconds for s in self.steps), 3) if self.steps else None


def line(entries: list[Entry]) -> list[Rc]:
    """Every entry as the site shows it, oldest first; each compared with the readable RC before it."""
    shown: list[Rc] = []
    previous: Entry | None = None
    for entry in entries:
        shown.append(_rc(entry, previous))
        if entry.ok:
            previous = entry
    return shown


def _rc(entry: Entry, previous: Entry | None) -> Rc:
    manifest = entry.manifest or {}
    before = previous.rc if previous is not None else None
    if not entry.ok:
        return Rc(entry, before, "", "", (), (), (), (), (), "unknown", (), None)
    cut_at = _text(manifest.get("cut_at"))
    pins, gone = _pins(entry, previous, _moment(cut_at))
    counts = dict.fromkeys(KINDS, 0)
    for pin in pins:
        counts[pin.kind] = counts.get(pin.kind, 0) + 1
    problems: list[str] = []
    migrations, drawings = _migrations(manifest, previous, problems)
    rehearsal, steps, slowdown = _rehearsal(manifest.get("rehearsal"), problems)
    if problems:
        entry = Entry(entry.rc, entry.source, entry.manifest, entry.files, entry.problems + tuple(problems))
    return Rc(
        entry, before, cut_at, _text(manifest.get("commit")), tuple(pins), tuple(gone),
        tuple((k, n) for k, n in counts.items() if n), tuple(migrations), tuple(drawings), rehearsal, tuple(steps), slowdown,
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _pins(entry: Entry, previous: Entry | None, cut_at: datetime | None) -> tuple[list[PinRow], list[GonePin]]:
    """The RC's pins, each marked as `releaser diff` would mark it against `previous` (a pin needed on
    only some targets: one row per marker), and the pins that went."""

    def key(pin: dict[str, Any]) -> tuple[str, str, str]:
        return pin["kind"], pin["name"], _text(pin.get("marker"))

    now = {key(p): p for p in entry.pins}
    before = {key(p): p for p in previous.pins} if previous is not None else None
    rows = []
    for (kind, name, marker), pin in now.items():
        change, was = "", ""
        if before is not None:
            old = before.get((kind, name, marker))
            if old is None:
                change = "new"
            elif old != pin and _differ(diffing.entry_document(old), diffing.entry_document(pin)):
                change, was = "changed", str(old["version"])
        date = _moment(_text(pin.get("date")))
        age = (cut_at - date).days if cut_at is not None and date is not None else None
        rows.append(PinRow(kind, diffing.named(name, marker), pin["version"], date.strftime("%Y-%m-%d") if date else "", age, change, was))
    gone = [GonePin(k, diffing.named(n, m), str(p["version"])) for (k, n, m), p in (before or {}).items() if (k, n, m) not in now]
    return rows, gone


def _differ(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return any(a[f] != b[f] for f in diffing.FIELDS)


def _migrations(manifest: dict[str, Any], previous: Entry | None, problems: list[str]) -> tuple[list[MigrationRow], list[tuple[str, Markup]]]:
    """The migrations this RC added (its record's `new`; the first RC: all of them), and a drawing per app.

    The gate records `new` against the RC it compared with; with none (the first RC of a line), every
    migration the RC holds came with it, unless an earlier RC of this line recorded a graph too."""
    recorded = manifest.get("migrations")
    if not isinstance(recorded, dict):
        return [], []
    try:
        graph = Graph.from_record(recorded)
        new = recorded.get("new")
        if isinstance(new, list) and recorded.get("previous") is not None:  # the gate compared with an RC
            added = {undotted(str(k)) for k in new}
        elif previous is not None and isinstance((previous.manifest or {}).get("migrations"), dict):
            moved_in, _ = diffing.migration_changes((previous.manifest or {})["migrations"], recorded)
            added = {undotted(m.migration) for m in moved_in}
        else:
            added = {m.key for m in graph.internal()}
    except (ReleaserError, ValueError, TypeError, KeyError) as exc:
        problems.append(f"its migration graph cannot be read: {exc}")
        return [], []
    rows = [MigrationRow(m.app, m.name, m.file, m.reversible) for m in graph.internal() if m.key in added]
    apps = sorted({m.app for m in rows})
    drawings = [(app, Markup(graphs.app_drawing(graph, app, added))) for app in apps]
    return rows, drawings


def _rehearsal(recorded: Any, problems: list[str]) -> tuple[str, list[Step], float | None]:
    if not isinstance(recorded, dict):
        return "not rehearsed", [], None
    if not recorded.get("ran"):
        return "not rehearsed", [], None
    steps = []
    listed = recorded.get("steps")
    for item in listed if isinstance(listed, list) else ():
        try:
            before = item.get("previous_seconds")
            steps.append(Step(str(item["name"]), float(item["seconds"]), float(before) if before is not None else None, str(item.get("did", ""))))
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append("a rehearsal step of its record has no name or time")
    slowdown = recorded.get("max_slowdown")
    usable = isinstance(slowdown, (int, float)) and not isinstance(slowdown, bool) and 0 < slowdown < float("inf")
    return _text(recorded.get("verdict")) or "unknown", steps, float(slowdown) if usable and slowdown is not None else None





@dataclass(frozen=True)
class Timings:
    """Every rehearsal step's time across the line, drawn once; each RC's page shades its own."""

    chart: svg.Chart
    at: dict[str, int]  # RC -> its x on the chart

    def shown(self, rc: str | None = None) -> Markup:
        return Markup(self.chart.svg(self.at.get(rc) if rc is not None else None))


def timings_chart(line: list[Rc]) -> Timings | None:
    """Every rehearsal step's time across the line, one series per step, with the ceiling max-slowdown sets."""
    rehearsed = [rc for rc in line if rc.steps]
    if not rehearsed:
        return None
    names: list[str] = []
    for rc in rehearsed:
        names += [s.name for s in rc.steps if s.name not in names]
    labels = [rc.rc for rc in rehearsed]
    series = []
    for name in names:
        values = tuple(next((s.seconds for s in rc.steps if s.name == name), None) for rc in rehearsed)
        ceilings = tuple(_ceiling(rc, name) for rc in rehearsed)
        series.append(svg.Series(name, values, ceilings))
    return Timings(svg.line_chart("rehearsal step times by RC", labels, series), {rc.rc: i for i, rc in enumerate(rehearsed)})


def _ceiling(rc: Rc, name: str) -> float | None:
    step = next((s for s in rc.steps if s.name == name), None)
    if step is None or step.previous_seconds is None or rc.max_slowdown is None:
        return None
    return max(rc.max_slowdown * step.previous_seconds, step.previous_seconds + NOISE)
