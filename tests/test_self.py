"""releaser releases itself with itself: its own release.lock stays fresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_releasers_own_lock_is_fresh_and_nothing_floats():
    # Offline: a dependency added to pyproject.toml without `releaser lock` fails here.
    done = subprocess.run(
        [sys.executable, "-m", "releaser", "check", "-C", str(ROOT)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "release.lock is fresh" in done.stdout
