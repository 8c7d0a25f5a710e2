"""`releaser rehearse` (and `cut`'s rehearsal): the upgrade tried on a real database, reverted, timed.

The steps, each timed, on one fresh database (`releaser.rehearse.database`), every
command with `DATABASE_URL` set and run in a pinned environment
(`releaser.rehearse.environments`):

1. `previous`: the previous release's schema, built as a real install had it: its tree
   and environment, the framework's "migrate everything" (its own apps too); then `seed`.
   The previous release is the previous RC, or for the first RC `[migrations] baseline`
   (`releaser.rehearse.baseline`); without either the rehearsal starts from an empty
   database, runs steps 2 and 3 only and says no revert was rehearsed. With `[migrations]
   scale`, the seeded rows are multiplied (`scale`, `releaser.rehearse.scale`).
2. `snapshot` of every table (row count, digest of its rows) and a `backup`; `lint`, the
   lock lint of this RC's migrations' SQL (`releaser.migrations.locklint`).
3. `upgrade` to this RC (its tree, its environment), each migration's locks traced on
   PostgreSQL (`releaser.rehearse.locktrace`, `lock-budget`); the `gates` run on the
   result, then `compat`: the previous RC's gates on this schema (`releaser.rehearse.compat`).
4. `revert` to the previous RC's heads with this RC's code: the revert plan's commands;
   for a forward-only RC (an irreversible migration `allow` names), restoring the backup.
5. `verify`: each app is back at its previous head, and every table of the previous
   schema holds what it held after step 1. Lost rows are attributed to the migration
   whose reverse lost them (`releaser.rehearse.attribution`); a loss `allow` names is
   accepted and shown, any other refuses.

After `previous`, `upgrade` and the revert the database must record the expected heads
in the framework's own table (`releaser.rehearse.proof`): settings that ignore
`DATABASE_URL` are refused. Project commands run in a copy of the tree, never the
developer's, without any other database variable in their environment.
6. `upgrade-again`: the upgrade must still take the reverted database.

A step more than `max-slowdown` times slower than the same step in the previous RC's
record refuses the RC (differences under `NOISE` seconds are noise, not a slowdown).
Failures: the database unreachable, the previous RC's migrate or a seed command
failing are outside failures (exit 3); this RC's upgrade, gates, revert or upgrade
again failing, lost data and a slowdown refuse the RC (exit 1). Each names its step,
in one line, scrubbed of the database's password.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Lock
from releaser.core.redact import scrub, shown_command
from releaser.ecosystems.python.buildenv import activated_env
from releaser.ecosystems.python.keptvenv import pinned_venv
from releaser.install.layout import expand, of_role
from releaser.migrations import locklint
from releaser.migrations.graph import Graph, Key
from releaser.migrations.loader import read_graph
from releaser.migrations.verdicts import new_since
from releaser.record import baseline, records
from releaser.rehearse import compat, locktrace, scale, snapshot
from releaser.rehearse.attribution import Loss, attribute
from releaser.rehearse.baseline import Start, find_start, no_revert
from releaser.rehearse.commands import Commands
from releaser.rehearse.compat import Compat
from releaser.rehearse.database import Database
from releaser.rehearse.engines import open_database
from releaser.rehearse.environments import Place
from releaser.rehearse.migrationsql import identifiers, sql_of, sql_of_many
from releaser.rehearse.proof import project_environment, prove, tree_copy
from releaser.rehearse.revertplan import RevertPlan, forward_only, graph_dependencies, make_plan, unapplied

NOISE = 2.0  # seconds: a step is only judged slower when it also took this much longer
TREE = "working-tree"  # what `releaser rehearse` calls the RC it rehearses
COMMAND_TIMEOUT = 60 * 60
_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit)\b|^(error|fatal|FATAL|ERROR)\b|^[\w.]+(Error|Exception): ")
Log = Callable[[str], None]


@dataclass(frozen=True)
class StepResult:
    name: str
    seconds: float
    did: str  # what the step ran, for people
    before: float | None = None  # the same step in the previous RC's record

    def to_json(self) -> dict[str, Any]:
        found = {"name": self.name, "seconds": round(self.seconds, 3), "did": self.did, "verdict": "ok"}
        if self.before is not None:
            found["previous_seconds"] = self.before
        return found


@dataclass(frozen=True)
class Rehearsal:
    engine: str
    database: str  # as shown: no password
    previous: str | None
    max_slowdown: float
    steps: tuple[StepResult, ...]
    tables: dict[str, Any]
    plan: RevertPlan
    notes: tuple[str, ...] = field(default=())
    overhead: float = 0.0  # seconds of the whole rehearsal not spent in the project's own commands
    start: Start | None = None  # what it upgraded from: the previous RC, the baseline, or nothing
    accepted_loss: tuple[Loss, ...] = ()  # rows the revert loses, accepted by `allow` naming the migration
    compat: Compat | None = None  # the previous RC's gates on this RC's schema
    locks: locktrace.LockTrace | None = None  # what each of this RC's migrations locked (PostgreSQL)
    scaled: scale.Scaled | None = None  # the seed's rows multiplied ([migrations] scale)
    lint: locklint.Lint | None = None  # lock-taking statements in this RC's migrations

    def to_json(self) -> dict[str, Any]:
        """manifest.json's `rehearsal` (and `releaser rehearse --json`'s document)."""
        return {
            "ran": True,
            "verdict": "passed",
            "engine": self.engine,
            "database": self.database,
            "previous": self.previous,
            "from": self.start.to_json() if self.start is not None else None,
            "reverted": self.start is not None,
            "accepted_loss": [loss.to_json() for loss in self.accepted_loss],
            "baseline": self.previous is None,
            "max_slowdown": self.max_slowdown,
            "steps": [s.to_json() for s in self.steps],
            "tables": self.tables,
            "revert": self.plan.to_json(),
            "notes": list(self.notes),
            "overhead_seconds": round(self.overhead, 3),
            **({"compat": self.compat.to_record()} if self.compat is not None else {}),
            **({"locks": self.locks.to_record()} if self.locks is not None else {}),
            **({"scale": self.scaled.to_record()} if self.scaled is not None else {}),
            **({"lint": self.lint.to_record()} if self.lint is not None else {}),
        }


def rehearse_tree(config: ReleaseConfig, *, log: Log | None = None) -> Rehearsal:
    """`releaser rehearse`: the working tree's upgrade, in a pinned venv made from the current lock."""
    from releaser.core import lockfile

    try:
        lock_bytes = config.lockfile.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{config.release.lockfile} does not exist: the rehearsal runs on the pinned set; run releaser lock") from None
    lock = lockfile.loads(lock_bytes.decode("utf-8"), config.lockfile)
    return rehearse(config, rc=TREE, lock=lock, lock_bytes=lock_bytes, log=log)


@dataclass(frozen=True)
class NotRehearsed:
    """manifest.json's `rehearsal` when none ran, and why."""

    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"ran": False, "reason": self.reason}


def rehearse(
    config: ReleaseConfig,
    *,
    rc: str,
    lock: Lock,
    lock_bytes: bytes,
    env: dict[str, str] | None = None,
    dist: Path | None = None,
    log: Log | None = None,
) -> Rehearsal:
    """Rehearse this tree's upgrade from the newest recorded RC; see the module docstring.

    `env` is the environment of the RC's pinned venv (cut's build environment); without
    it one is made from `lock`. `dist` replaces `{dist}` in the gates (an empty folder
    without it). `rc` names this RC in messages and in `{rc}`.
    """
    settings = config.migrations
    if settings is None:
        raise ConfigError(f"{config.path}: no [migrations] table: there is nothing to rehearse")
    started = time.perf_counter()
    say = log or (lambda _line: None)
    commands = Commands.of(settings)
    previous = baseline.previous_record(config, before=rc)
    with tempfile.TemporaryDirectory(prefix="releaser-rehearse-") as tmp:
        work = Path(tmp)
        database = open_database(settings.database or "sqlite", work / "db")
        if env is None:
            say(f"rehearsal: the {len(of_role(lock, 'environment'))} locked Python packages, hash-verified (kept between runs)")
            env = activated_env(pinned_venv(config, lock))
        if dist is None:
            (dist := work / "dist").mkdir()
        run = _Run(config, rc, database, work, say, previous, settings.max_slowdown)
        here = Place(rc, tree_copy(config.root, work / "tree"), env)  # never the developer's own tree
        graph = read_graph(settings, config.root)
        from_heads = graph.heads()
        start = find_start(config, previous, lock_bytes)
        to_heads = start.graph.heads() if start is not None else {}
        one_way = forward_only(graph, start.graph, settings.allow) if start is not None else ()
        plan = make_plan(config, rc, start.name if start else None, from_heads, to_heads, graph_dependencies(graph), one_way)
        if start is not None:
            plan = replace(plan, unapplies=unapplied(graph, start.graph))
        new_keys = new_since(graph, start.graph if start is not None else None)  # this RC's migrations
        say(f"rehearsal on {database.engine} ({database.shown}), from {_from(start)}")
        stack = ExitStack()
        try:
            database.create()
        except UpstreamError as exc:
            raise UpstreamError(f"rehearsal step 'database': {exc}; nothing is recorded") from None
        try:
            there = stack.enter_context(start.place(work, here, say)) if start is not None else None
            before = run.build_previous(commands, settings.seed, start, there, settings.scale)
            if start is not None:
                prove(database, settings.framework, to_heads, "previous", start.name)
            # The lock observer connects while the backup runs: the upgrade step's time is the migrations'.
            with locktrace.observing(database, settings.framework) as observer:
                with run.step("backup", f"{database.engine} backup"):
                    backup = database.backup(work)
                if new_keys and settings.lock_lint != "off":
                    run.lint(graph, new_keys, here, settings.lock_lint, settings.allow)
                with run.step("upgrade", shown_command(commands.upgrade)):
                    run.locks = locktrace.upgrade(
                        database, observer, graph, new_keys, commands, lambda argv: run.command(tuple(argv), here, "upgrade", Refused),
                        settings.lock_budget,
                    )
            prove(database, settings.framework, from_heads, "upgrade", rc)
            if config.release.gates:
                with run.step("gates", "; ".join(shown_command(g) for g in config.release.gates)):
                    for gate in config.release.gates:
                        run.command(tuple(expand(gate, rc=rc, dist=dist)), here, "gates", Refused)
            if there is not None and previous is not None:  # a baseline has no record, so no gates of its own
                run.compat(there, previous.manifest, graph, [graph.label(k) for k in new_keys], before, settings.allow, here)
            if start is None:
                run.notes.append(no_revert(rc))
                say(f"  {no_revert(rc)}")
            else:
                _revert_and_again(run, commands, plan, start, before, backup, here, graph, settings.allow)
        finally:
            stack.close()
            database.drop()
    overhead = time.perf_counter() - started - run.command_seconds
    return Rehearsal(
        database.engine, "sqlite" if database.engine == "sqlite" else database.shown, previous.rc if previous else None,
        settings.max_slowdown, tuple(run.results), before.to_record(), plan, tuple(run.notes), overhead, start,
        tuple(run.accepted_loss), run.compat_found, run.locks, run.scaled, run.linted,
    )


def _from(start: Start | None) -> str:
    if start is None:
        return "an empty database (the first RC of its line)"
    return start.name if start.kind == "rc" else f"the baseline {start.name} ({start.commit[:12]})"


def _revert_and_again(
    run: _Run, commands: Commands, plan: RevertPlan, start: Start, before: snapshot.Snapshot, backup: Path, here: Place,
    graph: Graph, allow: tuple[str, ...],
) -> None:
    """Steps 4 to 6: the way back (the revert plan, or restoring the backup), its check, the upgrade again."""
    database, framework = run.database, commands.framework

    def revert() -> None:
        for back in plan.steps:
            run.command(back.argv, here, "revert", Refused)

    if plan.restore:
        shown = ", ".join(plan.restore)
        with run.step("revert", f"restore the pre-upgrade backup: {shown} cannot be reversed (allowed)"):
            database.restore(backup)
    else:
        with run.step("revert", "; ".join(shown_command(s.argv) for s in plan.steps) or "nothing to revert"):
            revert()
    with run.step("verify", "each app at its previous head; every table's rows as after step 1"):
        for step in () if plan.restore else plan.steps:
            if step.check:
                run.command(("sh", "-c", step.check), here, "verify", Refused)
        prove(database, framework, start.graph.heads(), "verify", start.name)
        lost, added = snapshot.compare(before, snapshot.take(database))
        if lost:
            losses = attribute(database, backup, commands, graph, start.graph, lambda argv: run.command(argv, here, "verify", Refused))
            refused = [loss.line() for loss in losses if loss.migration not in allow]
            if refused or not losses:
                raise Refused(
                    f"rehearsal step 'verify': the revert to {start.name} loses data: {'; '.join(refused or lost)}; nothing is "
                    "recorded (a loss on purpose is accepted by naming its migration in [migrations] allow)"
                )
            run.accepted_loss.extend(losses)
            run.notes.extend(f"accepted loss ([migrations] allow): {loss.line()}" for loss in losses)
            revert()  # the round trips left every migration applied: back to the start for the upgrade again
        run.notes.extend(added)
    with run.step("upgrade-again", shown_command(commands.upgrade)):
        run.command(commands.upgrade, here, "upgrade-again", Refused)


class _Run:
    """The steps' clock, their commands and the comparison with the previous RC's figures."""

    def __init__(
        self, config: ReleaseConfig, rc: str, database: Database, work: Path, say: Log,
        previous: records.Record | None, slowdown: float,
    ) -> None:
        self.config, self.rc, self.database, self.work, self.say = config, rc, database, work, say
        self.previous, self.slowdown = previous, slowdown
        recorded = (previous.manifest.get("rehearsal") or {}) if previous is not None else {}
        if recorded.get("engine") != database.engine:  # seconds on another engine say nothing about this one
            recorded = {}
        self.figures = {
            s["name"]: float(s["seconds"]) for s in recorded.get("steps", ()) if isinstance(s, dict) and "seconds" in s
        }
        self.results: list[StepResult] = []
        self.notes: list[str] = []
        self.accepted_loss: list[Loss] = []  # data the revert loses, on purpose: each migration named in `allow`
        self.command_seconds = 0.0  # time spent in the project's own commands
        self.compat_found: Compat | None = None
        self.locks: locktrace.LockTrace | None = None
        self.scaled: scale.Scaled | None = None
        self.linted: locklint.Lint | None = None
        self.sql: dict[str, str | None] = {}  # a migration's label -> the SQL its framework gives

    @contextmanager
    def step(self, name: str, did: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        before = self.figures.get(name)  # only a previous RC's record has figures
        then = self.previous.rc if self.previous is not None else "the previous RC"
        self.results.append(StepResult(name, seconds, did, before))
        self.say(f"  {name}: {seconds:.2f} s" + (f" ({before:.2f} s in {then})" if before is not None else ""))
        if before is not None and seconds > self.slowdown * before and seconds - before >= NOISE:
            raise Refused(
                f"rehearsal step '{name}' took {seconds:.2f} s, more than max-slowdown {self.slowdown:g} × its "
                f"{before:.2f} s in {then}; nothing is recorded (find the slow migration, or raise "
                "[migrations] max-slowdown if it is expected)"
            )

    def build_previous(
        self, commands: Commands, seed: Sequence[Sequence[str]], start: Start | None, there: Place | None, factor: int = 1,
    ) -> snapshot.Snapshot:
        """Step 1 (in `there`, the start's tree, kept open by the caller for `compat`) and the snapshot after it."""
        if start is not None and there is not None:
            with self.step("previous", f"{start.name}: {shown_command(commands.upgrade)}"):
                self.command(commands.upgrade, there, "previous", UpstreamError)
            if seed:
                with self.step("seed", "; ".join(shown_command(s) for s in seed)):
                    for argv in seed:
                        self.command(tuple(argv), there, "seed", UpstreamError)
            if factor > 1:
                with self.step(scale.STEP, scale.did(factor)):
                    self.scaled = scale.scale(self.database, factor)
        with self.step("snapshot", "row count and digest of every table"):
            return snapshot.take(self.database)

    def compat(
        self, there: Place, manifest: dict[str, Any], graph: Graph, new: list[str], before: snapshot.Snapshot,
        allow: Sequence[str], here: Place,
    ) -> None:
        """The `compat` step (`releaser.rehearse.compat`): the previous RC's gates on this RC's schema."""
        gates = compat.previous_gates(manifest)
        keys = {graph.label(k): k for k in graph.migrations}

        def words(label: str) -> set[str] | None:
            if label not in self.sql:
                self.sql[label] = sql_of(graph, keys[label], here.root, lambda argv: self.output(argv, here))
            sql = self.sql[label]
            return None if sql is None else identifiers(sql)

        with self.step(compat.STEP, compat.did(there.rc, gates)):
            (dist := self.work / "previous-dist").mkdir(exist_ok=True)
            self.compat_found = compat.run_previous_gates(
                self.invoke, there, gates, dist=dist, new=new, tables=list(before.tables), words=words, allow=allow,
            )
        self.notes.extend(self.compat_found.accepted)

    def lint(self, graph: Graph, keys: Sequence[Key], here: Place, policy: str, allow: tuple[str, ...]) -> None:
        """The `lint` step (`releaser.migrations.locklint`) over the SQL the framework gives for this RC's migrations."""
        with self.step("lint", "lock lint of this RC's migrations' SQL"):
            self.sql.update(sql_of_many(graph, keys, here.root, lambda argv: self.output(argv, here)))
            mine = {graph.label(k): self.sql[graph.label(k)] for k in keys}
            found = locklint.lint({label: sql for label, sql in mine.items() if sql is not None})
            self.linted = replace(found, unread=tuple(label for label, sql in mine.items() if sql is None)).judged(policy, allow)
        for finding in self.linted.findings:
            self.say(f"  {finding.status}: {finding.migration}: {finding.message} ({finding.rule})")
        self.linted.refuse()

    def output(self, argv: Sequence[str], place: Place) -> str | None:
        """What a helper command (the framework's SQL of a migration) prints; None when it fails."""
        env = {**project_environment(place.env, self.database), "RELEASER_RC": self.rc}
        try:
            done = subprocess.run(
                list(argv), cwd=place.root, env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else None

    def command(self, argv: tuple[str, ...], place: Place, step: str, error: type[ReleaserError]) -> None:
        """Run one command of `step` in `place`; a failure is one line naming the step and the command."""
        done = self.invoke(argv, place, step, error)
        if done.returncode != 0:
            raise error(f"{done.where} exited {done.returncode}; nothing is recorded: {done.last}")

    def invoke(self, argv: Sequence[str], place: Place, step: str, error: type[ReleaserError]) -> Outcome:
        """Run one command of `step` in `place` and say how it ended; one that cannot run at all is `error`."""
        env = {**project_environment(place.env, self.database), "RELEASER_RC": self.rc}
        where = f"rehearsal step '{step}' ({place.rc}): `{shown_command(argv)}`"
        log = self.work / f"{step}.log"
        with open(log, "w+b") as out:
            started = time.perf_counter()
            try:
                done = subprocess.run(
                    list(argv), cwd=place.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, timeout=COMMAND_TIMEOUT,
                )
            except FileNotFoundError:
                raise error(f"{where}: {argv[0]} is not found in the RC's environment; nothing is recorded") from None
            except (PermissionError, subprocess.TimeoutExpired) as exc:
                raise error(f"{where} cannot be run: {scrub(str(exc))}; nothing is recorded") from None
            finally:
                self.command_seconds += time.perf_counter() - started
            if done.returncode == 0:
                return Outcome(where, 0, ())
            out.seek(max(0, out.tell() - (1 << 16)))
            lines = [line.strip() for line in scrub(out.read().decode("utf-8", "replace")).splitlines() if line.strip()]
            # The error, not a traceback's footer ("Background on this error at: ...").
            errors = [line for line in lines if _ERROR_LINE.search(line)]
            return Outcome(where, done.returncode, tuple(errors or lines or ["no output"]))


@dataclass(frozen=True)
class Outcome:
    """How one command ended: its exit code and, when it failed, the error lines of its output's tail."""

    where: str  # "rehearsal step 'x' (rc): `command`"
    returncode: int
    errors: tuple[str, ...]

    @property
    def last(self) -> str:
        return self.errors[-1][:300] if self.errors else ""
