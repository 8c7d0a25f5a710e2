"""Benchmark: the Maven part of `releaser lock` for SNAPSHOTs behind a slow repository.

A loopback Maven repository (loopback.maven, in its own process, as a
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

`--transitive` serves a dependency graph instead, --artifacts in all: a quarter are
SNAPSHOTs that release.toml names, each with one parent POM shared by all of them and
three dependencies only its POM declares: a SNAPSHOT, a range ([1.0,2.0) over 1.0 and
1.5) and a version from the parent's `${property}`. Every one is pinned, the parent too,
two depths one after the other.

    .venv/bin/python bench/maven_snapshots.py [--artifacts 200] [--delay 0.05] [--runs 5] [--sidecars-only] [--transitive]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import clean_env, releaser_command, show
from bench.measure import BenchError, Pairs, Sample, paired, run
from loopback.maven import MavenRepository
from releaser.core import config, lockfile
from releaser.ecosystems import load_config

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SEQUENTIAL = Path(__file__).resolve().with_name("sequential_lock.py")


def serve(conn: object, artifacts: int, delay: float, headers: bool, transitive: bool = False) -> None:
    """The repository's process: deploy, report the URL and the request count, stop when told."""
    with MavenRepository(delay=delay, checksum_headers=headers) as repo:
        if transitive:
            deploy_graph(repo, artifacts // 4)
        for i in range(0 if transitive else artifacts):
            for build in (1, 2):  # two builds each: the metadata must be read, not guessed
                repo.deploy_snapshot(f"org.bench.g{i % 10}", f"artifact-{i}", f"1.{i}-SNAPSHOT", T0 + timedelta(hours=i, minutes=build), build)
        conn.send(repo.url)  # type: ignore[attr-defined]
        while conn.recv() == "count":  # type: ignore[attr-defined]
            conn.send(len(repo.requests_seen))  # type: ignore[attr-defined]


def deploy_graph(repo: MavenRepository, roots: int) -> None:
    """`roots` SNAPSHOTs (app-i), each with a shared parent and three dependencies of its own."""
    group = "org.bench.graph"
    parent = (
        b"<project><groupId>org.bench.graph</groupId><artifactId>parent</artifactId><version>1</version>"
        b"<packaging>pom</packaging><properties><prop.version>1.0</prop.version></properties></project>"
    )
    repo.deploy_release(group, "parent", "1", extension="pom", content=parent, pom=parent, last_modified=T0)
    for i in range(roots):
        dependencies = "".join(
            f"<dependency><groupId>{group}</groupId><artifactId>{a}-{i}</artifactId><version>{v}</version></dependency>"
            for a, v in (("snap", "1.0-SNAPSHOT"), ("range", "[1.0,2.0)"), ("prop", "${prop.version}"))
        )
        pom = (
            f"<project><parent><groupId>{group}</groupId><artifactId>parent</artifactId><version>1</version></parent>"
            f"<artifactId>app-{i}</artifactId><version>1.0-SNAPSHOT</version><dependencies>{dependencies}</dependencies></project>"
        ).encode()
        for build in (1, 2):
            when = T0 + timedelta(hours=i, minutes=build)
            repo.deploy_snapshot(group, f"app-{i}", "1.0-SNAPSHOT", when, build, pom=pom)
            repo.deploy_snapshot(group, f"snap-{i}", "1.0-SNAPSHOT", when, build)
            repo.deploy_release(group, f"range-{i}", f"1.{5 * (build - 1)}", last_modified=when)
        repo.deploy_release(group, f"prop-{i}", "1.0", last_modified=T0)


class Repository:
    """`serve` in a process of its own, as a context manager: `url`, and `requests()` served so far."""

    def __init__(self, artifacts: int, delay: float, headers: bool, transitive: bool = False) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=serve, args=(theirs, artifacts, delay, headers, transitive), daemon=True)
        self.transitive = transitive
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


def project(root: Path, repository: str, count: int, transitive: bool = False) -> config.ReleaseConfig:
    if transitive:
        deps = ",\n    ".join(f'"org.bench.graph:app-{i}:1.0-SNAPSHOT"' for i in range(count // 4))
    else:
        deps = ",\n    ".join(f'"org.bench.g{i % 10}:artifact-{i}:1.{i}-SNAPSHOT"' for i in range(count))
    (root / "release.toml").write_text(
        f'[release]\nname = "bench"\nversion = "1.0.0"\n\n[[maven]]\nrepository = "{repository}"\n'
        f"dependencies = [\n    {deps},\n]\n",
        encoding="utf-8",
    )
    return load_config(root / "release.toml")


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
        cfg = project(root, repo.url, count, repo.transitive)
        env = clean_env(Path(tmp) / "cache")

        def lock(command: list[str]) -> Sample:
            cfg.lockfile.unlink(missing_ok=True)  # a first lock every time: nothing kept from before
            return run(command, cwd=root, env=env)

        concurrent = [*releaser_command(), "lock", "-C", str(root)]
        sequential = [sys.executable, str(SEQUENTIAL), str(root)]
        before = repo.requests()
        lock(concurrent)  # uncounted
        requests = repo.requests() - before
        check_pins(cfg, count, repo.transitive)
        pairs = paired(lambda: lock(concurrent), lambda: lock(sequential), runs=runs, warm_up=False)
        check_pins(cfg, count, repo.transitive)
        return Compared(count, pairs, requests)


def check_pins(cfg: config.ReleaseConfig, count: int, transitive: bool = False) -> None:
    """Every SNAPSHOT pinned to its second (newest) build: a fast wrong lock measures nothing.

    Transitively: every artifact of the graph and the parent, the range at 1.5.
    """
    written = lockfile.read(cfg.lockfile)
    pins = written.pins if written else ()
    if transitive:
        snapshots = [p for p in pins if p.name.split(":")[1].startswith(("app-", "snap-"))]
        ranges = [p for p in pins if p.name.split(":")[1].startswith("range-")]
        ok = len(pins) == count // 4 * 4 + 1 and all(p.version == "1.5" for p in ranges)
    else:
        snapshots, ok = list(pins), len(pins) == count
    if not ok or not all(p.version.endswith("-2") and "SNAPSHOT" not in p.version for p in snapshots):
        raise BenchError(f"the lock pins {len(pins)} of {count} artifacts, or not their newest builds")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added to every answer")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sidecars-only", action="store_true", help="no X-Checksum-* headers, only .sha1-style files")
    parser.add_argument("--transitive", action="store_true", help="a dependency graph: a quarter direct, the rest only in POMs")
    args = parser.parse_args()

    kind = "sidecar files only" if args.sidecars_only else "X-Checksum headers"
    what = "artifacts in a transitive graph" if args.transitive else "SNAPSHOTs"
    print(f"{args.artifacts} {what}, {args.delay * 1000:.0f} ms added to every request, checksums as {kind}")
    with Repository(args.artifacts, args.delay, not args.sidecars_only, args.transitive) as repo:
        found = compare(repo, args.artifacts, runs=args.runs)
    print(f"  releaser lock:       {show(found.pairs.a.wall)} s; {found.requests} requests per lock")
    print(f"  sequential baseline: {show(found.pairs.b.wall)} s")
    print(f"  speed-up: {found.pairs.ratio.median:.1f}x ({found.pairs.ratio.low:.1f}-{found.pairs.ratio.high:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
