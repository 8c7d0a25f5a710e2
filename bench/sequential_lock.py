"""The sequential baseline of the Maven benchmark: `releaser lock`, one request at a time.

The same code path as `releaser lock -C DIR` (config, sources, lockfile written
atomically), with the shared HTTP layer limited to one worker, so every
coordinate, and every file, pom and checksum of it, is fetched after the other,
as a resolver without concurrency would.

    python bench/sequential_lock.py DIR
    python bench/sequential_lock.py DIR --workers 32   # what-if: another pool size
    python bench/sequential_lock.py DIR --workers 16 --no-trust-env   # what-if: no per-request environment look-up

The options measure what a change to releaser/core/http.py would give (bench/findings.md):
`--no-trust-env` stops requests from reading ~/.netrc on every request (releaser reads
the proxy variables once per origin already); the loopback repository needs neither, so
it is the upper bound of what reading ~/.netrc once per origin too would save.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from releaser.core import config
from releaser.ecosystems import load_config
from releaser.lock import locking
from releaser.plumbing.http import Http


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-trust-env", action="store_true")
    args = parser.parse_args(argv)
    cfg = load_config(args.root / config.CONFIG_NAME)
    http = Http(workers=args.workers)
    if args.no_trust_env:
        http.session.trust_env = False
    result = locking.lock(cfg, http=http)
    print(f"wrote {cfg.lockfile} ({len(result.lock.pins)} pins)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
