"""Benchmark: the Maven part of `releaser lock` for SNAPSHOTs behind a slow repository.

A loopback Maven repository (releaser.loopback.maven, in its own process, as a
real repository is) serves --artifacts SNAPSHOT artifacts, two builds each, and
adds --delay seconds to every answer. Whole processes, on a project that has only
[[maven]], from scratch each time (no release.lock, so nothing is kept):

- A: `releaser lock -C DIR`;
- B: the sequential baseline, bench/sequential_lock.py: the same lock through the
  same code with a one-worker HTTP pool (`Http(workers=1)`), so every request
  waits for the one before it.

A and B run in pairs after one warm-up run of A (B runs the same code, and is the
slow one); the speed-up is B over A, pair by pair (bench/measure.py).

By default the repository sends its checksums as `X-Checksum-*` headers, as
Maven Central and Artifactory do, so each SNAPSHOT costs three requests
(version metadata, file, pom). `--sidecars-only` serves them only as `.sha1`-style
files, as a plain web server would: six more requests per SNAPSHOT.

    .venv/bin/python bench/maven_snapshots.py [--artifacts 200] [--delay 0.05] [--runs 5] [--sidecars-only]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import clean_env, releaser_command, show
from bench.measure import BenchError, Pairs, Sample, paired, run
from releaser.core import config, lockfile
from releaser.loopback.maven import MavenRepository

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
SEQUENTIAL = Path(__file__).resolve().with_name("sequential_lock.py")


def serve(conn: object, artifacts: int, delay: float, headers: bool) -> None:
    """The repository's process: deploy, report the URL and the request count, stop when told."""
    with MavenRepository(delay=delay, checksum_headers=headers) as repo:
        for i in range(artifacts):
            for build in (1, 2):  # two builds each: the metadata must be read, not guessed
                repo.deploy_snapshot(f"org.bench.g{i % 10}", f"artifact-{i}", f"1.{i}-SNAPSHOT", T0 + timedelta(hours=i, minutes=build), build)
        conn.send(repo.url)  # type: ignore[attr-defined]
        while conn.recv() == "count":  # type: ignore[attr-defined]
            conn.send(len(repo.requests_seen))  # type: ignore[attr-defined]


class Repository:
    """`serve` in a process of its own, as a context manager: `url`, and `requests()` served so far."""

    def __init__(self, artifacts: int, delay: float, headers: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=serve, args=(theirs, artifacts, delay, headers), daemon=True)
        self.url = ""

    def __enter__(self) -> Repository:
        self._process.start()
        self.url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(timeout=10)

    def requests(self) -> int:
        self._conn.send("count")
        return self._conn.recv()


def project(root: Path, repository: str, count: int) -> config.ReleaseConfig:
    deps = ",\n    ".join(f'"org.bench.g{i % 10}:artifact-{i}:1.{i}-SNAPSHOT"' for i in range(count))
    (root / "release.toml").write_text(
        f'[release]\nname = "bench"\nversion = "1.0.0"\n\n[[maven]]\nrepository = "{repository}"\n'
        f"dependencies = [\n    {deps},\n]\n",
        encoding="utf-8",
    )
    return config.load(root / "release.toml")


@dataclass(frozen=True)
class Compared:
    count: int  # SNAPSHOTs locked
    pairs: Pairs  # A: releaser lock, B: the sequential baseline
    requests: int  # answered by the repository per lock


def compare(repo: Repository, count: int, *, runs: int) -> Compared:
    """`releaser lock` and the sequential baseline of the first `count` SNAPSHOTs `repo` serves.

    One uncounted run of `releaser lock` comes first: it counts the requests a lock
    makes, proves the lock right, and warms up (the baseline runs the same code).
    """
    with tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        cfg = project(root, repo.url, count)
        env = clean_env(Path(tmp) / "cache")

        def lock(command: list[str]) -> Sample:
            cfg.lockfile.unlink(missing_ok=True)  # a first lock every time: nothing kept from before
            return run(command, cwd=root, env=env)

        concurrent = [*releaser_command(), "lock", "-C", str(root)]
        sequential = [sys.executable, str(SEQUENTIAL), str(root)]
        before = repo.requests()
        lock(concurrent)  # uncounted
        requests = repo.requests() - before
        check_pins(cfg, count)
        pairs = paired(lambda: lock(concurrent), lambda: lock(sequential), runs=runs, warm_up=False)
        check_pins(cfg, count)
        return Compared(count, pairs, requests)


def check_pins(cfg: config.ReleaseConfig, count: int) -> None:
    """Every SNAPSHOT pinned to its second (newest) build: a fast wrong lock measures nothing."""
    written = lockfile.read(cfg.lockfile)
    pins = written.pins if written else ()
    if len(pins) != count or not all(p.version.endswith("-2") and "SNAPSHOT" not in p.version for p in pins):
        raise BenchError(f"the lock pins {len(pins)} of {count} SNAPSHOTs, or not their newest builds")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added to every answer")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sidecars-only", action="store_true", help="no X-Checksum-* headers, only .sha1-style files")
    args = parser.parse_args()

    kind = "sidecar files only" if args.sidecars_only else "X-Checksum headers"
    print(f"{args.artifacts} SNAPSHOTs, {args.delay * 1000:.0f} ms added to every request, checksums as {kind}")
    with Repository(args.artifacts, args.delay, not args.sidecars_only) as repo:
        found = compare(repo, args.artifacts, runs=args.runs)
    print(f"  releaser lock:       {show(found.pairs.a.wall)} s; {found.requests} requests per lock")
    print(f"  sequential baseline: {show(found.pairs.b.wall)} s")
    print(f"  speed-up: {found.pairs.ratio.median:.1f}x ({found.pairs.ratio.low:.1f}-{found.pairs.ratio.high:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
