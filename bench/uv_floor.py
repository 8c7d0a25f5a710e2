"""What-if: the least a lock with uv can cost when it records every file from the index.

Goal 2 with uv (bench/findings.md) asks `releaser lock` for ≤ 1.3× of `uv pip compile
--generate-hashes`. releaser also reads each pinned project's index page for every
platform's files (sha256, size, upload time; the same code for both resolvers), in one
Python process. This measures the floor of that design on this machine, side by side:

- E: `uv pip compile --generate-hashes`, exactly as section 2 of bench/run.py runs it;
- F: a bare Python process (this interpreter, with `site`, as the console script runs)
  that starts the same uv command at once and, while uv runs, reads all N project pages
  from the same index, 8 at a time, with urllib3 (no `requests`, no click, no
  validation, no lock written): nothing releaser does but the second pass.

F / E is the lowest ratio any `releaser lock` with uv could reach here.

    .venv/bin/python bench/uv_floor.py [--sizes 50,150,300] [--runs 5]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import show
from bench.measure import Sample, paired, run, sizes_and_runs
from bench.pylock import bench_env, synthesize, uv_compile_command
from releaser.loopback.pypi import PackageIndex

# F's program: argv = index URL, N, then the uv command.
FLOOR = """
import json, subprocess, sys
from concurrent.futures import ThreadPoolExecutor
url, n, command = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
uv = subprocess.Popen(command, stdin=subprocess.DEVNULL)
import urllib3
pool = urllib3.PoolManager(maxsize=8)
def page(i):
    answer = pool.request("GET", f"{url}/lib-{i:04d}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    return len(json.loads(answer.data)["files"])
with ThreadPoolExecutor(8) as threads:
    files = sum(threads.map(page, range(n)))
sys.exit(uv.wait() or (files != 3 * n))
"""


def compare(n: int, *, runs: int) -> tuple[Sample, Sample, float]:
    """(E's median sample, F's median sample, the median of F / E per pair)."""
    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex() as index:
        root, scratch = Path(tmp) / "project", Path(tmp) / "scratch"
        root.mkdir()
        scratch.mkdir()
        synthesize(root, index, n, resolver="uv")
        env = {k: v for k, v in bench_env(Path(tmp) / "cache").items() if not k.upper().startswith("UV_")}

        def fresh(floor: bool) -> Sample:
            work = Path(tempfile.mkdtemp(dir=scratch))  # fresh output file and uv cache, as section 2
            try:
                command = uv_compile_command(index.url, work / "uv-cache", work / "requirements.txt")
                if floor:
                    command = [sys.executable, "-c", FLOOR, index.url, str(n), *command]
                return run(command, cwd=root, env=env)
            finally:
                shutil.rmtree(work)

        pairs = paired(lambda: fresh(False), lambda: fresh(True), runs=runs)
        return pairs.a.wall, pairs.b.wall, pairs.ratio.median  # type: ignore[return-value]


def main() -> None:
    sizes, runs = sizes_and_runs(__doc__)
    print(f"whole process, seconds: median of {runs} (min-max)\n")
    print("| packages | uv pip compile --generate-hashes | uv + every page read, bare Python | floor / uv |")
    print("|---:|---|---|---:|")
    for n in sizes:
        uv, floor, ratio = compare(n, runs=runs)
        print(f"| {n} | {show(uv)} | {show(floor)} | {ratio:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
