"""The second connection that watches the upgrade on PostgreSQL: one `psql`, its input kept open.

It is opened before the `backup` step (`locktrace.observing`), so it connects while
`pg_dump` runs and the `upgrade` step pays no client start-up for it. For each
migration (a round): every table's relfilenode and the framework's record of applied
migrations (its ledger: `django_migrations`, `alembic_version`), then `pg_locks`
sampled while the migration runs, then the relfilenodes and the ledger again.

Samples start every `INTERVAL` seconds and space out to `1/SPACING` of the time the
migration has run so far (at most `LONGEST`): a lock's time stays within a few percent
of the truth while a long rewrite is sampled a few times a second, not fifty. The
sampling query is prepared once: each sample is one `EXECUTE`.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from typing import NoReturn

from releaser.core.errors import UpstreamError
from releaser.rehearse.postgres import FIELD, PostgresDatabase, ident

INTERVAL = 0.02  # seconds between the first samples of a round
SPACING = 50  # later, one sample every 1/SPACING of the round's time so far ...
LONGEST = 0.25  # ... but never fewer than one every LONGEST seconds
WAIT = 60  # seconds psql may take to answer
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
_PREPARE = f"PREPARE releaser_locks AS {_SAMPLE};\n"
_EXECUTE = "EXECUTE releaser_locks;\n"
_FILES = f"SELECT 'F{FIELD}' || c.oid::regclass::text || '{FIELD}' || c.relfilenode FROM pg_class c WHERE {_USER_TABLES};\n"
_LARGEST = f"SELECT 'L{FIELD}' || coalesce(max(pg_relation_size(c.oid)), 0) FROM pg_class c WHERE {_USER_TABLES};\n"
_END = f"SELECT 'E{FIELD}';\n"  # the last line of every answer

Sample = tuple[float, set[tuple[str, str]]]  # when, every (table, mode) held
Ledger = tuple[str, tuple[str, ...]]  # the framework's table of applied migrations, its columns (app and name, or the revision)


@dataclass(frozen=True)
class Round:
    """What one round saw: the samples, the tables whose files changed, the migrations the ledger gained."""

    samples: tuple[Sample, ...]
    rewrites: tuple[str, ...]
    applied: frozenset[str]  # as the graph labels them: `app.name`, or the revision


class Observer:
    """A `psql` reading a script from a pipe: the queries are sent as the upgrade goes, the answers read by a thread."""

    def __init__(self, database: PostgresDatabase, ledger: Ledger | None = None) -> None:
        self.database = database
        self._state = _FILES
        if ledger is not None:  # the ledger's rows as the graph labels them; a missing table answers nothing
            table, columns = ledger
            self._state += f"SELECT 'M{FIELD}' || concat_ws('.', {', '.join(ident(c) for c in columns)}) FROM {ident(table)};\n"
        self._samples: list[Sample] = []
        self._answer: list[tuple[str, str]] = []
        self._answered = threading.Event()
        self._sampled = threading.Event()
        self._stop = threading.Event()
        self._largest: int | None = None
        self._gone = False

    def __enter__(self) -> Observer:
        try:
            self.process = subprocess.Popen(
                ["psql", "-X", "-q", "-A", "-t", "--no-password", "-f", "-"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.database.client_env(),
            )
        except OSError as exc:
            raise UpstreamError(f"rehearsal step 'upgrade': psql cannot observe the locks: {exc}") from None
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self._request(_PREPARE + _LARGEST)  # answered while the caller does something else (the backup)
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
        """The size in bytes of the largest table, as it was when the observer was opened."""
        if self._largest is None:
            self._largest = next((int(rest or 0) for tag, rest in self._collect("the table sizes") if tag == "L"), 0)
        return self._largest

    def watch(self) -> None:
        """Start a round: the relfilenodes and the ledger, then a sample; returns once the first sample is in."""
        self.largest()  # its answer comes first
        self._samples = []
        self._stop.clear()
        self._sampled.clear()
        self._request(self._state)  # psql answers in order: this, then the first sample, one round trip for both
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()
        if not self._sampled.wait(WAIT) or self._gone:
            self._failed("took no sample")
        self._before = self._collect("the relfilenodes")

    def pause(self) -> Round:
        """End the round."""
        self._stop.set()
        self.sampler.join()
        before, after = self._before, self._ask(self._state, "the relfilenodes")
        files = [dict(rest.rsplit(FIELD, 1) for tag, rest in state if tag == "F") for state in (before, after)]
        rewrites = tuple(sorted(t for t, node in files[1].items() if t in files[0] and files[0][t] != node))
        ledgers = [{rest for tag, rest in state if tag == "M"} for state in (before, after)]
        return Round(tuple(self._samples), rewrites, frozenset(ledgers[1] - ledgers[0]))

    def _sample(self) -> None:
        # Python paces the samples: no \\watch, whose interrupt a script-reading psql may take as "quit".
        started = time.perf_counter()
        while True:
            self._send(_EXECUTE)
            gap = min(LONGEST, max(INTERVAL, (time.perf_counter() - started) / SPACING))
            if self._stop.wait(gap):
                return

    def _ask(self, text: str, what: str) -> list[tuple[str, str]]:
        self._request(text)
        return self._collect(what)

    def _request(self, text: str) -> None:
        self._answer = []
        self._answered.clear()
        self._send(text + _END)

    def _collect(self, what: str) -> list[tuple[str, str]]:
        if not self._answered.wait(WAIT) or self._gone:
            self._failed(f"gave no answer ({what})")
        return self._answer

    def _failed(self, what: str) -> NoReturn:
        if self._gone:  # psql could not connect, or the server went away: psql said why on its stderr
            raise UpstreamError(f"rehearsal step 'upgrade': psql observing the locks ended (exit {self.process.wait()})")
        raise UpstreamError(f"rehearsal step 'upgrade': psql observing the locks {what} within {WAIT} s")

    def _send(self, text: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(text.encode())
            self.process.stdin.flush()
        except OSError:
            pass  # psql is gone: _collect says so

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            tag, _, rest = raw.decode("utf-8", "replace").rstrip("\n").partition(FIELD)
            if tag == "E":
                self._answered.set()
            elif tag in ("F", "M", "L"):
                self._answer.append((tag, rest))
            else:
                try:
                    moment = float(tag)
                except ValueError:
                    continue  # a blank line between answers
                locks = {tuple(item.split(_PART, 1)) for item in rest.split(_SEP) if _PART in item}
                self._samples.append((moment, locks))  # type: ignore[arg-type]
                self._sampled.set()
        self._gone = True  # psql ended: whoever waits for it is told at once
        self._answered.set()
        self._sampled.set()
