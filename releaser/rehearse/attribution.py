"""Which migration lost the data: each new migration's round trip, alone, on the restored backup.

When the revert loses rows, the verdict must name the migration whose reverse lost
them, not only the table. The rehearsal restores its pre-upgrade backup and takes
the new migrations one at a time, in dependency order: a snapshot, the migration
forward, the migration back (Django: its app to its parent in the app, or `zero`;
Alembic: `downgrade` to its down_revision, or `base`), a snapshot again; rows the
round trip did not bring back are that migration's loss. Then it goes forward again
and on to the next. A migration that has no single parent in its app (a merge) is
only applied; with custom `upgrade`/`revert` commands releaser cannot address one
migration, and says nothing more than the tables.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from releaser.core.errors import ReleaserError
from releaser.migrations.graph import Graph, Key
from releaser.rehearse import snapshot
from releaser.rehearse.commands import NOTHING, Commands
from releaser.rehearse.database import Database


@dataclass(frozen=True)
class Loss:
    migration: str  # as findings and `allow` name it
    tables: tuple[str, ...]  # one line per table: which, how many rows

    def line(self) -> str:
        return f"{self.migration}'s reverse loses {'; '.join(self.tables)}"

    def to_json(self) -> dict[str, object]:
        return {"migration": self.migration, "tables": list(self.tables)}


def attribute(
    database: Database, backup: Path, commands: Commands, graph: Graph, start: Graph,
    run: Callable[[tuple[str, ...]], None],
) -> list[Loss]:
    """Each new migration whose round trip alone loses rows (empty when none can be told)."""
    if commands.custom or commands.framework not in ("django", "south", "alembic"):
        return []
    new = {m.key for m in graph.internal() if m.key not in start.migrations}
    parents = graph.effective_parents()
    order = graphlib.TopologicalSorter({k: {p for p in parents.get(k, ()) if p in new} for k in new})
    database.restore(backup)
    found = []
    try:
        for key in order.static_order():
            back = _back(commands.framework, key, parents.get(key, set()))
            forward = _forward(commands, key)
            if back is None:
                run(forward)
                continue
            before = snapshot.take(database)
            run(forward)
            run(back)
            lost, _added = snapshot.compare(before, snapshot.take(database))
            if lost:
                found.append(Loss(graph.label(key), tuple(line.replace(" after the revert", "") for line in lost)))
            run(forward)
    except ReleaserError:
        pass  # a migration that cannot go back alone: what was found so far is what can be told
    return found


def _forward(commands: Commands, key: Key) -> tuple[str, ...]:
    if commands.framework == "alembic":
        return ("alembic", "upgrade", key[1])
    return commands.revert_argv(key[0], key[1])  # Django's `migrate APP NAME` goes either way


def _back(framework: str, key: Key, parents: set[Key]) -> tuple[str, ...] | None:
    own = sorted(p for p in parents if p[0] == key[0]) if framework != "alembic" else sorted(parents)
    if len(own) > 1:
        return None
    target = own[0][1] if own else NOTHING[framework]
    if framework == "alembic":
        return ("alembic", "downgrade", target)
    return ("python", "manage.py", "migrate", "--noinput", key[0], target)
