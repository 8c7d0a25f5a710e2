"""Benchmark: `releaser lock` of container images behind a slow registry, against `skopeo inspect`.

A real registry (Debian's docker-registry, loopback.registry) holds --images images of two
platforms each (linux/amd64, linux/arm64), pushed by skopeo; a proxy in front of it adds
--delay seconds to every answer, as a distant registry's would. The project's compose
file names every image. Whole processes, from scratch each time (no lock, no witness log):

- A: `releaser lock`: every tag to its index digest, each platform's manifest digest and
  `created` (index, manifest and config of each platform: 5 requests an image), in parallel;
- B: what a user runs instead to learn the same: `skopeo inspect` of each image for each
  platform (`--override-arch`), one at a time;
- C: the floor, no releaser at all: a bare Python client (`http.client`, keep-alive) making
  the same 5 requests an image, as many in flight as releaser keeps (`oci.IN_FLIGHT`). What
  the registry and the proxy on this machine can answer in that time, no lock can beat.

The goal (issue 27): 50 images x 2 platforms at 50 ms a request, lock in at most 2 s.
The default is small (--images 10, --runs 3); `--full` is the goal's size (50, 5 runs).

    .venv/bin/python bench/containers.py [--full] [--images N] [--delay 0.05] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import clean_env, releaser_command
from bench.measure import BenchError, Pairs, Sample, Series, Spread, interleaved, run, seconds, times
from loopback.registry import DelayProxy, OciRegistry

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLATFORMS = ("linux/amd64", "linux/arm64")
GOAL_AT = 50
GOAL_SECONDS = 2.0
REQUESTS_PER_IMAGE = 1 + 2 * len(PLATFORMS)  # the index, then each platform's manifest and config


@dataclass(frozen=True)
class Compared:
    """One size, the three commands round by round."""

    count: int  # images
    delay: float  # seconds the proxy adds to every answer
    lock: Series
    inspect: Series
    floor: Series
    load: tuple[float, float, float]  # when the rounds began

    @property
    def speedup(self) -> Spread:
        """skopeo's wall time over releaser's, round by round."""
        return Pairs(self.lock, self.inspect, self.load).ratio

    @property
    def over_floor(self) -> Spread:
        """releaser's wall time over the bare client's, round by round."""
        return Pairs(self.lock, self.floor, self.load).inverse


def project(root: Path, host: str, images: int) -> Path:
    root.mkdir(parents=True)
    services = "".join(f"  s{i}:\n    image: {host}/bench/image{i}:1.0\n" for i in range(images))
    (root / "compose.yaml").write_text(f"services:\n{services}", encoding="utf-8")
    (root / "release.toml").write_text(
        f'[release]\nname = "bench"\nversion = "1.0.0"\n\n[containers]\ncompose = ["compose.yaml"]\ninsecure = ["{host}"]\n',
        encoding="utf-8",
    )
    return root


def skopeo_script(root: Path, host: str, images: int) -> Path:
    lines = ["set -e"]
    for i in range(images):
        for platform in PLATFORMS:
            arch = platform.split("/")[1]
            lines.append(f"skopeo inspect --tls-verify=false --override-os linux --override-arch {arch} docker://{host}/bench/image{i}:1.0 >/dev/null")
    path = root / "inspect.sh"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bare(host: str, images: int, in_flight: int) -> None:
    """C: each image's index, then each platform's manifest and config, `in_flight` images at a time."""
    import http.client
    import threading
    from concurrent.futures import ThreadPoolExecutor

    accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"
    local = threading.local()

    def get(path: str) -> Any:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(host, timeout=60)
        local.connection.request("GET", path, headers={"Accept": accept})
        answer = local.connection.getresponse()
        body = answer.read()
        if answer.status != 200:
            raise BenchError(f"bare client: {path} answered HTTP {answer.status}")
        return json.loads(body)

    def image(i: int) -> None:
        base = f"/v2/bench/image{i}"
        for entry in get(f"{base}/manifests/1.0")["manifests"]:
            manifest = get(f"{base}/manifests/{entry['digest']}")
            get(f"{base}/blobs/{manifest['config']['digest']}")

    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(image, range(images)))


def compare(images: int, delay: float, runs: int) -> Compared:
    with OciRegistry() as registry, tempfile.TemporaryDirectory(prefix="releaser-bench-") as tmp:
        for i in range(images):
            registry.publish(f"bench/image{i}:1.0", created=T0 + timedelta(hours=i), platforms=PLATFORMS)
        with DelayProxy(registry.host, delay) as proxy:
            root = project(Path(tmp) / "p", proxy.host, images)
            env = clean_env(Path(tmp) / "cache")
            script = skopeo_script(Path(tmp), proxy.host, images)

            def lock() -> Sample:
                (root / "release.lock").unlink(missing_ok=True)
                shutil.rmtree(root / ".releaser", ignore_errors=True)
                return run([*releaser_command(), "lock", "-C", str(root)], cwd=root, env=env)

            def inspect() -> Sample:
                return run(["bash", str(script)], cwd=root, env=env)

            def floor() -> Sample:
                from releaser.plumbing.oci import IN_FLIGHT

                # two platforms an image: half as many images as requests in flight
                argv = [sys.executable, __file__, "--bare", proxy.host, "--images", str(images), "--in-flight", str(IN_FLIGHT // 2)]
                return run(argv, cwd=root, env=env)

            (a, b, c), load = interleaved((lock, inspect, floor), runs=runs, warm_up=(True, False, True))
            pinned = (root / "release.lock").read_text(encoding="utf-8").count("[[image]]")
            if pinned != images:
                raise BenchError(f"the lock pins {pinned} images, not {images}")
    return Compared(images, delay, a, b, c, load)


def goal_rows(c: Compared | None, verdict: Callable[[bool | None], str]) -> list[str]:
    """The goals table's row (issue 27)."""
    if c is None:
        return []
    judged = c.count == GOAL_AT
    return [
        f"| 8 | container images, {c.count} × {len(PLATFORMS)} platforms, {c.delay * 1000:g} ms a request: `releaser lock` "
        f"| ≤ {GOAL_SECONDS:g} s at {GOAL_AT} | {seconds(c.lock.wall)} s ({times(c.speedup)} faster than `skopeo inspect`; "
        f"{times(c.over_floor)} of the floor) | {verdict(c.lock.wall.median <= GOAL_SECONDS if judged else None)} (see 8) |"
    ]


def render(c: Compared | None) -> list[str]:
    """Section 8 of docs/benchmarks.md."""
    if c is None:
        return []
    return [
        "## 8. Container images: `releaser lock` vs `skopeo inspect`, and the floor",
        "",
        f"A real registry (Debian's `docker-registry`) holds N images of {len(PLATFORMS)} platforms each, pushed by "
        f"skopeo, behind a proxy that adds {c.delay * 1000:g} ms to every answer; a compose file names every image. "
        f"A: `releaser lock` from scratch ({REQUESTS_PER_IMAGE} requests an image: the index, then each platform's "
        "manifest and config, for `created`). B: `skopeo inspect` of each image for each platform, one at a time, "
        "what a user runs instead. C, the floor: a bare Python client (`http.client`, keep-alive, no releaser) "
        "making the same requests with as many in flight as releaser keeps; what the registry and the proxy on "
        "this machine answer in that time, no lock can beat. The three rotate round by round.",
        "",
        "| images | releaser lock, wall s | releaser lock, CPU s | skopeo inspect, wall s | speed-up (skopeo / releaser) "
        "| floor, wall s | releaser / floor | load (1 min) |",
        "|---:|---|---|---|---|---|---|---:|",
        f"| {c.count} | {seconds(c.lock.wall)} | {seconds(c.lock.cpu)} | {seconds(c.inspect.wall)} | {times(c.speedup)} | {seconds(c.floor.wall)} "
        f"| {times(c.over_floor)} | {c.load[0]:.2f} |",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the goal's size: 50 images, 5 runs")
    parser.add_argument("--images", type=int, default=None, help="images to lock (default 10; 50 with --full)")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the registry adds to every answer (0.05)")
    parser.add_argument("--runs", type=int, default=None, help="counted rounds (default 3; 5 with --full)")
    parser.add_argument("--bare", metavar="HOST", help=argparse.SUPPRESS)  # C itself, in its own process
    parser.add_argument("--in-flight", type=int, default=16, help=argparse.SUPPRESS)  # C's images at a time
    args = parser.parse_args(argv)
    images = args.images or (50 if args.full else 10)
    runs = args.runs or (5 if args.full else 3)
    if args.bare:
        bare(args.bare, images, args.in_flight)
        return 0
    found = compare(images, args.delay, runs)
    print(f"{images} images x {len(PLATFORMS)} platforms, {args.delay * 1000:g} ms a request, {runs} rounds, "
          f"{os.cpu_count()} cores, load {found.load[0]:.1f} / {found.load[1]:.1f} / {found.load[2]:.1f}")
    print("| command | wall median (s) | range | CPU median (s) |")
    print("|---|---:|---|---:|")
    for name, series in (("releaser lock", found.lock), ("skopeo inspect, one image and platform at a time", found.inspect),
                         ("floor: a bare client, the same requests, as many in flight", found.floor)):
        print(f"| {name} | {series.wall.median:.3f} | {series.wall.low:.3f}-{series.wall.high:.3f} | {series.cpu.median:.3f} |")
    print(f"speed-up (skopeo / releaser, per round): {times(found.speedup)}; releaser / floor: {times(found.over_floor)}; "
          f"goal at {GOAL_AT} images: lock <= {GOAL_SECONDS:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
