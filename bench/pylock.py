"""Benchmark: `releaser lock` (Python part) against bare `pip-compile --generate-hashes`.

For each N, N packages are published on a loopback index
(loopback.pypi.PackageIndex), each with three files: a py3 wheel, a
Windows wheel and an sdist, so that recording every platform's files (which
releaser does and pip-compile does not) has something to record. Half of them are
named in requirements.in; each of those requires one of the other half, so
pip-compile resolves N packages, N/2 of them transitively. Then, whole processes:

- A: `releaser lock -C DIR`, from scratch (no release.lock, so no earlier pins);
- B: `pip-compile --generate-hashes` on the same requirements.in and index, isolated
  as releaser isolates it (`releaser.plumbing.piprun.isolated_env()`, `--no-config`),
  into a fresh output file and with a fresh pip-tools cache directory every run,
  as every `releaser lock` has;
- C: the same without `--generate-hashes`: the resolution releaser itself delegates
  to pip-compile, so A over C is what releaser adds (reading every version's files
  from the index, writing the lock) on top of it;
- D: `releaser lock -C DIR` with `[python] resolver = "uv"`, from scratch;
- E: `uv pip compile --generate-hashes` on the same requirements.in and index, isolated
  as releaser isolates uv (`--no-config`, no `UV_*` variable), a fresh output file and
  a fresh uv cache every run, as every `releaser lock` has;
- F: `releaser lock -C DIR` again on D's project, nothing changed since D wrote its lock:
  the relock a developer runs most (paired with E, what they would run instead).

pip-tools hashes files by downloading them unless the index is pypi.org (whose JSON
API it asks instead), so on this index B downloads all three files of every pinned
version; releaser takes the sha256 from the PEP 691 page and downloads nothing.
All three use the same pip HTTP cache location rule (under XDG_CACHE_HOME, private
to the benchmark); the index answers `Cache-Control: no-store`, so none is served
from it. The five rotate round by round; ratios are taken per round (bench/measure.py).

    .venv/bin/python bench/pylock.py [--sizes 50,150,300] [--runs 5]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import releaser_command, show
from bench.measure import Pairs, Sample, bench_parser, interleaved, run
from releaser.core import lockfile as lockfile_module
from releaser.plumbing.piprun import isolated_env
from loopback.pypi import PackageIndex

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
TAGS = ("py3-none-any", "cp311-cp311-win_amd64")  # plus an sdist: three files a version


def synthesize(root: Path, index: PackageIndex, n: int, *, resolver: str = "pip-tools") -> None:
    """`n` packages on `index`, half required directly, each of those requiring one of the rest."""
    direct = (n + 1) // 2
    names = [f"lib-{i:04d}" for i in range(n)]
    for i, name in enumerate(names):
        requires = [f"{names[i + direct]}>=1.0"] if i + direct < n else []
        index.publish(name, "1.0", requires=requires, uploaded=T0 + timedelta(minutes=i), sdist=True, tags=TAGS)
    (root / "requirements.in").write_text("".join(f"{name}>=1.0\n" for name in names[:direct]), encoding="utf-8")
    (root / "release.toml").write_text(
        f'[release]\nname = "bench"\nversion = "1.0"\n\n[python]\nrequirements = ["requirements.in"]\nindex-url = "{index.url}"\n'
        f'resolver = "{resolver}"\n',
        encoding="utf-8",
    )


def same_project_with_uv(root: Path, other: Path) -> None:
    """`other`: the same project as `root`, for another resolver (the packages are on the index already)."""
    other.mkdir()
    shutil.copyfile(root / "requirements.in", other / "requirements.in")
    text = (root / "release.toml").read_text(encoding="utf-8")
    (other / "release.toml").write_text(text.replace('resolver = "pip-tools"', 'resolver = "uv"'), encoding="utf-8")


def bench_env(cache: Path) -> dict[str, str]:
    """releaser's own isolation, with the benchmark's private cache and bytecode kept."""
    env = isolated_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def pip_compile_command(index_url: str, cache_dir: Path, output: Path, *, hashes: bool = True) -> list[str]:
    return [
        sys.executable, "-P", "-m", "piptools", "compile", *(["--generate-hashes"] if hashes else []), "--no-config",
        "--index-url", index_url, "--trusted-host", "127.0.0.1",
        "--cache-dir", str(cache_dir), "-o", str(output), "requirements.in",
    ]


def uv_compile_command(index_url: str, cache_dir: Path, output: Path) -> list[str]:
    import uv

    return [
        uv.find_uv_bin(), "pip", "compile", "--generate-hashes", "--no-config", "--quiet", "--python", sys.executable,
        "--index-url", index_url, "--index-strategy", "unsafe-best-match",
        "--cache-dir", str(cache_dir), "-o", str(output), "requirements.in",
    ]


@dataclass(frozen=True)
class Compared:
    hashes: Pairs  # A: releaser lock, B: pip-compile --generate-hashes
    plain: Pairs  # A: releaser lock, B: pip-compile without hashes, as releaser runs it
    pins: int  # in the lock A wrote
    uv: Pairs | None = None  # A: releaser lock with resolver = "uv", B: uv pip compile --generate-hashes
    noop: Pairs | None = None  # A: releaser lock with nothing changed (uv project), B: uv pip compile --generate-hashes


def compare(n: int, *, runs: int, warm_up: bool = True) -> Compared:
    """A: `releaser lock`; B: pip-compile --generate-hashes; C: pip-compile; in rotating rounds."""
    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex() as index:
        root, cache, scratch = Path(tmp) / "project", Path(tmp) / "cache", Path(tmp) / "scratch"
        uv_root = Path(tmp) / "uv-project"
        root.mkdir()
        scratch.mkdir()
        synthesize(root, index, n)
        same_project_with_uv(root, uv_root)
        env = bench_env(cache)
        env_uv = {k: v for k, v in env.items() if not k.upper().startswith("UV_")}
        lockfile = root / "release.lock"

        def lock(project: Path = root) -> Sample:
            (project / "release.lock").unlink(missing_ok=True)  # a first lock every time: nothing kept from before
            return run([*releaser_command(), "lock", "-C", str(project)], cwd=project, env=env)

        def relock() -> Sample:  # the lock is there, nothing changed: answered from it
            return run([*releaser_command(), "lock", "-C", str(uv_root)], cwd=uv_root, env=env)

        def uv_compile() -> Sample:
            work = Path(tempfile.mkdtemp(dir=scratch))  # fresh output file and uv cache
            try:
                return run(uv_compile_command(index.url, work / "uv-cache", work / "requirements.txt"), cwd=root, env=env_uv)
            finally:
                shutil.rmtree(work)

        def compile_(hashes: bool) -> Sample:
            work = Path(tempfile.mkdtemp(dir=scratch))  # fresh output file and pip-tools cache
            try:
                command = pip_compile_command(index.url, work / "pip-tools-cache", work / "requirements.txt", hashes=hashes)
                return run(command, cwd=root, env=env)
            finally:
                shutil.rmtree(work)

        (a, b, c, d, e), load = interleaved(
            (lock, lambda: compile_(True), lambda: compile_(False), lambda: lock(uv_root), uv_compile),
            runs=runs, warm_up=None if warm_up else (False,) * 5,
        )
        written = lockfile_module.read(lockfile)
        (f, g), noop_load = interleaved((relock, uv_compile), runs=runs, warm_up=None if warm_up else (False,) * 2)
        return Compared(
            Pairs(a, b, load), Pairs(a, c, load), len(written.pins) if written else 0, Pairs(d, e, load), Pairs(f, g, noop_load)
        )


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    print(f"`releaser lock` vs `pip-compile --generate-hashes`, whole process, seconds: median of {args.runs} (min-max)\n")
    print("| packages | lock, wall | pip-compile --generate-hashes, wall | lock / that | pip-compile (no hashes), wall | lock / that |")
    print("|---|---|---|---|---|---|")
    for n in args.sizes:
        found = compare(n, runs=args.runs)
        a, b, c = found.hashes.a, found.hashes.b, found.plain.b
        print(
            f"| {n} | {show(a.wall)} | {show(b.wall)} | {found.hashes.inverse.median:.2f}x "
            f"| {show(c.wall)} | {found.plain.inverse.median:.2f}x |"
        )


if __name__ == "__main__":
    main()
