"""The README's demo command keeps working: it is run here as a newcomer would see it."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demo" / "run.py"


def test_the_demo_locks_drifts_upgrades_installs_and_cuts(tmp_path):
    done = subprocess.run(
        [sys.executable, str(DEMO), "--keep", str(tmp_path / "cosmo")],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "python sqlpath: (new) -> 0.4" in done.stdout  # as of 2024-04-15, before 0.5
    assert "maven net.fortuna:ical4j: (new) -> 1.0-20240328.230503-3" in done.stdout  # the SNAPSHOT, pinned
    assert "maven net.fortuna:ical4j-zoneinfo: (new) -> 1.0-20240328.230003-3" in done.stdout  # the SNAPSHOT under it
    assert 'requested = "1.0-SNAPSHOT via net.fortuna:ical4j"' in done.stdout
    assert "<version>1.0-20240328.230003-3</version>" in done.stdout  # export --format maven
    assert "release.lock is fresh: 4 pins" in done.stdout  # releaser check
    assert "unchanged: release.lock" in done.stdout
    assert "python sqlpath: 0.4 -> 0.6" in done.stdout
    assert "installed, every file hash-verified: sqlpath, tzkit" in done.stdout
    assert (tmp_path / "cosmo" / "pylock.toml").is_file()
    assert "newer: python tzkit 1.1: 2.1 is on" in done.stdout  # check --online reports the drift
    assert "the reproduction holds exactly 0.9.0rc1's Python set: sqlpath 0.6, tzkit 1.1" in done.stdout
    assert "1.0-SNAPSHOT/ical4j-1.0-20240328.230503-3.jar" in done.stdout  # rc1's build, not the newest
    assert "python  tzkit                        1.1 (2024-03-02) -> 2.1 (" in done.stdout  # releaser diff
    assert "maven   net.fortuna:ical4j           1.0-20240328.230503-3 (2024-03-28) -> 1.0-" in done.stdout
    assert "newer: maven net.fortuna:ical4j-zoneinfo 1.0-20240328.230003-3: 1.0-SNAPSHOT is now" in done.stdout
    # The migration gate: two heads after a merge refused, the merge revision fixes it, rc2 records them.
    assert "refused: multiple-heads b2+c3: script directory db has 2 heads" in done.stdout
    assert "fix: alembic merge heads" in done.stdout
    assert "migrations (alembic): 4 read, 3 new since 0.9.0rc1; heads: db d4; nothing refused" in done.stdout
    assert "migration added    db.d4 (db/versions/d4_merge_heads.py)" in done.stdout
    # Each project's line of RCs, rendered as pages.
    assert "site: 2 RCs rendered in" in done.stdout
    shop_site = tmp_path / "shop" / "dist" / "site"
    assert (shop_site / "rc" / "2.0.0rc2" / "index.html").is_file() and 'class="chart"' in (shop_site / "index.html").read_text()
    # The RC: built and gated against the pins, recorded, committed, tagged, shown.
    assert "passed: cosmo-0.9.0rc1-py3-none-any.whl: cosmo on sqlpath 0.6 and tzkit 1.1" in done.stdout
    assert "cut 0.9.0rc1: commit " in done.stdout and "tagged v0.9.0rc1" in done.stdout
    assert "(HEAD -> main, tag: v0.9.0rc1) Record 0.9.0rc1" in done.stdout
    assert "# cosmo 0.9.0rc1" in done.stdout and "| sqlpath | 0.6 |" in done.stdout
    record = tmp_path / "cosmo" / "releases" / "0.9.0rc1"
    at_tag = subprocess.run(
        ["git", "show", "v0.9.0rc1:release.lock"], cwd=tmp_path / "cosmo", capture_output=True, check=True
    ).stdout
    assert (record / "release.lock").read_bytes() == at_tag  # the lock the RC was built from
    assert (tmp_path / "cosmo" / "dist" / "0.9.0rc1" / "cosmo-0.9.0rc1-py3-none-any.whl").is_file()
    # The service with a database: rc2's upgrade rehearsed from rc1 on seeded data, its revert plan shown.
    assert "rehearsal on sqlite (sqlite:///" in done.stdout and "from 2.0.0rc1" in done.stdout
    assert "upgrade-again: " in done.stdout and "cut 2.0.0rc2: commit " in done.stdout
    assert "revert shop from 2.0.0rc2 to 2.0.0rc1 (alembic)" in done.stdout and "alembic downgrade a1" in done.stdout
    # Pasteable, line by line: commands quoted as a shell needs, placeholders filled.
    assert "$ git commit --quiet -m 'cosmo 0.9.0, locked'\n" in done.stdout
    assert "{dist}" not in done.stdout and "- `python tools/smoke.py dist/0.9.0rc1/`" in done.stdout
    assert all(shlex.split(line[2:]) for line in done.stdout.splitlines() if line.startswith("$ "))
    # MANIFEST.md: the SNAPSHOT's full build and every file's full sha256; the SBOM in the record.
    assert "| net.fortuna:ical4j | 1.0-20240328.230503-3 |" in done.stdout
    sbom = json.loads((record / "sbom.cdx.json").read_text())
    pins = json.loads((record / "manifest.json").read_text())["pins"]
    assert len(sbom["components"]) == len(pins) and f"sbom.cdx.json: CycloneDX 1.6, {len(pins)} components" in done.stdout
