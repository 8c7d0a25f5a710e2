"""What the migration gate decides, as a value: findings, heads, what is new, a JSON document.

`releaser migrations`, `releaser check` and `releaser cut` all show or refuse on
one `Report`, so they cannot disagree. The JSON form is documented in
docs/migrations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from releaser.migrations.graph import Graph, undotted

# Every kind of finding, in the order they are reported (docs/migrations.md, verdicts 1-5).
KINDS = (
    "multiple-heads",  # 1: an app (Django) or script directory (Alembic) with more than one head
    "duplicate",  # 1: a number (South) or version (Flyway) or revision id used twice
    "removed",  # 2: recorded in the previous RC, gone now (or renamed)
    "changed",  # 2: recorded in the previous RC, changed in meaning now
    "not-on-trunk",  # 3: trunk lacks it
    "trunk-parents",  # 3: trunk has it with other dependencies
    "upgrade",  # 4: a database at an earlier release cannot be upgraded to this tree in order
    "irreversible",  # 5: new since the previous RC and cannot be reversed
)


@dataclass(frozen=True)
class MigrationFinding:
    """One reason to refuse: `name` is what `allow` accepts it by (`app.0042_x`, `app.0039`, a revision id, a version)."""

    name: str
    kind: str
    migration: str  # the migration(s) it is about, as the framework names them
    file: str  # the file(s), relative to the project root
    message: str
    fix: str  # the command or edit that fixes it
    accepted: bool = False

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "refused"

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind,
            "migration": self.migration,
            "file": self.file,
            "status": self.status,
            "message": self.message,
            "fix": self.fix,
        }

    def lines(self) -> list[str]:
        return [f"{self.status}: {self.kind} {self.name}: {self.message}", f"  file: {self.file}", f"  fix: {self.fix}"]


@dataclass(frozen=True)
class Previous:
    """The previous RC as its record keeps it: the baseline of verdicts 2, 4 and 5."""

    rc: str
    commit: str | None
    migrations: Mapping[str, Any] | None  # manifest.json "migrations"; None: the RC recorded none


@dataclass(frozen=True)
class Report:
    graph: Graph
    findings: tuple[MigrationFinding, ...] = ()
    previous: str | None = None  # the RC compared with; None for the first RC of a line
    new: tuple[str, ...] = ()  # "app.name" of every migration new since the previous RC
    notes: tuple[str, ...] = ()  # warnings: files read by name only, allow entries that matched nothing

    def __post_init__(self) -> None:
        order = {k: i for i, k in enumerate(KINDS)}
        object.__setattr__(self, "findings", tuple(sorted(self.findings, key=lambda f: (order[f.kind], f.name, f.message))))

    @property
    def refused(self) -> tuple[MigrationFinding, ...]:
        return tuple(f for f in self.findings if not f.accepted)

    @property
    def ok(self) -> bool:
        return not self.refused

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def accepting(self, allow: tuple[str, ...]) -> Report:
        """The same report with every finding named exactly in `allow` accepted; unused names are noted."""
        # A migration new in this RC is a name too: the rehearsal's findings (compat, locks, lint) are accepted by it.
        used = {f.name for f in self.findings} | {self.graph.label(undotted(n)) for n in self.new}
        notes = [f"allow names {name!r}, which no finding and no new migration has" for name in allow if name not in used]
        findings = tuple(replace(f, accepted=f.name in allow) for f in self.findings)
        return replace(self, findings=findings, notes=self.notes + tuple(notes))

    def record(self) -> dict[str, Any]:
        """manifest.json "migrations": the graph, what is new in this RC, the findings `allow` accepted."""
        accepted = [{k: f.to_dict()[k] for k in ("name", "kind", "message")} for f in self.findings if f.accepted]
        return {**self.graph.to_record(), "new": list(self.new), "previous": self.previous, "accepted": accepted}

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.graph.framework,
            "ok": self.ok,
            "previous": self.previous,
            "heads": {app: list(h) for app, h in sorted(self.graph.heads().items())},
            "new": list(self.new),
            "findings": [f.to_dict() for f in self.findings],
            "warnings": list(self.notes),
        }

    def lines(self) -> list[str]:
        """For people: every finding, the warnings, then one summary line."""
        out = [line for f in self.findings for line in f.lines()]
        out += [f"warning: {note}" for note in self.notes]
        heads = "; ".join(f"{app} {', '.join(h)}" for app, h in sorted(self.graph.heads().items()) if h)
        since = f"{len(self.new)} new since {self.previous}" if self.previous else "no earlier RC to compare with"
        count = len(self.graph.internal())
        summary = f"migrations ({self.graph.framework}): {count} read, {since}; heads: {heads or 'none'}"
        refused = len(self.refused)
        out.append(summary + (f"; {refused} refused" if refused else "; nothing refused"))
        return out

    def render(self) -> str:
        return "\n".join(self.lines())
