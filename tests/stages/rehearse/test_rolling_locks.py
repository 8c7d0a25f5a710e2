"""Rolling deploys (docs/rehearsal.md, "Rolling deploys"), locks: what each of this RC's migrations locks
on PostgreSQL (lock-budget) and the lock lint. The base project and the scenarios: tests/rolling.py
(the rolling tests are three files, test_rolling_*.py, so the test workers share them out)."""

from __future__ import annotations

import re

from helpers import run_releaser
from releaser.record import records
from rolling import rc2, refused


def test_a_column_type_change_is_refused_under_a_tight_lock_budget_naming_the_lock(rolling_bases, tmp_path):
    base = rolling_bases("postgresql")
    root = rc2(base, tmp_path, "widen-qty", **{"lock-budget": "0.001"})
    _, error = refused(root, base)
    found = re.search(
        r"rehearsal step 'upgrade': migration shop\.0003_widen_qty held ACCESS EXCLUSIVE on shop_item for (\d+\.\d+) s, "
        r"rewriting shop_item, more than \[migrations\] lock-budget 0\.001 s", error[0],
    )
    assert found and float(found.group(1)) > 0.001, error[0]


def test_a_column_type_change_passes_under_a_loose_lock_budget_with_the_lock_recorded(rolling_bases, tmp_path):
    base = rolling_bases("postgresql")
    root = rc2(base, tmp_path, "widen-qty", **{"lock-budget": "60"})
    done = run_releaser(root, "cut", env=base.env)
    assert done.returncode == 0, done.stdout + done.stderr
    rec = records.read(root / "releases", "0.9.0rc2")
    locks = rec.manifest["rehearsal"]["locks"]
    assert locks["traced"] and locks["how"] == "one migration at a time" and locks["budget"] == 60
    [widen] = locks["migrations"]
    assert widen["migration"] == "shop.0003_widen_qty" and widen["rewrites"] == ["shop_item"]
    held = {(lock["table"], lock["mode"]): lock for lock in widen["locks"]}
    assert held["shop_item", "ACCESS EXCLUSIVE"]["blocking"] and held["shop_item", "ACCESS EXCLUSIVE"]["seconds"] > 0
    # The lock lint (squawk, from the SQL sqlmigrate gives) warned of it before the upgrade ran.
    lint = rec.manifest["rehearsal"]["lint"]
    assert lint["engine"].startswith("squawk ")
    assert {(f["migration"], f["rule"], f["status"]) for f in lint["findings"]} == {("shop.0003_widen_qty", "changing-column-type", "warning")}
    page = (rec.path / "MANIFEST.md").read_text()
    assert "- warning: shop.0003_widen_qty: a column type change rewrites the table under ACCESS EXCLUSIVE" in page
    assert "Locks the upgrade took on PostgreSQL, one migration at a time, lock-budget 60.0 s" in page
    assert re.search(r"\| shop\.0003_widen_qty \| \d+\.\d\d \| .*ACCESS EXCLUSIVE on shop_item \d+\.\d\d s.* \| shop_item \|", page), page


def test_lock_lint_set_to_refuse_refuses_before_the_upgrade_naming_the_migration_and_rule(rolling_bases, tmp_path):
    base = rolling_bases("postgresql")
    root = rc2(base, tmp_path, "drop-note", **{"lock-lint": '"refuse"'})
    done, error = refused(root, base)
    assert error[0].startswith(
        "releaser: lock lint: migration shop.0003_drop_note: dropping a column breaks the previous RC's code still serving (ban-drop-column: "
    ), error
    assert "upgrade:" not in done.stdout  # refused before the upgrade ran
