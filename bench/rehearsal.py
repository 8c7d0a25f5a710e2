"""The rehearsal's own cost on SQLite, and how a rehearsal grows with the number of migrations.

    .venv/bin/python bench/rehearsal.py            # 10, 100, 300 migrations, 3 runs each (a few minutes)
    .venv/bin/python bench/rehearsal.py --quick    # 3, 5 migrations, 1 run
    .venv/bin/python bench/rehearsal.py --sizes 10,50 --output /tmp/b.md

An Alembic project (the lighter of the two frameworks to start) on a loopback index
serving Alembic as installed here; 0.9.0rc1 is cut with one migration (the baseline),
then N migrations are added (each creates a table with a row) and `releaser rehearse` runs
in-process, the venv already kept from a warm-up run. For each N: the whole rehearsal,
the time spent in the project's own commands (migrate, seed, gates), and the rest,
releaser's overhead (goal: at most 2 s), from `overhead_seconds` of its record.

Writes the section between `<!-- rehearsal -->` markers of docs/benchmarks.md (appends
it the first time; bench/run.py rewrites the rest of the document, so run this after it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loopback.installed import wheels_with_dependencies
from loopback.pypi import PackageIndex
from releaser.cut.cutting import cut
from releaser.ecosystems import load_config
from releaser.lock.locking import lock
from releaser.rehearse.rehearsing import rehearse_tree

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "demo" / "shop"
BEGIN, END = "<!-- rehearsal -->", "<!-- /rehearsal -->"
GOAL = 2.0  # seconds of overhead
LOAD_START = os.getloadavg()

REVISION = '''"""table {i}"""
import sqlalchemy as sa
from alembic import op

revision = "r{i:04d}"
down_revision = "{down}"


def upgrade():
    op.create_table("t{i:04d}", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO t{i:04d} (id) VALUES (1)")


def downgrade():
    op.drop_table("t{i:04d}")
'''


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def project(work: Path, index_url: str) -> Path:
    """demo/shop, locked, committed, its rc1 cut (one migration: the baseline)."""
    root = work / "shop"
    shutil.copytree(SHOP, root, ignore=shutil.ignore_patterns("next", "__pycache__"))
    toml = root / "release.toml"
    # Timings are measured here, not judged: no slowdown may stop a run on a busy machine.
    toml.write_text(toml.read_text().replace("@INDEX@", index_url).replace("max-slowdown = 2.0", "max-slowdown = 1000.0"))
    (root / ".gitignore").write_text("/dist/\n__pycache__/\n")
    lock(load_config(toml))
    git(root, "-c", "init.defaultBranch=main", "init", "-q")
    for key, value in (("user.name", "Bench"), ("user.email", "bench@example.org"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", "rc1")
    cut(load_config(toml), tag=False)
    return root


def measure(root: Path, n: int, runs: int) -> dict[str, float]:
    """Add migrations up to `n` (after rc1's), then rehearse `runs` times; medians."""
    versions = root / "alembic" / "versions"
    have = len(list(versions.glob("r*.py")))
    for i in range(have + 1, n + 1):
        down = f"r{i - 1:04d}" if i > 1 else "a1"
        (versions / f"r{i:04d}_t.py").write_text(REVISION.format(i=i, down=down))
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", f"{n} migrations")
    totals, overheads = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = rehearse_tree(load_config(root / "release.toml"))
        totals.append(time.perf_counter() - start)
        overheads.append(result.overhead)
    total, overhead = statistics.median(totals), statistics.median(overheads)
    return {"n": n, "total": total, "overhead": overhead, "commands": total - overhead}


def render(rows: list[dict[str, float]], runs: int) -> str:
    lines = [
        BEGIN,
        "## Rehearsal: its own overhead, and growth with the number of migrations",
        "",
        f"`bench/rehearsal.py`: an Alembic project on SQLite whose RC adds N migrations (each creates a table "
        f"and inserts a row); `releaser rehearse` in-process, the pinned venv kept from a warm-up; median of {runs} "
        f"run(s). *Commands* is the time in the project's own commands (Alembic's upgrade, downgrade, the seed, "
        f"the gate); *overhead* is everything else: reading the graph, the worktree, creating, backing up and "
        f"reading the database, checking the kept venv. Goal: overhead at most {GOAL:g} s.",
        "",
        "| migrations | rehearsal (s) | commands (s) | overhead (s) | goal met |",
        "|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        met = "yes" if row["overhead"] <= GOAL else "no"
        lines.append(f"| {row['n']} | {row['total']:.2f} | {row['commands']:.2f} | {row['overhead']:.3f} | {met} |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        per = (last["total"] - first["total"]) / max(1, last["n"] - first["n"])
        low, high = min(r["overhead"] for r in rows), max(r["overhead"] for r in rows)
        lines += ["", f"From {first['n']:g} to {last['n']:g} migrations the rehearsal grew by {per * 1000:.1f} ms per migration "
                  f"(each is applied, reverted and applied again); the overhead stayed between {low:.3f} s and {high:.3f} s."]
    lines += [
        f"Measured on {os.cpu_count()} cores, load average {LOAD_START[0]:.2f} at the start and {os.getloadavg()[0]:.2f} at "
        "the end (other jobs may share the machine: compare the load before reading much into small differences).",
        END,
    ]
    return "\n".join(lines) + "\n"


def write(output: Path, section: str) -> None:
    text = output.read_text(encoding="utf-8") if output.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) + 1 :]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section
    output.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes", help="comma-separated numbers of migrations (default 10,100,300)")
    parser.add_argument("--runs", type=int)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([3, 5] if args.quick else [10, 100, 300])
    runs = args.runs or (1 if args.quick else 3)
    with tempfile.TemporaryDirectory(prefix="releaser-bench-rehearsal-") as tmp, PackageIndex() as index:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # a cold pip cache, then the kept venv
        for wheel in wheels_with_dependencies(["alembic"], Path(tmp)):
            index.add(wheel)
        root = project(Path(tmp), index.url)
        rehearse_tree(load_config(root / "release.toml"))  # warm-up: the venv is made and kept
        rows = []
        for n in sizes:
            print(f"rehearsal with {n} migrations", file=sys.stderr, flush=True)
            rows.append(measure(root, n, runs))
    write(args.output, render(rows, runs))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
