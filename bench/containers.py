"""Benchmark: `releaser lock` of container images behind a slow registry, against `skopeo inspect`.

A real registry (Debian's docker-registry, loopback.registry) holds --images images of two
platforms each (linux/amd64, linux/arm64), pushed by skopeo; a proxy in front of it adds
--delay seconds to every answer, as a distant registry's would. The project's compose
file names every image. Whole processes, from scratch each time (no lock, no witness log):

- A: `releaser lock`: every tag to its index digest, each platform's manifest digest and
  `created` (index, manifest and config of each platform: 5 requests an image), in parallel;
- B: what a user runs instead to learn the same: `skopeo inspect` of each image for each
  platform (`--override-arch`), one at a time.

The goal (issue 27): 50 images x 2 platforms at 50 ms a request, lock in at most 2 s.
The default is small (--images 10, --runs 3); `--full` is the goal's size (50, 5 runs).

    .venv/bin/python bench/containers.py [--full] [--images N] [--delay 0.05] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check import clean_env, releaser_command
from bench.measure import BenchError, Pairs, Sample, paired, run
from loopback.registry import DelayProxy, OciRegistry

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
PLATFORMS = ("linux/amd64", "linux/arm64")


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


def measure(images: int, delay: float, runs: int) -> tuple[Pairs, int]:
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

            pairs = paired(lock, inspect, runs=runs, warm_up_b=False)
            pinned = (root / "release.lock").read_text(encoding="utf-8").count("[[image]]")
            if pinned != images:
                raise BenchError(f"the lock pins {pinned} images, not {images}")
    return pairs, pinned


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the goal's size: 50 images, 5 runs")
    parser.add_argument("--images", type=int, default=None, help="images to lock (default 10; 50 with --full)")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the registry adds to every answer (0.05)")
    parser.add_argument("--runs", type=int, default=None, help="counted pairs (default 3; 5 with --full)")
    args = parser.parse_args(argv)
    images = args.images or (50 if args.full else 10)
    runs = args.runs or (5 if args.full else 3)
    pairs, _ = measure(images, args.delay, runs)
    a, b = pairs.a.wall, pairs.b.wall
    print(f"{images} images x {len(PLATFORMS)} platforms, {args.delay * 1000:g} ms a request, {runs} pairs, {os.cpu_count()} cores")
    print("| command | wall median (s) | range |")
    print("|---|---:|---|")
    print(f"| releaser lock | {a.median:.3f} | {a.low:.3f}-{a.high:.3f} |")
    print(f"| skopeo inspect, one image and platform at a time | {b.median:.3f} | {b.low:.3f}-{b.high:.3f} |")
    print(f"speed-up (skopeo / releaser, per pair): {pairs.ratio.median:.2f}x "
          f"({pairs.ratio.low:.2f}-{pairs.ratio.high:.2f}); goal at 50 images: lock <= 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
