"""What-if: the least a lock with uv can cost when it records every file from the index.

Goal 2 with uv (bench/findings.md) asks `releaser lock` for ≤ 1.3× of `uv pip compile
--generate-hashes`. releaser also reads each pinned project's index page for every
platform's files (sha256, size, upload time; the same code for both resolvers), in one
Python process. This measures the floor of that design on this machine, side by side,
rotating round by round:

- E: `uv pip compile --generate-hashes`, exactly as section 2 of bench/run.py runs it;
- F: a bare Python process (this interpreter, with `site`, as the console script runs)
  that starts the same uv command at once and, while uv runs, reads all N project pages
  from the same index with urllib3, as many at a time as releaser reads them
  (`CONNECTIONS`): no `requests`, no click, no validation, no lock written; nothing
  releaser does but the second pass;
- G: a bare Python process that instead takes every file record from uv: it runs
  `uv pip compile --universal --format pylock.toml` (which lists every platform's files
  with sha256, size and upload time) and reads that file with `tomllib`; nothing else.
  This is the design the issue rules out (records from uv, not from releaser's reader);
- D: `releaser lock` with `resolver = "uv"` on the same project, from scratch.

F / E is the lowest ratio any `releaser lock` with uv could reach here; G / E the lowest
without the second pass; D / E is where it is. `--delay S` makes the index wait S seconds before every answer, as a distant index
does (the loopback one answers at once, so CPU, not the network, decides section 2).

    .venv/bin/python bench/uv_floor.py [--sizes 50,150,300] [--runs 5] [--delay 0.02]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import releaser_command, show
from bench.measure import Pairs, Sample, Series, Spread, bench_parser, interleaved, run
from bench.pylock import bench_env, synthesize, uv_compile_command
from loopback.pypi import PackageIndex
from releaser.plumbing.http import CONNECTIONS

# F's program: argv = index URL, N, pages read at a time, then the uv command.
FLOOR = """
import json, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
url, n, at_once, command = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
uv = subprocess.Popen(command, stdin=subprocess.DEVNULL)
import urllib3
pool = urllib3.PoolManager(maxsize=at_once)
def page(i):
    answer = pool.request("GET", f"{url}/lib-{i:04d}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    return len(json.loads(answer.data)["files"])
with ThreadPoolExecutor(at_once) as threads:
    files = sum(threads.map(page, range(n)))
sys.exit(uv.wait() or (files != 3 * n))
"""

# G's program: argv = N, then the uv command, whose `-o` names the pylock.toml it writes.
FROM_UV = """
import subprocess, sys, tomllib
n, command = int(sys.argv[1]), sys.argv[2:]
done = subprocess.run(command, stdin=subprocess.DEVNULL)
with open(command[command.index("-o") + 1], "rb") as written:
    files = sum(len(p.get("wheels", [])) + ("sdist" in p) for p in tomllib.load(written)["packages"])
sys.exit(done.returncode or (files != 3 * n))
"""


def compare(n: int, *, runs: int, delay: float = 0.0) -> tuple[tuple[Series, ...], tuple[Spread, ...]]:
    """E (uv), F and G (the floors) and D (`releaser lock`) for `n` packages; F / E, G / E and D / E per round."""
    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex(delay=delay) as index:
        root, scratch = Path(tmp) / "project", Path(tmp) / "scratch"
        root.mkdir()
        scratch.mkdir()
        synthesize(root, index, n, resolver="uv")
        env = bench_env(Path(tmp) / "cache")
        env_uv = {k: v for k, v in env.items() if not k.upper().startswith("UV_")}

        def fresh(floor: str) -> Sample:
            work = Path(tempfile.mkdtemp(dir=scratch))  # fresh output file and uv cache, as section 2
            try:
                command = uv_compile_command(index.url, work / "uv-cache", work / "requirements.txt")
                if floor == "F":
                    command = [sys.executable, "-c", FLOOR, index.url, str(n), str(CONNECTIONS), *command]
                elif floor == "G":  # the same command, writing a universal pylock.toml instead
                    at = command.index("-o")
                    pylock = ["--universal", "--format", "pylock.toml", "-o", str(work / "pylock.toml")]
                    command = [sys.executable, "-c", FROM_UV, str(n), *command[:at], *pylock, *command[at + 2 :]]
                return run(command, cwd=root, env=env_uv)
            finally:
                shutil.rmtree(work)

        def lock() -> Sample:
            (root / "release.lock").unlink(missing_ok=True)  # a first lock every time, as section 2
            return run([*releaser_command(), "lock", "-C", str(root)], cwd=root, env=env)

        (e, f, g, d), load = interleaved((lambda: fresh("E"), lambda: fresh("F"), lambda: fresh("G"), lock), runs=runs)
        return (e, f, g, d), tuple(Pairs(e, x, load).ratio for x in (f, g, d))


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds the index waits before every answer")
    args = parser.parse_args()
    print(f"whole process, seconds: median of {args.runs} (min-max); the index adds {args.delay:g} s to every answer\n")
    print(
        "| packages | uv pip compile --generate-hashes | uv + every page read, bare Python | floor / uv "
        "| uv --universal pylock.toml read by bare Python | / uv | releaser lock | lock / uv |"
    )
    print("|---:|---|---|---:|---|---:|---|---:|")
    for n in args.sizes:
        (e, f, g, d), (floor, from_uv, locked) = compare(n, runs=args.runs, delay=args.delay)
        print(
            f"| {n} | {show(e.wall)} | {show(f.wall)} | {floor.median:.2f}x | {show(g.wall)} | {from_uv.median:.2f}x "
            f"| {show(d.wall)} | {locked.median:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
