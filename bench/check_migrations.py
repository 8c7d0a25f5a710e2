"""Benchmark: `releaser check` on a Django project with migrations and a previous RC, against `uv lock --check --offline`.

The project: PINS requirements on a loopback index with their lock (as bench/check.py
synthesizes them), app `shop` with N - 1 migrations as `makemigrations` writes them
(bench/migrations.py), `[migrations]` in release.toml, `1.0rc1` cut by `releaser cut`
(recorded, committed, tagged), then migration N committed: the gate has a
previous RC to judge and one new migration. The uv project: the same PINS dependencies,
locked by uv (bench/check.py). Whole processes, as a developer's hook or CI runs them:

- the first `releaser check`, once: it reads every migration, and keeps its passing verdict;
- then, in pairs (bench/measure.py), `releaser check -C DIR` (answered from the seal) and
  `uv lock --check --offline`.

    .venv/bin/python bench/check_migrations.py [--sizes 200] [--runs 5]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import clean_env, releaser_command, synthesize, uv_env, uv_project
from bench.measure import BenchError, Pairs, Sample, bench_parser, paired, run, seconds, times
from bench.migrations import DJANGO_GATE, add_django_migration, django_files
from loopback.pypi import PackageIndex

PINS = 50
GOAL_AT = 200  # migrations
GOAL_SECONDS = 0.1
GOAL_UV_RATIO = 2.0  # releaser check / uv lock --check --offline


@dataclass(frozen=True)
class Compared:
    count: int  # migrations in the tree
    pins: int
    first: Sample  # the check that read the migrations and kept the verdict
    pairs: Pairs  # A: releaser check (sealed), B: uv lock --check --offline


def project(root: Path, index: PackageIndex, n: int, pins: int, env: dict[str, str]) -> None:
    """The Django project of `n` migrations, `pins` pins and a previous RC, the last migration new since it."""
    root.mkdir()
    django_files(root, n - 1)
    synthesize(root, index, pins, DJANGO_GATE)
    (root / ".gitignore").write_text("__pycache__/\n*.sqlite3\n/dist/\n", encoding="utf-8")

    def git(*args: str) -> None:
        done = subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", "-c", "commit.gpgsign=false",
                               "-c", "tag.gpgsign=false", *args], cwd=root, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise BenchError(f"git {' '.join(args)}: {done.stderr}")

    git("-c", "init.defaultBranch=main", "init", "-q")
    git("add", "--all")
    git("commit", "-q", "-m", "the project")
    run([*releaser_command(), "cut", "-C", str(root)], cwd=root, env=env)
    add_django_migration(root, n)
    git("add", "--all")
    git("commit", "-q", "-m", "one migration more")


def compare(n: int, *, runs: int, warm_up: bool = True, pins: int = PINS) -> Compared:
    import uv

    with tempfile.TemporaryDirectory(prefix="releaser-bench-check-migrations-") as tmp, PackageIndex() as index:
        base = Path(tmp)
        root, uv_root = base / "project", base / "uv-project"
        env = {**clean_env(base / "cache"), "PYTHONPATH": ""}
        project(root, index, n, pins, env)
        env_uv = uv_env(base / "cache")
        uv_root.mkdir()
        uv_project(uv_root, index.url, pins, env_uv)
        command = [*releaser_command(), "check", "-C", str(root)]
        first = run(command, cwd=root, env=env)
        out = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=60).stdout
        if f"{n} read, 1 new since 1.0rc1" not in out or "nothing refused" not in out:
            raise BenchError(f"the check does not judge what the benchmark built:\n{out}")
        pairs = paired(
            lambda: run(command, cwd=root, env=env),
            lambda: run([uv.find_uv_bin(), "lock", "--check", "--offline"], cwd=uv_root, env=env_uv),
            runs=runs,
            warm_up=warm_up,
        )
        return Compared(n, pins, first, pairs)


def goal_rows(results: list[Compared], verdict: Callable[[bool | None], str]) -> list[str]:
    """The goals table's rows (issue 29): the sealed check with migrations, alone and against uv's."""
    if not results:
        return []
    c = next((c for c in results if c.count == GOAL_AT), results[-1])
    judged = c.count == GOAL_AT
    a, ratio = c.pairs.a.wall, c.pairs.inverse
    what = f"`releaser check`, Django project of {c.count} migrations and a previous RC, {c.pins} pins"
    return [
        f"| 7 | {what} | ≤ {GOAL_SECONDS} s at {GOAL_AT} | {seconds(a)} s | {verdict(a.median <= GOAL_SECONDS if judged else None)} |",
        f"| 7 | the same / `uv lock --check --offline` | ≤ {GOAL_UV_RATIO:.0f}× at {GOAL_AT} | {times(ratio)} | "
        f"{verdict(ratio.median <= GOAL_UV_RATIO if judged else None)} |",
    ]


def render(results: list[Compared]) -> list[str]:
    """Section 7 of docs/benchmarks.md."""
    if not results:
        return []
    out = [
        "## 7. `releaser check` with migrations and a previous RC vs `uv lock --check --offline`",
        "",
        f"A Django project (bench/check_migrations.py): N migrations as `makemigrations` writes them, {results[0].pins} pins "
        "on a loopback index, `[migrations]` in release.toml, an RC cut by `releaser cut` (recorded, committed, "
        "tagged) before the last migration was committed. The first `releaser check` reads every migration and "
        "keeps its passing verdict under the lock's check seal (docs/check.md); every later one, until a "
        "migration, the allow list or the previous RC moves, hashes the migration files, the records folder "
        "and the git tags and answers from it, importing no reader. Then `releaser check` and "
        "`uv lock --check --offline` (a uv project of the same pins) in pairs; wall seconds, median (min–max), "
        "the ratio per pair.",
        "",
        "| N | first check (reads, keeps), wall | check, wall | check, CPU | `uv lock --check --offline`, wall "
        "| check / uv | load (1 min) |",
        "|---:|---|---|---|---|---|---:|",
    ]
    for c in results:
        out.append(
            f"| {c.count} | {c.first.wall:.3f} | {seconds(c.pairs.a.wall)} | {seconds(c.pairs.a.cpu)} | {seconds(c.pairs.b.wall)} "
            f"| {times(c.pairs.inverse)} | {c.pairs.load[0]:.2f} |"
        )
    return out + [""]


def main() -> None:
    args = bench_parser(__doc__, str(GOAL_AT)).parse_args()
    print("\n".join(render([compare(n, runs=args.runs) for n in args.sizes])))


if __name__ == "__main__":
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    main()
