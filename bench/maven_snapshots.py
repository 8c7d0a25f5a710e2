"""Benchmark: the Maven part of `releaser lock` for 200 SNAPSHOTs behind a slow repository.

A loopback Maven repository (releaser.loopback.maven, in its own process, as a
real repository is) serves 200 SNAPSHOT artifacts, two builds each, and adds
--delay seconds to every answer. Each run locks a project that has only [[maven]]
through the real path (releaser.locking.lock) from scratch and times it. The
baseline is the same lock with a one-worker HTTP pool (`Http(workers=1)`), which
makes every request sequential. Prints the median of --runs runs of each.

By default the repository sends its checksums as `X-Checksum-*` headers, as
Maven Central and Artifactory do, so each SNAPSHOT costs three requests
(version metadata, file, pom). `--sidecars-only` serves them only as `.sha1`-style
files, as a plain web server would: six more requests per SNAPSHOT.

    python bench/maven_snapshots.py [--artifacts 200] [--delay 0.05] [--runs 3] [--baseline-runs 3] [--sidecars-only]
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from releaser import config, locking
from releaser.http import WORKERS, Http
from releaser.loopback.maven import MavenRepository

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def serve(conn: object, artifacts: int, delay: float, headers: bool) -> None:
    """The repository's process: deploy, report the URL and the request count, stop when told."""
    with MavenRepository(delay=delay, checksum_headers=headers) as repo:
        for i in range(artifacts):
            for build in (1, 2):  # two builds each: the metadata must be read, not guessed
                repo.deploy_snapshot(f"org.bench.g{i % 10}", f"artifact-{i}", f"1.{i}-SNAPSHOT", T0 + timedelta(hours=i, minutes=build), build)
        conn.send(repo.url)  # type: ignore[attr-defined]
        while conn.recv() == "count":  # type: ignore[attr-defined]
            conn.send(len(repo.requests_seen))  # type: ignore[attr-defined]


def project(root: Path, repository: str, count: int) -> config.ReleaseConfig:
    deps = ",\n    ".join(f'"org.bench.g{i % 10}:artifact-{i}:1.{i}-SNAPSHOT"' for i in range(count))
    (root / "release.toml").write_text(
        f'[release]\nname = "bench"\nversion = "1.0.0"\n\n[[maven]]\nrepository = "{repository}"\n'
        f"dependencies = [\n    {deps},\n]\n",
        encoding="utf-8",
    )
    return config.load(root / "release.toml")


def timed(cfg: config.ReleaseConfig, workers: int | None) -> float:
    cfg.lockfile.unlink(missing_ok=True)  # a first lock every time: nothing kept from before
    http = Http() if workers is None else Http(workers=workers)
    started = time.perf_counter()
    result = locking.lock(cfg, http=http)
    elapsed = time.perf_counter() - started
    assert len(result.lock.pins) == len(cfg.maven[0].dependencies), "every SNAPSHOT pinned"
    assert all(p.version.endswith("-2") and "SNAPSHOT" not in p.version for p in result.lock.pins)
    return elapsed


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.2f} s of {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--artifacts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds added to every answer")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-runs", type=int, default=3)
    parser.add_argument("--sidecars-only", action="store_true", help="no X-Checksum-* headers, only .sha1-style files")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=serve, args=(theirs, args.artifacts, args.delay, not args.sidecars_only), daemon=True)
    server.start()
    try:
        url = ours.recv()
        with tempfile.TemporaryDirectory() as tmp:
            cfg = project(Path(tmp), url, args.artifacts)
            kind = "sidecar files only" if args.sidecars_only else "X-Checksum headers"
            print(f"{args.artifacts} SNAPSHOTs, {args.delay * 1000:.0f} ms added to every request, checksums as {kind}")
            timed(cfg, None)  # warm-up: imports, first connections
            ours.send("count")
            before = ours.recv()
            concurrent = [timed(cfg, None) for _ in range(args.runs)]
            ours.send("count")
            per_lock = (ours.recv() - before) // max(1, args.runs)
            print(f"  releaser lock, Http pool of {WORKERS}:      {summary(concurrent)}; {per_lock} requests per lock")
            if args.baseline_runs:
                sequential = [timed(cfg, 1) for _ in range(args.baseline_runs)]
                print(f"  sequential baseline, Http(workers=1): {summary(sequential)}")
                print(f"  speed-up: {statistics.median(sequential) / statistics.median(concurrent):.1f}x")
    finally:
        ours.send("stop")
        server.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
