"""Lock tracing on PostgreSQL: which locks each migration of this RC takes, and for how long.

On seed data every migration looks instant; in production an `ALTER COLUMN ... TYPE`,
a `NOT NULL` with a volatile default or an index built without `CONCURRENTLY` holds a
lock that blocks every query of the table for as long as it rewrites or scans it. So
on PostgreSQL the `upgrade` step applies this RC's migrations one at a time (Django
`manage.py migrate APP NAME`, Alembic `alembic upgrade REV`, in dependency order; the
last by the framework's full upgrade, which also applies what else it has pending, its
own apps' migrations), while a second connection (`releaser.rehearse.lockobserver`)
samples `pg_locks`: which tables each migration locked, in which modes, for how long.
Before and after each migration every table's `relfilenode` is read (one that changed
was rewritten), and the framework's record of applied migrations: a migration the
framework applied along with the one asked for is named with it.

A lock that blocks reads or writes (`BLOCKING`) held on a table longer than
`[migrations] lock-budget` refuses the RC, naming the migration, the table, the mode
and the time. The time is from the first sample that saw the lock to the last one:
a lower bound, so the budget never refuses on a sampling artefact.

One process per migration costs the framework's start-up each time: when no table is
`BATCH_BELOW` bytes or more, locks are short whatever a migration does, and this
RC's migrations run in one upgrade, observed as one (the record says so).
"""

from __future__ import annotations

import graphlib
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from releaser.core.errors import Refused
from releaser.migrations.graph import Graph, Key
from releaser.rehearse.commands import Commands
from releaser.rehearse.database import Database
from releaser.rehearse.lockobserver import Observer, Sample
from releaser.rehearse.postgres import PostgresDatabase
from releaser.rehearse.proof import MIGRATION_TABLES

BATCH_BELOW = 1 << 20  # bytes: the largest table under this, this RC's migrations run in one upgrade
BLOCKING = ("AccessExclusiveLock", "ExclusiveLock", "ShareRowExclusiveLock", "ShareLock")
Command = Callable[[Sequence[str]], None]  # runs one command of the upgrade step (a failure refuses)


def shown_mode(mode: str) -> str:
    """`AccessExclusiveLock` as PostgreSQL's documentation and LOCK TABLE name it: ACCESS EXCLUSIVE."""
    words: list[str] = []
    for ch in mode.removesuffix("Lock"):
        if ch.isupper() and words:
            words.append(" ")
        words.append(ch.upper())
    return "".join(words)


@dataclass(frozen=True)
class LockHeld:
    table: str
    mode: str  # pg_locks' name: AccessExclusiveLock
    seconds: float  # first sample to last sample that saw it: at least this long

    @property
    def blocking(self) -> bool:
        return self.mode in BLOCKING

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "mode": shown_mode(self.mode), "seconds": round(self.seconds, 3), "blocking": self.blocking}


@dataclass(frozen=True)
class Traced:
    """What one migration (or one batch of them) did: its time, the locks seen, the tables rewritten."""

    labels: tuple[str, ...]  # the migrations applied: the one asked for first, then what the framework applied with it
    seconds: float
    locks: tuple[LockHeld, ...]
    rewrites: tuple[str, ...]

    @property
    def migration(self) -> str:
        """Its label; for a batch, "a, b, c"."""
        return ", ".join(self.labels)

    def to_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "seconds": round(self.seconds, 3),
            "locks": [lock.to_json() for lock in self.locks],
            "rewrites": list(self.rewrites),
        }


@dataclass(frozen=True)
class LockTrace:
    """manifest.json's `rehearsal.locks`."""

    traced: bool
    how: str  # for people: one at a time, in one batch, or why nothing was traced
    budget: float | None = None
    migrations: tuple[Traced, ...] = ()

    def to_record(self) -> dict[str, Any]:
        return {"traced": self.traced, "how": self.how, "budget": self.budget, "migrations": [m.to_json() for m in self.migrations]}

    def tables_of(self, label: str) -> set[str] | None:
        """The tables a migration locked, as traced (None: not traced on its own)."""
        for m in self.migrations:
            if m.migration == label:
                return {lock.table.rpartition(".")[2] for lock in m.locks}
        return None


def untraced(engine: str) -> LockTrace:
    return LockTrace(False, f"{engine} has no table locks to trace (it locks the whole database file): not traced")


def order(graph: Graph, new: Sequence[Key]) -> list[Key]:
    """`new` in an order the framework can apply them one at a time: each after what it depends on."""
    wanted = set(new)
    parents = graph.effective_parents()
    sorter = graphlib.TopologicalSorter({k: {p for p in parents.get(k, ()) if p in wanted} for k in sorted(wanted)})
    return list(sorter.static_order())


@contextmanager
def observing(database: Database, framework: str | None = None) -> Iterator[Observer | None]:
    """The upgrade's observer on PostgreSQL (None elsewhere), opened now: it connects while the caller backs up.

    `framework` names the ledger read around each migration (`proof.MIGRATION_TABLES`).
    """
    if not isinstance(database, PostgresDatabase):
        yield None
        return
    with Observer(database, MIGRATION_TABLES.get(framework or "")) as observer:
        yield observer


def upgrade(
    database: Database, observer: Observer | None, graph: Graph, new: Sequence[Key], commands: Commands, command: Command,
    budget: float | None,
) -> LockTrace:
    """The `upgrade` step: with an observer traced (this RC's migrations one at a time when it can), else plain."""
    if observer is None:
        command(commands.upgrade)
        return untraced(database.engine)
    steps = [(graph.label(key), commands.forward_argv(*key)) for key in order(graph, new)]
    if any(argv is None for _, argv in steps):  # a custom upgrade command: releaser cannot apply one migration
        steps = []
    own = {graph.label(k) for m in graph.internal() for k in (m.key, *m.replaces)}
    return traced_upgrade(observer, [(label, argv) for label, argv in steps if argv is not None], commands.upgrade, command, budget, own)


def traced_upgrade(
    observer: Observer,
    steps: Sequence[tuple[str, Sequence[str]]],
    upgrade: Sequence[str],
    command: Command,
    budget: float | None,
    own: Collection[str] = (),
) -> LockTrace:
    """Apply `steps` (label, command: one migration each) observed, the last of them by `upgrade`; see the module docstring.

    `upgrade` applies the last step's migration and anything else pending, so no upgrade follows:
    one framework start-up per migration, no more. With no step, or no table of `BATCH_BELOW`
    bytes or more, `upgrade` alone runs, observed as one. A migration the ledger shows applied
    beside those asked for is named with them, unless it is one of the project's own (`own`:
    one replaced by a squashed migration, recorded with it).
    """
    if not steps or observer.largest() < BATCH_BELOW:
        how = f"in one upgrade (no table of {BATCH_BELOW >> 20} MiB or more)" if steps else "the upgrade (no migration of its own)"
        found = _observed(observer, [label for label, _ in steps], upgrade, command, own)
        _judge(found, budget)
        return LockTrace(True, how, budget, (found,))
    traced = []
    for i, (label, argv) in enumerate(steps):
        found = _observed(observer, [label], upgrade if i == len(steps) - 1 else argv, command, own)
        traced.append(found)
        _judge(found, budget)
    return LockTrace(True, "one migration at a time", budget, tuple(traced))


def _observed(observer: Observer, labels: list[str], argv: Sequence[str], command: Command, own: Collection[str]) -> Traced:
    """`argv` run observed; `labels` the migrations it is to apply (none: the whole upgrade, named as such)."""
    started = time.perf_counter()
    observer.watch()
    try:
        command(argv)
    finally:
        seen = observer.pause()
    seconds = time.perf_counter() - started
    named = (*labels, *sorted(seen.applied - set(labels) - set(own))) if labels else ("the upgrade",)
    return Traced(named, seconds, held(seen.samples), seen.rewrites)


def _judge(found: Traced, budget: float | None) -> None:
    if budget is None:
        return
    for lock in found.locks:
        if lock.blocking and lock.seconds > budget:
            who = f"one of the migrations {found.migration} (applied in one upgrade)" if len(found.labels) > 1 else f"migration {found.migration}"
            rewrote = f", rewriting {lock.table}" if lock.table in found.rewrites else ""
            raise Refused(
                f"rehearsal step 'upgrade': {who} held {shown_mode(lock.mode)} on {lock.table} for {lock.seconds:.2f} s"
                f"{rewrote}, more than [migrations] lock-budget {budget:g} s: every query of {lock.table} waits that long "
                "in production; nothing is recorded (make the change in steps that lock briefly, or raise lock-budget)"
            )


def held(samples: Sequence[Sample]) -> tuple[LockHeld, ...]:
    """Each (table, mode) seen, with the longest run of consecutive samples that saw it."""
    longest: dict[tuple[str, str], float] = {}
    since: dict[tuple[str, str], float] = {}
    last: float | None = None
    for moment, locks in samples:
        for key in list(since):
            if key not in locks:
                longest[key] = max(longest.get(key, 0.0), (last or moment) - since.pop(key))
        for key in locks:
            since.setdefault(key, moment)
            longest.setdefault(key, 0.0)
        last = moment
    for key, start in since.items():
        longest[key] = max(longest[key], (last or start) - start)
    return tuple(LockHeld(t, m, s) for (t, m), s in sorted(longest.items()))
