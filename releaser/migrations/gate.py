"""The migration gate: read this tree's graph, and the graphs it is judged against, then every verdict.

`evaluate` is what `releaser migrations`, `check` and `cut` share. The previous RC
comes in as a plain value (`Previous`, from its record), so this stage never reads
records itself. Reading trunk and each `upgrade-from` ref is a git read, offline.
"""

from __future__ import annotations

from pathlib import Path

from releaser.core.errors import ConfigError
from releaser.core.migration_config import MigrationSettings
from releaser.migrations import verdicts
from releaser.migrations.graph import Graph, dotted
from releaser.migrations.loader import read_graph, read_graph_at
from releaser.migrations.report import MigrationFinding, Previous, Report


def evaluate(settings: MigrationSettings, root: Path, previous: Previous | None = None) -> Report:
    """Every finding on the working tree under `root`, with `allow` applied."""
    graph = read_graph(settings, root)
    notes = list(graph.warnings)
    baseline = _baseline(graph, previous, notes)
    findings: list[MigrationFinding] = verdicts.heads(graph)
    new = verdicts.new_since(graph, baseline)
    if baseline is not None and previous is not None:
        findings += verdicts.history(graph, baseline, previous.rc, previous.commit)
        findings += verdicts.upgrade(graph, baseline, previous.rc, missing=False)
        irreversible, unknown = verdicts.reversibility(graph, new)
        findings += irreversible
        notes += unknown
    if settings.trunk is not None:
        findings += verdicts.trunk(graph, _at(settings, root, settings.trunk, "trunk"), settings.trunk)
    for ref in settings.upgrade_from:
        findings += verdicts.upgrade(graph, _at(settings, root, ref, "upgrade-from"), ref)
    report = Report(
        graph,
        tuple(_unique(findings)),
        previous=previous.rc if baseline is not None and previous is not None else None,
        new=tuple(dotted(k) for k in new),
        notes=tuple(notes),
    )
    return report.accepting(settings.allow)


def _baseline(graph: Graph, previous: Previous | None, notes: list[str]) -> Graph | None:
    if previous is None:
        return None
    if previous.migrations is None:
        notes.append(f"{previous.rc} recorded no migrations: history is recorded from this RC on, not judged")
        return None
    recorded = Graph.from_record(previous.migrations)
    if recorded.framework != graph.framework:
        notes.append(f"{previous.rc} recorded {recorded.framework} migrations, this tree has {graph.framework}: not compared")
        return None
    return recorded


def _at(settings: MigrationSettings, root: Path, ref: str, key: str) -> Graph:
    try:
        return read_graph_at(settings, root, ref)
    except ConfigError as exc:
        raise ConfigError(f"[migrations] {key}: {exc}") from None


def _unique(findings: list[MigrationFinding]) -> list[MigrationFinding]:
    """The same finding reached twice (e.g. from two upgrade-from refs with one history) once."""
    return list({(f.kind, f.name, f.message): f for f in findings}.values())
