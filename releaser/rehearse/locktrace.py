"""Lock tracing on PostgreSQL: which locks each migration of this RC takes, and for how long.

On seed data every migration looks instant; in production an `ALTER COLUMN ... TYPE`,
a `NOT NULL` with a volatile default or an index built without `CONCURRENTLY` holds a
lock that blocks every query of the table for as long as it rewrites or scans it. So
on PostgreSQL the `upgrade` step applies this RC's migrations one at a time (Django
`manage.py migrate APP NAME`, Alembic `alembic upgrade REV`, in dependency order, then
the framework's full upgrade for anything else), while a second connection (one
`psql` for the whole step) samples `pg_locks` every `INTERVAL` seconds: which tables
each migration locked, in which modes, for how long. Before and after each migration
every table's `relfilenode` is read: one that changed was rewritten.

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
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from releaser.core.errors import Refused, UpstreamError
from releaser.migrations.graph import Graph, Key
from releaser.rehearse.commands import Commands
from releaser.rehearse.database import Database
from releaser.rehearse.postgres import FIELD, PostgresDatabase

INTERVAL = 0.02  # seconds between two samples of pg_locks
BATCH_BELOW = 1 << 20  # bytes: the largest table under this, this RC's migrations run in one upgrade
BLOCKING = ("AccessExclusiveLock", "ExclusiveLock", "ShareRowExclusiveLock", "ShareLock")
_SEP, _PART = "\x1e", "\x1f"  # between locks of one sample, between a lock's fields: no table name has them
_USER_TABLES = (
    "c.relkind IN ('r', 'p', 'm') AND c.relnamespace NOT IN "
    "('pg_catalog'::regnamespace, 'information_schema'::regnamespace, 'pg_toast'::regnamespace)"
)
# One row per sample: its time, then every (table, mode) another session holds in this database.
_SAMPLE = (
    "SELECT extract(epoch FROM clock_timestamp())::text || '" + FIELD + "' || coalesce(string_agg("
    "c.oid::regclass::text || E'\\x1f' || l.mode, E'\\x1e'), '') "
    "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
    "WHERE l.granted AND l.pid <> pg_backend_pid() "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND " + _USER_TABLES
)
_FILES = "SELECT '{tag}" + FIELD + "' || c.oid::regclass::text || '" + FIELD + "' || c.relfilenode FROM pg_class c WHERE " + _USER_TABLES
_LARGEST = "SELECT coalesce(max(pg_relation_size(c.oid)), 0) FROM pg_class c WHERE " + _USER_TABLES
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

    migration: str  # its label; for a batch, "a, b, c"
    seconds: float
    locks: tuple[LockHeld, ...]
    rewrites: tuple[str, ...]

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


def upgrade(
    database: Database, graph: Graph, new: Sequence[Key], commands: Commands, command: Command, budget: float | None,
) -> LockTrace:
    """The `upgrade` step: on PostgreSQL traced (this RC's migrations one at a time when it can), else plain."""
    if not isinstance(database, PostgresDatabase):
        command(commands.upgrade)
        return untraced(database.engine)
    steps = [(graph.label(key), commands.forward_argv(*key)) for key in order(graph, new)]
    if any(argv is None for _, argv in steps):  # a custom upgrade command: releaser cannot apply one migration
        steps = []
    return traced_upgrade(database, [(label, argv) for label, argv in steps if argv is not None], commands.upgrade, command, budget)


def traced_upgrade(
    database: PostgresDatabase,
    steps: Sequence[tuple[str, Sequence[str]]],
    upgrade: Sequence[str],
    command: Command,
    budget: float | None,
) -> LockTrace:
    """Apply `steps` (label, command: one migration each) observed, then `upgrade`; see the module docstring.

    With no step, or no table of `BATCH_BELOW` bytes or more, `upgrade` alone runs, observed as one.
    """
    with _Observer(database) as observer:
        if not steps or observer.largest() < BATCH_BELOW:
            label = ", ".join(label for label, _ in steps) or "the upgrade"
            how = f"in one upgrade (no table of {BATCH_BELOW >> 20} MiB or more)" if steps else "the upgrade (no migration of its own)"
            found = _observed(observer, label, upgrade, command)
            _judge(found, budget, batch=len(steps) > 1)
            return LockTrace(True, how, budget, (found,))
        traced = []
        for label, argv in steps:
            found = _observed(observer, label, argv, command)
            traced.append(found)
            _judge(found, budget, batch=False)
    command(upgrade)  # the framework's own migrations, if any; this RC's are all applied
    return LockTrace(True, "one migration at a time", budget, tuple(traced))


def _observed(observer: _Observer, label: str, argv: Sequence[str], command: Command) -> Traced:
    started = time.perf_counter()
    observer.watch()
    try:
        command(argv)
    finally:
        samples, before, after = observer.pause()
    seconds = time.perf_counter() - started
    rewrites = tuple(sorted(t for t, node in after.items() if t in before and before[t] != node))
    return Traced(label, seconds, held(samples), rewrites)


def _judge(found: Traced, budget: float | None, *, batch: bool) -> None:
    if budget is None:
        return
    for lock in found.locks:
        if lock.blocking and lock.seconds > budget:
            who = f"one of this RC's migrations ({found.migration}, applied in one upgrade)" if batch else f"migration {found.migration}"
            rewrote = f", rewriting {lock.table}" if lock.table in found.rewrites else ""
            raise Refused(
                f"rehearsal step 'upgrade': {who} held {shown_mode(lock.mode)} on {lock.table} for {lock.seconds:.2f} s"
                f"{rewrote}, more than [migrations] lock-budget {budget:g} s: every query of {lock.table} waits that long "
                "in production; nothing is recorded (make the change in steps that lock briefly, or raise lock-budget)"
            )


Sample = tuple[float, set[tuple[str, str]]]  # when, every (table, mode) held


class _Observer:
    """One `psql` on a second connection for the whole upgrade step, its input kept open.

    For each migration: every table's relfilenode, pg_locks sampled every INTERVAL (a
    thread writes the query), the relfilenodes again. One connection for all of them:
    tracing costs one psql start-up and a few milliseconds a migration.
    """

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        self._samples: list[Sample] = []
        self._files: tuple[dict[str, str], dict[str, str]] = ({}, {})
        self._largest = 0
        self._sampled, self._answered = threading.Event(), threading.Event()

    def __enter__(self) -> _Observer:
        try:
            self.process = subprocess.Popen(
                ["psql", "-X", "-q", "-A", "-t", "--no-password", "-f", "-"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.database.client_env(),
            )
        except OSError as exc:
            raise UpstreamError(f"rehearsal step 'upgrade': psql cannot observe the locks: {exc}") from None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._send("\\q\n")
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(10)

    def largest(self) -> int:
        """The size in bytes of the largest table."""
        self._ask(f"SELECT 'L{FIELD}' || ({_LARGEST});\n", "the table sizes")
        return self._largest

    def watch(self) -> None:
        """Start a round: the relfilenodes, then a sample every INTERVAL; returns once the first sample is in."""
        self._samples, self._files = [], ({}, {})
        self._stop = threading.Event()
        self._sampled.clear()
        self._send(f"{_FILES.format(tag='B')};\n")
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        if not self._sampled.wait(60):
            raise UpstreamError("rehearsal step 'upgrade': psql observing the locks took no sample within 60 s")

    def pause(self) -> tuple[list[Sample], dict[str, str], dict[str, str]]:
        """End the round: the samples, and the relfilenodes before and after."""
        self._stop.set()
        self.sampler.join()
        self._ask(f"{_FILES.format(tag='A')};\nSELECT 'E{FIELD}';\n", "the relfilenodes")
        return list(self._samples), self._files[0], self._files[1]

    def _sample(self) -> None:
        # Python paces the samples: no \\watch, whose interrupt a script-reading psql may take as "quit".
        while not self._stop.is_set():
            self._send(f"{_SAMPLE};\n")
            self._stop.wait(INTERVAL)

    def _ask(self, text: str, what: str) -> None:
        self._answered.clear()
        self._send(text)
        if not self._answered.wait(60):
            raise UpstreamError(f"rehearsal step 'upgrade': psql observing the locks gave no answer ({what}) within 60 s")

    def _send(self, text: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(text.encode())
            self.process.stdin.flush()
        except OSError:
            pass  # psql is gone: _ask says so

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            tag, _, rest = raw.decode("utf-8", "replace").rstrip("\n").partition(FIELD)
            if tag in ("B", "A"):
                table, _, node = rest.partition(FIELD)
                self._files[tag == "A"][table] = node
            elif tag == "L":
                self._largest = int(rest or 0)
                self._answered.set()
            elif tag == "E":
                self._answered.set()
            else:
                try:
                    moment = float(tag)
                except ValueError:
                    continue  # a blank line between samples
                locks = {tuple(item.split(_PART, 1)) for item in rest.split(_SEP) if _PART in item}
                self._samples.append((moment, locks))  # type: ignore[arg-type]
                self._sampled.set()


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
