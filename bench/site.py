"""`releaser site` on a long line of RCs: how long the pages of N RCs × M pins take to render.

    .venv/bin/python bench/site.py                       # 10 RCs × 50 pins, 3 runs (seconds)
    .venv/bin/python bench/site.py --rcs 100 --pins 300  # the goal's size: ≤ 5 s

Records are generated, not cut (a hundred real cuts would take an hour and measure the
cut): each RC's record is what `releaser cut` writes for a project with M Python pins of
which a few change from one RC to the next (two files each), a Django app gaining one
migration per RC, and a rehearsal of seven timed steps. Written through releaser's own
record writer, so `releaser site` reads them as it reads real ones. The time is the
wall-clock of the `releaser site` command, start to exit, the median of the runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from releaser.core import lockfile
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.record import records

GOAL = 5.0  # seconds, at 100 RCs × 300 pins
STEPS = ("snapshot", "backup", "upgrade", "gates", "revert", "verify", "upgrade-again")
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def generate(root: Path, rcs: int, pins: int, seed: int = 7) -> None:
    """A project at `root` whose releases/ holds `rcs` records of `pins` pins each."""
    rng = random.Random(seed)
    (root / "release.toml").write_text('[release]\nname = "bench"\nversion = "1.0.0"\n', encoding="utf-8")
    versions = {f"pkg{i:04d}": 1 for i in range(pins)}
    migrations: list[dict[str, object]] = []
    for n in range(1, rcs + 1):
        rc = f"1.0.0rc{n}"
        cut_at = T0 + timedelta(days=7 * n)
        for name in rng.sample(sorted(versions), k=min(len(versions), 3 + n % 5)):
            versions[name] += 1
        pinned = tuple(_pin(name, v, cut_at - timedelta(days=v + (_h(name) % 30))) for name, v in sorted(versions.items()))
        name = f"{n:04d}_change_{n}"
        parents = [f"shop.{migrations[-1]['name']}"] if migrations else []
        migrations.append({"app": "shop", "name": name, "file": f"shop/migrations/{name}.py", "parents": parents,
                           "digest": f"sha256:{n:064x}", "reversible": True, "replaces": []})
        lock = Lock(cut_at, "0.1.0", "pip-tools", pins=pinned)
        data = lockfile.dumps(lock).encode("utf-8")
        steps = [{"name": s, "seconds": round(rng.uniform(0.2, 3.0) * (1 + n / rcs), 3), "did": s, "verdict": "ok"} for s in STEPS]
        manifest = {
            "schema": records.SCHEMA, "rc": rc, "name": "bench", "version": "1.0.0", "commit": f"{n:040x}",
            "tag": f"v{rc}", "cut_at": cut_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "lock_digest": records.lock_digest(data),
            "pins": [{"kind": p.kind, "name": p.name, "version": p.version} for p in pinned],
            "migrations": {"framework": "django", "heads": {"shop": [name]}, "migrations": list(migrations), "new": [f"shop.{name}"]},
            "rehearsal": {"ran": True, "verdict": "passed", "max_slowdown": 2.0, "steps": steps},
        }
        records.write(root / "releases", rc, {
            "manifest.json": json.dumps(manifest, sort_keys=True, indent=2).encode("utf-8"),
            "release.lock": data, "MANIFEST.md": f"# {rc}\n".encode(), "revert.sh": b"#!/bin/sh\n",
        })


def _h(*parts: object) -> int:
    """A stable number for `parts` (hash() changes with each interpreter start)."""
    return int(hashlib.sha256(repr(parts).encode()).hexdigest(), 16)


def _pin(name: str, version: int, when: datetime) -> Pin:
    files = tuple(
        Artifact(f"{name}-{version}.0-{tag}.whl", f"https://pypi.example/{name}-{version}.0-{tag}.whl", f"{_h(name, version, tag):064x}", 1000 + version, date=when)
        for tag in ("py3-none-any", "cp311-cp311-manylinux_2_17_x86_64")
    )
    return Pin("python", name, f"{version}.0", "https://pypi.example/simple", None, when, files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rcs", type=int, default=10)
    parser.add_argument("--pins", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="releaser-bench-site-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        started = time.perf_counter()
        generate(root, args.rcs, args.pins)
        print(f"generated {args.rcs} records × {args.pins} pins in {time.perf_counter() - started:.1f} s")
        walls = []
        for _ in range(args.runs):
            out = Path(tmp) / f"site{len(walls)}"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "releaser", "-C", str(root), "site", "--out", str(out)], check=True, capture_output=True)
            walls.append(time.perf_counter() - started)
        median = statistics.median(walls)
        goal = " (goal at 100 × 300: ≤ 5 s)" if (args.rcs, args.pins) != (100, 300) else f" (goal ≤ {GOAL:g} s: {'met' if median <= GOAL else 'missed'})"
        print(f"releaser site, {args.rcs} RCs × {args.pins} pins: median {median:.2f} s of {args.runs} runs"
              f" (min {min(walls):.2f}, max {max(walls):.2f}){goal}")


if __name__ == "__main__":
    main()
