"""Benchmark: `releaser check` (offline) against re-running `pip-compile --generate-hashes`.

For each N, a project with N direct requirements is synthesized: N packages published
on a loopback index (releaser.loopback.pypi.PackageIndex, one wheel each), a
requirements.in naming them, and a release.lock pinning each to its real file and
sha256, with the header `releaser lock` would write (inputs recorded by the same
code). Then, whole processes, as CI runs them:

- `releaser check -C DIR`, offline;
- `pip-compile --generate-hashes` on the same requirements.in against the index,
  starting from its previous output, as a "re-run pip-compile and git diff" gate does.

Each command runs once to warm up (bytecode, pip's cache), then RUNS times; the table
gives the median and the min-max of the wall times.

    .venv/bin/python bench/check.py [--sizes 50,300,1000] [--runs 5] [--no-pip-compile]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from releaser import __version__, config, lockfile
from releaser.lockfile import Artifact, Lock, Pin
from releaser.locking import input_records
from releaser.loopback.pypi import PackageIndex
from releaser.sources import sources_for

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def synthesize(root: Path, index: PackageIndex, n: int) -> None:
    """A project of `n` requirements, all published on `index`, and a fresh release.lock of them."""
    names = [f"pkg-{i:04d}" for i in range(n)]
    pins = []
    for i, name in enumerate(names):
        uploaded = T0 + timedelta(minutes=i)
        (path,) = index.publish(name, "1.0", uploaded=uploaded)
        data = path.read_bytes()
        artifact = Artifact(
            name=path.name,
            url=f"{index.url.removesuffix('/simple')}/files/{path.name}",
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            date=uploaded,
        )
        pins.append(Pin("python", name, "1.0", index.url, requested=f"{name}>=1.0", date=uploaded, artifacts=(artifact,)))
    (root / "requirements.in").write_text("".join(f"{name}>=1.0\n" for name in names), encoding="utf-8")
    (root / "release.toml").write_text(
        f'[release]\nname = "bench"\nversion = "1.0"\n\n[python]\nrequirements = ["requirements.in"]\nindex-url = "{index.url}"\n',
        encoding="utf-8",
    )
    cfg = config.load(root / "release.toml")
    lock = Lock(
        as_of=T0 + timedelta(days=30),
        releaser=__version__,
        resolver="pip-tools (synthesized)",
        inputs=input_records(cfg, sources_for(cfg)),
        sources={"python": (index.url,)},
        pins=tuple(pins),
    )
    (root / "release.lock").write_text(lockfile.dumps(lock), encoding="utf-8")


def releaser_command() -> list[str]:
    script = Path(sys.executable).with_name("releaser")
    return [str(script)] if script.exists() else [sys.executable, "-m", "releaser"]


def clean_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # CI keeps bytecode; so does this benchmark
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", XDG_CACHE_HOME=str(cache))
    return env


def timed(command: list[str], *, cwd: Path, env: dict[str, str], runs: int, before=None, expect: int = 0) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system, of the process and its children) of `runs` runs."""
    walls, cpus = [], []
    for i in range(runs + 1):  # the first run warms up and is not counted
        if before is not None:
            before()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != expect:
            raise SystemExit(f"{' '.join(command[:3])}... exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        if i:
            walls.append(elapsed)
            cpus.append(after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime)
    return walls, cpus


def show(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} ({min(times):.3f}-{max(times):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50,300,1000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-pip-compile", action="store_true")
    args = parser.parse_args()

    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex() as index:
            root, cache = Path(tmp) / "project", Path(tmp) / "cache"
            root.mkdir()
            synthesize(root, index, n)
            env = clean_env(cache)
            check = timed([*releaser_command(), "check", "-C", str(root)], cwd=root, env=env, runs=args.runs)
            compile_times = None
            if not args.no_pip_compile:
                committed = Path(tmp) / "requirements.txt"

                def restore() -> None:  # every run starts from the last committed output
                    if committed.exists():
                        shutil.copyfile(committed, root / "requirements.txt")

                command = [
                    sys.executable, "-m", "piptools", "compile", "--generate-hashes", "--no-config", "--quiet",
                    "--index-url", index.url, "--trusted-host", "127.0.0.1",
                    "--cache-dir", str(cache / "pip-tools"), "-o", "requirements.txt", "requirements.in",
                ]
                timed(command, cwd=root, env=env, runs=0)  # writes the "committed" output
                shutil.copyfile(root / "requirements.txt", committed)
                compile_times = timed(command, cwd=root, env=env, runs=args.runs, before=restore)
            rows.append((n, check, compile_times))
            line = f"N={n}: releaser check {show(check[0])} (cpu {show(check[1])})"
            if compile_times:
                line += f", pip-compile {show(compile_times[0])} (cpu {show(compile_times[1])})"
            print(line, file=sys.stderr)

    print(f"\n`releaser check` vs `pip-compile --generate-hashes`, whole process, seconds: median of {args.runs} (min-max)\n")
    print(f"| {'pins':>5} | {'check, wall':>20} | {'check, cpu':>20} | {'pip-compile, wall':>23} | {'pip-compile, cpu':>23} | {'speed-up':>8} |")
    print(f"|{'-' * 7}|{'-' * 22}|{'-' * 22}|{'-' * 25}|{'-' * 25}|{'-' * 10}|")
    for n, check, compile_times in rows:
        wall, cpu = (show(compile_times[0]), show(compile_times[1])) if compile_times else ("-", "-")
        ratio = f"{statistics.median(compile_times[0]) / statistics.median(check[0]):6.0f}x" if compile_times else "-"
        print(f"| {n:>5} | {show(check[0]):>20} | {show(check[1]):>20} | {wall:>23} | {cpu:>23} | {ratio:>8} |")


if __name__ == "__main__":
    main()
