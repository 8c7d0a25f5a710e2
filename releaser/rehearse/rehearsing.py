"""`releaser rehearse` (and `cut`'s rehearsal): the upgrade tried on a real database, reverted, timed.

The steps, each timed, on one fresh database (`releaser.rehearse.database`), every
command with `DATABASE_URL` set and run in a pinned environment
(`releaser.rehearse.environments`):

1. `previous`: the previous RC's schema, built as a real install had it: its tree and
   environment, the framework's "migrate everything" (its own apps too); then `seed`.
   The first RC of a line has no previous RC: it starts from an empty database.
2. `snapshot` of every table (row count, digest of its rows) and a `backup`.
3. `upgrade` to this RC (its tree, its environment); the `gates` run on the result.
4. `revert` to the previous RC's heads with this RC's code: the revert plan's commands.
5. `verify`: each app is back at its previous head, and every table of the previous
   schema holds what it held after step 1 (a revert that loses data names the table).
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Lock
from releaser.core.redact import scrub, shown_command
from releaser.ecosystems.python.buildenv import activated_env
from releaser.install.layout import expand, of_role
from releaser.migrations.loader import read_graph
from releaser.record import baseline, records
from releaser.rehearse import snapshot
from releaser.rehearse.commands import Commands
from releaser.rehearse.database import Database
from releaser.rehearse.engines import open_database
from releaser.rehearse.environments import Place, pinned_venv, previous_place
from releaser.rehearse.revertplan import (
    RevertPlan,
    graph_dependencies,
    make_plan,
    recorded_graph,
)

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

    def to_record(self) -> dict[str, Any]:
        """manifest.json's `rehearsal`."""
        return {
            "ran": True,
            "verdict": "passed",
            "engine": self.engine,
            "database": self.database,
            "previous": self.previous,
            "baseline": self.previous is None,
            "max_slowdown": self.max_slowdown,
            "steps": [s.to_json() for s in self.steps],
            "tables": self.tables,
            "revert": self.plan.to_json(),
            "notes": list(self.notes),
            "overhead_seconds": round(self.overhead, 3),
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


def not_ran(reason: str) -> dict[str, Any]:
    """manifest.json's `rehearsal` when none ran."""
    return {"ran": False, "reason": reason}


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
        here = Place(rc, config.root, env)
        graph = read_graph(settings, config.root)
        from_heads = graph.heads()
        to_heads = recorded_graph(settings, config.root, previous).heads() if previous is not None else {}
        depends = graph_dependencies(graph)
        plan = make_plan(config, rc, previous.rc if previous else None, from_heads, to_heads, depends)
        say(f"rehearsal on {database.engine} ({database.shown}), from {previous.rc if previous else 'an empty database'}")
        try:
            database.create()
        except UpstreamError as exc:
            raise UpstreamError(f"rehearsal step 'database': {exc}; nothing is recorded") from None
        try:
            before = run.build_previous(commands, settings.seed, lock_bytes, here)
            with run.step("backup", f"{database.engine} backup"):
                database.backup(work)
            with run.step("upgrade", shown_command(commands.upgrade)):
                run.command(commands.upgrade, here, "upgrade", Refused)
            if config.release.gates:
                with run.step("gates", "; ".join(shown_command(g) for g in config.release.gates)):
                    for gate in config.release.gates:
                        run.command(tuple(expand(gate, rc=rc, dist=dist)), here, "gates", Refused)
            with run.step("revert", "; ".join(shown_command(s.argv) for s in plan.steps) or "nothing to revert"):
                for revert in plan.steps:
                    run.command(revert.argv, here, "revert", Refused)
            with run.step("verify", "each app at its previous head; every table's rows as after step 1"):
                for revert in plan.steps:
                    if revert.check:
                        run.command(("sh", "-c", revert.check), here, "verify", Refused)
                lost, added = snapshot.compare(before, snapshot.take(database))
                if lost:
                    target = previous.rc if previous else "an empty database"
                    raise Refused(f"rehearsal step 'verify': the revert to {target} loses data: {'; '.join(lost)}; nothing is recorded")
                run.notes.extend(added)
            with run.step("upgrade-again", shown_command(commands.upgrade)):
                run.command(commands.upgrade, here, "upgrade-again", Refused)
        finally:
            database.drop()
    overhead = time.perf_counter() - started - run.command_seconds
    return Rehearsal(
        database.engine, "sqlite" if database.engine == "sqlite" else database.shown, previous.rc if previous else None,
        settings.max_slowdown, tuple(run.results), before.to_record(), plan, tuple(run.notes), overhead,
    )


class _Run:
    """The steps' clock, their commands and the comparison with the previous RC's figures."""

    def __init__(
        self, config: ReleaseConfig, rc: str, database: Database, work: Path, say: Log,
        previous: records.Record | None, slowdown: float,
    ) -> None:
        self.config, self.rc, self.database, self.work, self.say = config, rc, database, work, say
        self.previous, self.slowdown = previous, slowdown
        recorded = (previous.manifest.get("rehearsal") or {}) if previous is not None else {}
        self.figures = {
            s["name"]: float(s["seconds"]) for s in recorded.get("steps", ()) if isinstance(s, dict) and "seconds" in s
        }
        self.results: list[StepResult] = []
        self.notes: list[str] = []
        self.command_seconds = 0.0  # time spent in the project's own commands

    @contextmanager
    def step(self, name: str, did: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        before = self.figures.get(name)
        self.results.append(StepResult(name, seconds, did, before))
        self.say(f"  {name}: {seconds:.2f} s" + (f" ({before:.2f} s in {self.previous.rc})" if before is not None else ""))
        if before is not None and seconds > self.slowdown * before and seconds - before >= NOISE:
            raise Refused(
                f"rehearsal step '{name}' took {seconds:.2f} s, more than max-slowdown {self.slowdown:g} × its "
                f"{before:.2f} s in {self.previous.rc}; nothing is recorded (find the slow migration, or raise "
                "[migrations] max-slowdown if it is expected)"
            )

    def build_previous(self, commands: Commands, seed: Sequence[Sequence[str]], lock_bytes: bytes, here: Place) -> snapshot.Snapshot:
        """Step 1 and the snapshot after it."""
        if self.previous is not None:
            place = previous_place(self.config, self.previous, self.work, lock_bytes=lock_bytes, current=here, say=self.say)
            with place as there:
                with self.step("previous", f"{self.previous.rc}: {shown_command(commands.upgrade)}"):
                    self.command(commands.upgrade, there, "previous", UpstreamError)
                if seed:
                    with self.step("seed", "; ".join(shown_command(s) for s in seed)):
                        for argv in seed:
                            self.command(tuple(argv), there, "seed", UpstreamError)
        with self.step("snapshot", "row count and digest of every table"):
            return snapshot.take(self.database)

    def command(self, argv: tuple[str, ...], place: Place, step: str, error: type[ReleaserError]) -> None:
        """Run one command of `step` in `place`; a failure is one line naming the step and the command."""
        env = {**place.env, **self.database.environment(), "RELEASER_RC": self.rc}
        shown = shown_command(argv)
        where = f"rehearsal step '{step}' ({place.rc}): `{shown}`"
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
            if done.returncode != 0:
                out.seek(max(0, out.tell() - (1 << 16)))
                lines = [line.strip() for line in scrub(out.read().decode("utf-8", "replace")).splitlines() if line.strip()]
                # The error, not a traceback's footer ("Background on this error at: ...").
                errors = [line for line in lines if _ERROR_LINE.search(line)]
                last = (errors or lines or ["no output"])[-1][:300]
                raise error(f"{where} exited {done.returncode}; nothing is recorded: {last}")


