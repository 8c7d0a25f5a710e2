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
  a fresh uv cache every run, as a first `releaser lock` on a machine has;
- F: `releaser lock -C DIR` again on D's project, nothing changed since D wrote its lock:
  the relock a developer runs most (paired with E, what they would run instead);
- H: `releaser lock --refresh -C DIR` on D's project: a resolution again, with the index
  pages kept from the run before (releaser.plumbing.pagecache), each revalidated (304);
  uv itself starts from a fresh cache, as in every lock.

A and D start without kept pages (a first lock on this machine); the index sends ETag and
`Cache-Control: no-cache`, so pip (in A, B and C alike, each with its own HTTP cache kept
from round to round) and releaser may keep pages and revalidate them, never reuse them
unasked; files are `no-store`. `compare_uv` measures D, E, F and H alone, on an index that
waits `delay` seconds before every answer and lets clients keep files for good, as PyPI
does (`immutable`).

pip-tools hashes files by downloading them unless the index is pypi.org (whose JSON
API it asks instead), so on this index B downloads all three files of every pinned
version; releaser takes the sha256 from the PEP 691 page and downloads nothing.
All three use the same pip HTTP cache location rule (under XDG_CACHE_HOME, private
to the benchmark). The five rotate round by round; ratios are taken per round (bench/measure.py).

    .venv/bin/python bench/pylock.py [--sizes 50,150,300] [--runs 5] [--delay 0.02] [--uv-only]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import releaser_command, show
from bench.measure import Pairs, Sample, Spread, bench_parser, interleaved, run
from loopback.pypi import PackageIndex
from releaser.core import lockfile as lockfile_module
from releaser.plumbing.piprun import isolated_env

T0 = datetime(2024, 1, 1, tzinfo=UTC)
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
    warm: Pairs | None = None  # A: releaser lock --refresh, pages kept (uv project), B: uv pip compile --generate-hashes


@dataclass(frozen=True)
class ComparedUv:
    """The uv rows alone, on an index `delay` seconds away."""

    delay: float
    uv: Pairs  # releaser lock (uv), from scratch / uv pip compile --generate-hashes
    noop: Pairs  # releaser lock, nothing changed / the same
    warm: Pairs  # releaser lock --refresh, pages kept / the same

    @property
    def warm_gain(self) -> Spread:
        """A cold lock's wall time over a warm one's (the page cache's gain), median of each."""
        return Spread((self.uv.a.wall.median / self.warm.a.wall.median,))


class _Bench:
    """A generated project (and its uv twin) on a loopback index, and the commands measured on it."""

    def __init__(self, tmp: Path, index: PackageIndex, n: int) -> None:
        self.index = index
        self.root, self.cache, self.scratch = tmp / "project", tmp / "cache", tmp / "scratch"
        self.uv_root = tmp / "uv-project"
        self.root.mkdir()
        self.scratch.mkdir()
        synthesize(self.root, index, n)
        same_project_with_uv(self.root, self.uv_root)
        self.env = bench_env(self.cache)
        self.env_uv = {k: v for k, v in self.env.items() if not k.upper().startswith("UV_")}

    def lock(self, project: Path) -> Sample:
        """A first lock on this machine: no release.lock, no kept index page (uv's cache is fresh in every lock)."""
        (project / "release.lock").unlink(missing_ok=True)
        shutil.rmtree(self.cache / "releaser" / "pages", ignore_errors=True)
        return run([*releaser_command(), "lock", "-C", str(project)], cwd=project, env=self.env)

    def relock(self, *options: str) -> Sample:
        """The uv project's lock is there, nothing changed: answered from it (with `--refresh`: resolved again)."""
        return run([*releaser_command(), "lock", *options, "-C", str(self.uv_root)], cwd=self.uv_root, env=self.env)

    def uv_compile(self) -> Sample:
        work = Path(tempfile.mkdtemp(dir=self.scratch))  # fresh output file and uv cache
        try:
            command = uv_compile_command(self.index.url, work / "uv-cache", work / "requirements.txt")
            return run(command, cwd=self.root, env=self.env_uv)
        finally:
            shutil.rmtree(work)

    def compile_(self, hashes: bool) -> Sample:
        work = Path(tempfile.mkdtemp(dir=self.scratch))  # fresh output file and pip-tools cache
        try:
            command = pip_compile_command(self.index.url, work / "pip-tools-cache", work / "requirements.txt", hashes=hashes)
            return run(command, cwd=self.root, env=self.env)
        finally:
            shutil.rmtree(work)

    def uv_rows(self, runs: int, warm_up: bool) -> tuple[Pairs, Pairs, Pairs]:
        """(D / E, F / E, H / E): a first lock, a no-op relock and a warm `--refresh` relock, each against uv."""
        (d, e), load = interleaved((lambda: self.lock(self.uv_root), self.uv_compile), runs=runs, warm_up=None if warm_up else (False,) * 2)
        (f, g, h), later = interleaved(
            (self.relock, self.uv_compile, lambda: self.relock("--refresh")), runs=runs,
            warm_up=(warm_up, warm_up, True),  # H's warm-up keeps the pages its counted runs revalidate
        )
        return Pairs(d, e, load), Pairs(f, g, later), Pairs(h, g, later)


def compare(n: int, *, runs: int, warm_up: bool = True) -> Compared:
    """A: `releaser lock`; B: pip-compile --generate-hashes; C: pip-compile; D, E, F, H: with uv; in rotating rounds."""
    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex() as index:
        bench = _Bench(Path(tmp), index, n)
        (a, b, c), load = interleaved(
            (lambda: bench.lock(bench.root), lambda: bench.compile_(True), lambda: bench.compile_(False)),
            runs=runs, warm_up=None if warm_up else (False,) * 3,
        )
        written = lockfile_module.read(bench.root / "release.lock")
        uv, noop, warm = bench.uv_rows(runs, warm_up)
        return Compared(Pairs(a, b, load), Pairs(a, c, load), len(written.pins) if written else 0, uv, noop, warm)


def compare_uv(n: int, *, runs: int, delay: float, warm_up: bool = True) -> ComparedUv:
    """D, E, F and H alone, the index waiting `delay` seconds before every answer."""
    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp, PackageIndex(delay=delay, immutable_files=True) as index:
        uv, noop, warm = _Bench(Path(tmp), index, n).uv_rows(runs, warm_up)
        return ComparedUv(delay, uv, noop, warm)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds the index waits before every answer (0)")
    parser.add_argument("--uv-only", action="store_true", help="only the uv rows (D, E, F, H)")
    args = parser.parse_args()
    print(f"whole process, seconds: median of {args.runs} (min-max); index delay {args.delay * 1000:g} ms\n")
    if not args.uv_only:
        print("| packages | lock, wall | pip-compile --generate-hashes, wall | lock / that | pip-compile (no hashes), wall | lock / that |")
        print("|---|---|---|---|---|---|")
    rows = []
    for n in args.sizes:
        if args.uv_only:
            found = compare_uv(n, runs=args.runs, delay=args.delay)
            uv, noop, warm = found.uv, found.noop, found.warm
        else:
            full = compare(n, runs=args.runs)
            a, b, c = full.hashes.a, full.hashes.b, full.plain.b
            print(
                f"| {n} | {show(a.wall)} | {show(b.wall)} | {full.hashes.inverse.median:.2f}x "
                f"| {show(c.wall)} | {full.plain.inverse.median:.2f}x |"
            )
            assert full.uv and full.noop and full.warm
            uv, noop, warm = full.uv, full.noop, full.warm
        rows.append(
            f"| {n} | {show(uv.a.wall)} | {show(uv.b.wall)} | {uv.inverse.median:.2f}x | {show(warm.a.wall)} "
            f"| {warm.inverse.median:.2f}x | {show(noop.a.wall)} | {show(uv.a.servers_cpu)} | {show(uv.b.servers_cpu)} |"
        )
    print(
        "\n| packages | lock (uv), wall | uv pip compile --generate-hashes, wall | lock / uv | warm lock --refresh, wall "
        "| warm / uv | no-op relock, wall | the index's CPU serving the lock | the index's CPU serving uv |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
