"""The README's demo command keeps working: it is run here as a newcomer would see it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "demo" / "run.py"


def test_the_demo_locks_drifts_upgrades_and_installs(tmp_path):
    done = subprocess.run(
        [sys.executable, str(DEMO), "--keep", str(tmp_path / "cosmo")],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "python sqlpath: (new) -> 0.4" in done.stdout  # as of 2024-04-15, before 0.5
    assert "unchanged: release.lock" in done.stdout
    assert "python sqlpath: 0.4 -> 0.6" in done.stdout
    assert "installed, every file hash-verified: sqlpath, tzkit" in done.stdout
    assert (tmp_path / "cosmo" / "pylock.toml").is_file()
