"""Run every benchmark of releaser against what its users would run instead; write docs/benchmarks.md.

    .venv/bin/python bench/run.py            # the full run: several minutes (~20 on 2 cores)
    .venv/bin/python bench/run.py --quick    # tiny sizes, one run each: the test suite's smoke test

It generates its own inputs (loopback index and repository on 127.0.0.1, nothing
from the network), measures whole processes side by side (bench/measure.py) and
writes the document (bench/report.py), including bench/findings.md.

1. `releaser check` vs re-running `pip-compile --generate-hashes` and vs `uv lock --check --offline` (bench/check.py);
2. `releaser lock` (Python) vs `pip-compile --generate-hashes`, and with the uv resolver vs
   `uv pip compile --generate-hashes` (bench/pylock.py);
3. Maven SNAPSHOTs (and a transitive graph) behind a slow repository vs a sequential baseline (bench/maven_snapshots.py);
4. how each grows with size, and 5. peak memory: from the same runs;
6. the migration gate in `releaser check` vs `makemigrations --check` and `alembic heads` (bench/migrations.py);
7. `releaser check` with migrations and a previous RC vs `uv lock --check --offline` (bench/check_migrations.py).
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import check, check_migrations, maven_snapshots, migrations, pylock, report
from releaser import __version__
from releaser.plumbing.http import WORKERS

ROOT = Path(__file__).resolve().parent.parent

FULL = {
    "check": (50, 150, 300), "lock": (50, 150, 300), "maven": (50, 100, 200), "migrations": (100, 1000),
    "check-migrations": (200,), "runs": 5, "delay": 0.05,
}
QUICK = {
    "check": (3, 5, 8), "lock": (2, 3, 4), "maven": (2, 3, 4), "migrations": (5,), "check-migrations": (5,), "runs": 1,
    "delay": 0.02,
}


def fan_out() -> int:
    """How many requests one Maven coordinate keeps in flight per worker (its file and pom at once)."""
    for module in ("releaser.ecosystems.maven.resolve", "releaser.ecosystems.maven.source"):
        try:
            return int(__import__(module, fromlist=["FAN_OUT"]).FAN_OUT)
        except (ImportError, AttributeError):
            continue
    return 2


def commit() -> str:
    """The code measured, as `git describe --always --dirty` says; "" outside a git work tree."""
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    except OSError:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def sizes(text: str | None, default: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",")) if text else default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run each, no warm-up")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--runs", type=int, help="counted runs per command and size (default 5; 1 with --quick)")
    parser.add_argument("--check-sizes", help="comma-separated (default 50,150,300)")
    parser.add_argument("--lock-sizes", help="comma-separated (default 50,150,300)")
    parser.add_argument("--maven-sizes", help="comma-separated; sidecars are measured at the last (default 50,100,200)")
    parser.add_argument("--migration-sizes", help="comma-separated (default 100,1000)")
    parser.add_argument("--check-migration-sizes", help="migrations in the sealed check's project, comma-separated (default 200)")
    parser.add_argument("--save", type=Path, help="also keep the measurements in this file (pickle)")
    parser.add_argument("--render", type=Path, metavar="SAVED", help="measure nothing: write the document from --save's file")
    args = parser.parse_args(argv)
    if args.render:
        results = pickle.loads(args.render.read_bytes())
        args.output.write_text(report.render(results), encoding="utf-8")
        return 0
    plan = QUICK if args.quick else FULL
    runs = args.runs or plan["runs"]
    warm_up = not args.quick
    delay = plan["delay"]  # seconds the Maven repository adds to every answer

    started = datetime.now(UTC)
    load_start = os.getloadavg()
    results = report.Results(
        machine=report.Machine(
            cores=os.cpu_count(),
            python=platform.python_version(),
            platform=platform.platform(),
            versions=(
                f"releaser {__version__}, pip-tools {metadata.version('pip-tools')}, pip {metadata.version('pip')}, "
                f"uv {metadata.version('uv')}"
            ),
            started=started,
            finished=started,
            load_start=load_start,
            load_end=load_start,
            commit=commit(),
        ),
        runs=runs,
        warm_up=warm_up,
        quick=args.quick,
        delay=delay,
        max_in_flight=WORKERS * fan_out(),
        coordinate_workers=WORKERS,
    )

    def say(text: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)

    for n in sizes(args.check_sizes, plan["check"]):
        say(f"1. check vs pip-compile and uv lock --check, {n} pins")
        results.check.append((n, check.compare(n, runs=runs, warm_up=warm_up)))
    for n in sizes(args.lock_sizes, plan["lock"]):
        say(f"2. lock vs pip-compile and uv pip compile, {n} packages")
        results.lock.append((n, pylock.compare(n, runs=runs, warm_up=warm_up)))
    for n in sizes(args.lock_sizes, plan["lock"]):
        say(f"2. lock with uv vs uv pip compile, {n} packages, the index {report.LOCK_UV_DELAY * 1000:.0f} ms away")
        results.lock_distant.append((n, pylock.compare_uv(n, runs=runs, delay=report.LOCK_UV_DELAY, warm_up=warm_up)))
    maven = sizes(args.maven_sizes, plan["maven"])
    with maven_snapshots.Repository(max(maven), delay, headers=True) as repo:
        for n in maven:
            say(f"3. Maven, {n} SNAPSHOTs, checksum headers")
            results.maven.append(maven_snapshots.compare(repo, n, runs=runs))
    with maven_snapshots.Repository(max(maven), delay, headers=False) as repo:
        say(f"3. Maven, {max(maven)} SNAPSHOTs, sidecar files only")
        results.sidecars = maven_snapshots.compare(repo, max(maven), runs=runs)
    with maven_snapshots.Repository(max(maven), delay, headers=True, transitive=True) as repo:
        say(f"3. Maven, {max(maven)} artifacts of a transitive graph, checksum headers")
        results.transitive = maven_snapshots.compare(repo, max(maven), runs=runs)

    for n in sizes(args.migration_sizes, plan["migrations"]):
        say(f"6. the migration gate, {n} migration files")
        results.migrations.append(migrations.compare(n, runs=runs, warm_up=warm_up))
    for n in sizes(args.check_migration_sizes, plan["check-migrations"]):
        say(f"7. check with {n} migrations and a previous RC vs uv lock --check")
        pins = 3 if args.quick else check_migrations.PINS  # the quick run cuts an RC: installs every pin
        results.check_migrations.append(check_migrations.compare(n, runs=runs, warm_up=warm_up, pins=pins))

    results.machine.finished = datetime.now(UTC)
    results.machine.load_end = os.getloadavg()
    results.machine.commit_end = commit()
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report.render(results), encoding="utf-8")
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
