"""What lock tracing costs the rehearsal's `upgrade` step on PostgreSQL (docs/rehearsal.md).

    .venv/bin/python bench/locktrace.py            # 20,000 rows, 10 migrations, 3 pairs (about a minute)
    .venv/bin/python bench/locktrace.py --full     # 300,000 rows, 100 migrations, 5 pairs
    .venv/bin/python bench/locktrace.py --rows 100000 --migrations 50 --runs 3

On a private cluster started from PostgreSQL's binaries (tests/pgcluster.py):

1. Tracing's overhead (goal: at most 1.10×): one lock-taking migration (`ALTER TABLE ...
   ALTER COLUMN ... TYPE bigint`, a rewrite under ACCESS EXCLUSIVE) on a table of ROWS rows,
   applied plainly, then as the rehearsal's `upgrade` step applies it: by
   `locktrace.traced_upgrade`, its observer (one psql sampling pg_locks, relfilenodes read
   before and after) opened beforehand, as the rehearsal opens it before the `backup` step.
   Then the two steps together, `pg_dump -Fc` and the upgrade, plainly and traced with the
   observer opened as the backup starts: what the observer's connection costs where it is
   paid. The table is made afresh for each run.
2. One migration at a time against the framework's one upgrade (goal: at most 1.5×): an
   Alembic project with MIGRATIONS revisions (each adds a column to a small table),
   `alembic upgrade heads` plainly, against `locktrace.traced_upgrade` as the rehearsal runs
   it (small tables: one upgrade, observed), and against forced one-at-a-time (every
   revision its own `alembic upgrade REV`), which the rehearsal does only when a table is
   1 MiB or more: that figure is shown, not judged.

Runs alternate A B, B A, ... so load on a shared machine hits both sides; ratios are taken
pair by pair and their median reported. Prints a Markdown section for bench/findings.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pgcluster
from releaser.rehearse import locktrace
from releaser.rehearse.lockobserver import Observer
from releaser.rehearse.postgres import PostgresDatabase
from releaser.rehearse.proof import MIGRATION_TABLES

ROOT = Path(__file__).resolve().parent.parent

REVISION = '''"""column {i}"""
import sqlalchemy as sa
from alembic import op

revision = "r{i:04d}"
down_revision = {down!r}


def upgrade():
    {body}


def downgrade():
    pass
'''
ENV_PY_URL = (
    "config = context.config\nimport os\n"
    "config.set_main_option('sqlalchemy.url', os.environ['DATABASE_URL'].replace('postgresql://', 'postgresql+psycopg://', 1)"
    ".replace('%', '%%'))\n"
)


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def rounds(runs: int, prepare: Callable[[], None], actions: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """`runs` rounds of every action, the order rotating each round, `prepare` before every run."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    names = list(actions)
    for i in range(runs):
        for name in names[i % len(names):] + names[: i % len(names)]:
            prepare()
            times[name].append(timed(actions[name]))
    return times


def psql(db: PostgresDatabase, sql: str) -> tuple[str, ...]:
    return ("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql)


Command = Callable[[Sequence[str]], None]


def runner(db: PostgresDatabase, cwd: Path | None = None) -> Command:
    env = {**db.client_env(), "DATABASE_URL": db.url, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}

    def command(argv: Sequence[str]) -> None:
        subprocess.run(list(argv), env=env, cwd=cwd, check=True, capture_output=True, timeout=3600)

    return command


def overhead(cluster: pgcluster.Cluster, rows: int, runs: int) -> tuple[dict[str, list[float]], str]:
    db = PostgresDatabase.from_url(cluster.url())
    db.create()
    command = runner(db)
    seed = psql(db, f"DROP TABLE IF EXISTS item; CREATE TABLE item (id serial PRIMARY KEY, qty integer, note text); "
                    f"INSERT INTO item (qty, note) SELECT i, 'note ' || i FROM generate_series(1, {rows}) AS i; ANALYZE item")
    widen = psql(db, "ALTER TABLE item ALTER COLUMN qty TYPE bigint")
    seen: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="bench-locktrace-"))

    def traced(observer: Observer) -> None:
        trace = locktrace.traced_upgrade(observer, [("widen", widen)], widen, command, budget=None)
        seen[:] = [f"{lock.table} {locktrace.shown_mode(lock.mode)} {lock.seconds:.2f} s" for m in trace.migrations for lock in m.locks if lock.blocking]

    def step() -> None:
        with Observer(db) as observer:  # connected beforehand, as during the rehearsal's backup
            observer.largest()
            timings.append(timed(lambda: traced(observer)))

    def both() -> None:
        with Observer(db) as observer:
            db.backup(work)
            traced(observer)

    timings: list[float] = []
    try:
        times = rounds(runs, lambda: command(seed), {
            "plain": lambda: command(widen), "step": step,
            "plain with backup": lambda: (db.backup(work), command(widen)), "traced with backup": both,
        })
    finally:
        db.drop()
        shutil.rmtree(work)
    times["step"] = timings  # the step alone, as the rehearsal times it
    return times, "; ".join(seen)


def alembic_project(work: Path, migrations: int) -> Path:
    root = work / "shop"
    root.mkdir()
    subprocess.run([sys.executable, "-m", "alembic", "init", "alembic"], cwd=root, check=True, capture_output=True)
    env_py = root / "alembic" / "env.py"
    env_py.write_text(env_py.read_text().replace("config = context.config\n", ENV_PY_URL, 1))
    versions = root / "alembic" / "versions"
    body = 'op.create_table("item", sa.Column("id", sa.Integer, primary_key=True))'
    (versions / "r0000.py").write_text(REVISION.format(i=0, down=None, body=body))
    for i in range(1, migrations + 1):
        body = f'op.add_column("item", sa.Column("c{i:04d}", sa.Integer, nullable=True))'
        (versions / f"r{i:04d}.py").write_text(REVISION.format(i=i, down=f"r{i - 1:04d}", body=body))
    return root


def observed(db: PostgresDatabase, steps: Sequence[tuple[str, Sequence[str]]], upgrade: Sequence[str], command: Command) -> None:
    """The upgrade as the rehearsal traces it, the observer's connection included."""
    with Observer(db, MIGRATION_TABLES["alembic"]) as observer:
        locktrace.traced_upgrade(observer, steps, upgrade, command, None)


def one_at_a_time(cluster: pgcluster.Cluster, migrations: int, runs: int) -> dict[str, list[float]]:
    db = PostgresDatabase.from_url(cluster.url())
    db.create()
    with tempfile.TemporaryDirectory(prefix="bench-locktrace-") as tmp:
        root = alembic_project(Path(tmp), migrations)
        command = runner(db, root)
        alembic = (sys.executable, "-m", "alembic")
        def base() -> None:
            command(psql(db, "DROP TABLE IF EXISTS item, alembic_version"))
            command((*alembic, "upgrade", "r0000"))

        steps = [(f"r{i:04d}", (*alembic, "upgrade", f"r{i:04d}")) for i in range(1, migrations + 1)]
        upgrade = (*alembic, "upgrade", "heads")
        command(upgrade)  # warm: bytecode, the page cache
        times: dict[str, list[float]] = {"plain": [], "traced": [], "forced": []}
        try:
            for i in range(runs):
                order = ["plain", "traced", "forced"][i % 3:] + ["plain", "traced", "forced"][: i % 3]
                for which in order:
                    base()
                    if which == "plain":
                        times[which].append(timed(lambda: command(upgrade)))
                    elif which == "traced":
                        times[which].append(timed(lambda: observed(db, steps, upgrade, command)))
                    else:
                        saved, locktrace.BATCH_BELOW = locktrace.BATCH_BELOW, 0
                        try:
                            times[which].append(timed(lambda: observed(db, steps, upgrade, command)))
                        finally:
                            locktrace.BATCH_BELOW = saved
        finally:
            db.drop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="300,000 rows, 100 migrations, 5 runs")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--migrations", type=int)
    parser.add_argument("--runs", type=int)
    args = parser.parse_args()
    rows = args.rows or (300_000 if args.full else 20_000)
    migrations = args.migrations or (100 if args.full else 10)
    runs = args.runs or (5 if args.full else 3)
    load = os.getloadavg()[0]
    # A stopped run (SIGTERM, a closed terminal) unwinds as Ctrl-C does: its cluster is stopped, not left running.
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda number, _frame: sys.exit(128 + number))
    cluster = pgcluster.start_cluster()
    try:
        found, seen = overhead(cluster, rows, runs)
        times = one_at_a_time(cluster, migrations, runs)
    finally:
        cluster.stop()
    plain, traced, forced = (statistics.median(times[k]) for k in ("plain", "traced", "forced"))
    print(f"### Lock tracing (PostgreSQL {subprocess.run(['psql', '--version'], capture_output=True, text=True).stdout.split()[-1]}, "
          f"load {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)\n")
    print(f"| what | plain | traced | ratio (median of {runs}) | goal |\n|---|---:|---:|---:|---:|")
    for a, b, what, goal in (
        ("plain", "step", f"`ALTER COLUMN ... TYPE bigint` on {rows:,} rows: the `upgrade` step", "≤ 1.10×"),
        ("plain with backup", "traced with backup", "the same with the `backup` before it (`pg_dump -Fc`; traced: the observer connecting meanwhile)", "shown"),
    ):
        ratios = [y / x for x, y in zip(found[a], found[b])]
        print(f"| {what} | {statistics.median(found[a]):.2f} s | {statistics.median(found[b]):.2f} s | "
              f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f}) | {goal} |")
    print(f"| {migrations} Alembic migrations, as the rehearsal runs them (small tables: one upgrade, observed) | "
          f"{plain:.2f} s | {traced:.2f} s | {traced / plain:.2f}× | ≤ 1.5× |")
    print(f"| the same, forced one at a time (what a table of 1 MiB or more costs) | {plain:.2f} s | {forced:.2f} s | "
          f"{forced / plain:.2f}× | shown |")
    print(f"\nLocks seen by the traced run: {seen or 'none'}.")


if __name__ == "__main__":
    main()
