"""Benchmark: `releaser check` (offline) against re-running `pip-compile --generate-hashes`.

For each N, a project with N direct requirements is synthesized: N packages published
on a loopback index (loopback.pypi.PackageIndex, one wheel each), a
requirements.in naming them, and a release.lock pinning each to its real file and
sha256, with the header `releaser lock` would write (inputs recorded and the check
seal computed by the same code). Then, whole processes, as CI runs them:

- `releaser check -C DIR`, offline;
- `pip-compile --generate-hashes` on the same requirements.in against the index,
  starting from its previous output, as a "re-run pip-compile and git diff" gate does;
- `uv lock --check --offline` on a uv project of the same N dependencies (its
  pyproject.toml and the uv.lock `uv lock` wrote against the same index, and the
  project's `.venv` that `uv sync` would have made, so uv finds its interpreter there
  rather than searching the PATH): uv's own offline gate, the fastest there is.

Each command runs once to warm up (bytecode, pip's cache), then RUNS times, in rotating
rounds (bench/measure.py); the table gives the median and the min-max of the wall times.
`bench/run.py` runs this comparison with the others and writes docs/benchmarks.md.

    .venv/bin/python bench/check.py [--sizes 50,150,300] [--runs 5]
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import Pairs, Sample, Spread, bench_parser, interleaved, run
from loopback.pypi import PackageIndex
from releaser import __version__
from releaser.core import lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems import load_config, sources_for
from releaser.lock import sealing
from releaser.lock.locking import input_records

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def synthesize(root: Path, index: PackageIndex, n: int, extra: str = "") -> None:
    """A project of `n` requirements, all published on `index`, and a fresh release.lock of them;
    `extra`, more of release.toml (tables after [python])."""
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
        f'[release]\nname = "bench"\nversion = "1.0"\n\n[python]\nrequirements = ["requirements.in"]\nindex-url = "{index.url}"\n{extra}',
        encoding="utf-8",
    )
    cfg = load_config(root / "release.toml")
    sources = sources_for(cfg)
    read = sealing.snapshot(cfg, sources)
    lock = Lock(
        as_of=T0 + timedelta(days=30),
        releaser=__version__,
        resolver="pip-tools (synthesized)",
        inputs=input_records(cfg, sources),
        sources={"python": (index.url,)},
        pins=tuple(pins),
    )
    # Written as `releaser lock` writes it: with its check seal.
    (root / "release.lock").write_text(sealing.sealed(lockfile.dumps(lock), cfg, lock, lock.inputs, read), encoding="utf-8")


def releaser_command() -> list[str]:
    script = Path(sys.executable).with_name("releaser")
    return [str(script)] if script.exists() else [sys.executable, "-m", "releaser"]


def clean_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # CI keeps bytecode; so does this benchmark
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", XDG_CACHE_HOME=str(cache))
    return env


def pip_compile_command(index_url: str, cache: Path) -> list[str]:
    """The CI idiom `releaser check` replaces: re-run pip-compile, then `git diff --exit-code`."""
    return [
        sys.executable, "-m", "piptools", "compile", "--generate-hashes", "--no-config", "--quiet",
        "--index-url", index_url, "--trusted-host", "127.0.0.1",
        "--cache-dir", str(cache / "pip-tools"), "-o", "requirements.txt", "requirements.in",
    ]


def uv_env(cache: Path) -> dict[str, str]:
    """No uv configuration from the machine; the benchmark's own uv cache."""
    env = {k: v for k, v in clean_env(cache).items() if not k.upper().startswith("UV_")}
    env.update(UV_CACHE_DIR=str(cache / "uv"), UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never")
    return env


def uv_project(root: Path, index_url: str, n: int, env: dict[str, str]) -> None:
    """A uv project of the same `n` requirements at `root`, locked (uv.lock), with its .venv."""
    import uv

    deps = "".join(f'    "pkg-{i:04d}>=1.0",\n' for i in range(n))
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "bench"\nversion = "1.0"\nrequires-python = ">=3.11"\ndependencies = [\n{deps}]\n\n'
        f'[tool.uv]\npackage = false\n\n[[tool.uv.index]]\nurl = "{index_url}"\ndefault = true\n',
        encoding="utf-8",
    )
    run([uv.find_uv_bin(), "lock"], cwd=root, env=env)
    run([uv.find_uv_bin(), "venv", "--python", sys.executable, ".venv"], cwd=root, env=env)


@dataclass(frozen=True)
class Compared:
    pip: Pairs  # A: releaser check, B: pip-compile --generate-hashes re-run
    uv: Pairs  # A: releaser check, B: uv lock --check --offline


def compare(n: int, *, runs: int, warm_up: bool = True) -> Compared:
    """A: `releaser check` on a lock of `n` pins; B: pip-compile re-run; C: `uv lock --check --offline`."""
    import uv

    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex() as index:
        root, cache, uv_root = Path(tmp) / "project", Path(tmp) / "cache", Path(tmp) / "uv-project"
        root.mkdir()
        uv_root.mkdir()
        synthesize(root, index, n)
        env = clean_env(cache)
        command = pip_compile_command(index.url, cache)
        run(command, cwd=root, env=env)  # the "committed" output every run starts from
        committed = Path(tmp) / "requirements.txt"
        shutil.copyfile(root / "requirements.txt", committed)
        env_uv = uv_env(cache)
        uv_project(uv_root, index.url, n, env_uv)

        def check() -> Sample:
            return run([*releaser_command(), "check", "-C", str(root)], cwd=root, env=env)

        def recompile() -> Sample:
            shutil.copyfile(committed, root / "requirements.txt")
            return run(command, cwd=root, env=env)

        def uv_check() -> Sample:
            return run([uv.find_uv_bin(), "lock", "--check", "--offline"], cwd=uv_root, env=env_uv)

        (a, b, c), load = interleaved((check, recompile, uv_check), runs=runs, warm_up=None if warm_up else (False,) * 3)
        return Compared(Pairs(a, b, load), Pairs(a, c, load))


def show(spread: Spread) -> str:
    return f"{spread.median:.3f} ({spread.low:.3f}-{spread.high:.3f})"


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    print(f"`releaser check` vs `pip-compile --generate-hashes`, whole process, seconds: median of {args.runs} (min-max)\n")
    print(f"| {'pins':>5} | {'check, wall':>20} | {'check, cpu':>20} | {'pip-compile, wall':>23} | {'pip-compile, cpu':>23} | {'speed-up':>8} |")
    print(f"|{'-' * 7}|{'-' * 22}|{'-' * 22}|{'-' * 25}|{'-' * 25}|{'-' * 10}|")
    for n in args.sizes:
        pairs = compare(n, runs=args.runs).pip
        a, b = pairs.a, pairs.b
        print(f"| {n:>5} | {show(a.wall):>20} | {show(a.cpu):>20} | {show(b.wall):>23} | {show(b.cpu):>23} | {pairs.ratio.median:7.0f}x |")


if __name__ == "__main__":
    main()
