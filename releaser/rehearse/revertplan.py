"""The revert plan: the ordered steps, and the commands, that take a database from RC back to PREV.

One plan, three renderings: the rehearsal runs its commands (step 4), the record
keeps it as an executable `revert.sh` (rendered from the Jinja2 template
`revert.sh.j2`: a post-update backup, the migrate-back commands, a check of each
app), and `releaser revert-plan RC [--to PREV] [--json]` prints it from the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError
from releaser.core.escaping import Trusted, template_environment
from releaser.core.migration_config import MigrationSettings
from releaser.core.redact import shown_command
from releaser.migrations.graph import Graph
from releaser.migrations.loader import read_graph_at
from releaser.record import records
from releaser.rehearse.commands import (
    Commands,
    RevertStep,
    app_dependencies,
    revert_steps,
)

SCRIPT = "revert.sh"
TEMPLATE = "revert.sh.j2"


@dataclass(frozen=True)
class RevertPlan:
    project: str
    records: str  # the records folder, relative to the project root
    rc: str
    to: str | None  # the previous RC; None for the first RC of a line
    framework: str
    steps: tuple[RevertStep, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rc": self.rc,
            "to": self.to,
            "framework": self.framework,
            "backup": "first, a backup of the database as it is (revert.sh: SQLite backup API, pg_dump -Fc)",
            "steps": [s.to_json() for s in self.steps] if self.to is not None else [],
        }

    def render(self) -> str:
        """The plan as a release engineer reads it."""
        if self.to is None:
            return f"{self.rc} is the first RC of its line: there is no earlier RC to revert to\n"
        lines = [
            f"revert {self.project} from {self.rc} to {self.to} ({self.framework}), from the project root, "
            f"DATABASE_URL naming the database (or run {self.records}/{self.rc}/{SCRIPT}):",
            "  1. back up the database as it is now",
        ]
        if not self.steps:
            lines.append(f"  2. nothing to migrate back: {self.rc} has the same heads as {self.to}")
        for i, step in enumerate(self.steps, start=2):
            lines.append(f"  {i}. {step.app} -> {step.target}: {shown_command(step.argv)}")
        checks = [s.check for s in self.steps if s.check]
        if checks:
            lines.append(f"  {len(self.steps) + 2}. check: " + "; ".join(checks))
        lines.append(f"  then deploy {self.to}'s code")
        return "\n".join(lines) + "\n"

    def script(self) -> str:
        """revert.sh."""
        from releaser.record.manifest import default_template

        # Every value becomes one quoted shell word; a command line is already quoted words.
        env = template_environment("shell")
        env.filters["shell"] = lambda argv: Trusted(shown_command(argv))
        return env.from_string(default_template(TEMPLATE)).render(plan=self)


def make_plan(
    config: ReleaseConfig,
    rc: str,
    to: str | None,
    from_heads: Mapping[str, Iterable[str]],
    to_heads: Mapping[str, Iterable[str]],
    depends: Mapping[str, set[str]],
) -> RevertPlan:
    commands = Commands.of(_settings(config))
    steps = revert_steps(commands, from_heads, to_heads, depends)  # with no `to`: back to nothing
    return RevertPlan(config.release.name, config.release.records, rc, to, commands.framework, tuple(steps))


def plan_from_records(config: ReleaseConfig, rc: str, to: str | None = None) -> RevertPlan:
    """The plan from RC's record back to PREV's (default: the RC recorded just before RC)."""
    folder = records.records_dir(config)
    current = records.read(folder, rc)
    earlier = [name for name in records.recorded(folder)]
    earlier = earlier[: earlier.index(rc)] if rc in earlier else []
    if to is None:
        to = earlier[-1] if earlier else None
    elif to not in earlier:
        raise ConfigError(f"--to {to}: not an RC recorded before {rc} (earlier: {', '.join(earlier) or 'none'})")
    settings = _settings(config)
    graph = recorded_graph(settings, config.root, current)
    to_heads = recorded_graph(settings, config.root, records.read(folder, to)).heads() if to is not None else {}
    return make_plan(config, rc, to, graph.heads(), to_heads, graph_dependencies(graph))


def recorded_graph(settings: MigrationSettings, root: Path, record: records.Record) -> Graph:
    """An RC's migration graph: as its record keeps it, else read at the commit it names."""
    found = record.manifest.get("migrations")
    if isinstance(found, dict):
        return Graph.from_record(found)
    commit = record.manifest.get("commit")
    if not isinstance(commit, str):
        raise ConfigError(f"{record.rc}'s record names no commit: its migrations cannot be read")
    return read_graph_at(settings, root, commit)


def graph_dependencies(graph: Graph) -> dict[str, set[str]]:
    """Which apps a graph's migrations depend on, per app."""
    return app_dependencies((m.app, [p[0] for p in m.parents]) for m in graph.migrations.values())


def _settings(config: ReleaseConfig) -> MigrationSettings:
    settings = config.migrations
    if settings is None:
        raise ConfigError(f"{config.path}: no [migrations] table: releaser knows no migrations to revert")
    return settings
