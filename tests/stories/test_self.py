"""releaser releases itself with itself: its own release.lock stays fresh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_releasers_own_lock_is_fresh_and_nothing_floats():
    # Offline: a dependency added to pyproject.toml without `releaser lock` fails here.
    done = subprocess.run(
        [sys.executable, "-m", "releaser", "check", "-C", str(ROOT)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "release.lock is fresh" in done.stdout


def test_the_manifest_template_is_found_in_a_checkout_where_releaser_is_not_installed(monkeypatch):
    # `releaser cut` on releaser runs its tests from the checkout: no `releaser.templates` package.
    from importlib import resources

    from releaser.record import manifest

    def not_installed(name: str):  # type: ignore[no-untyped-def]
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(resources, "files", not_installed)
    assert "manifest.rc" in manifest.default_template()
