"""Rolling deploys (docs/rehearsal.md, "Rolling deploys"), compat: a change the previous RC's gates run on
passes, and a failure `allow` names is accepted and shown. The base project and the scenarios:
tests/rolling.py (the rolling tests are three files, test_rolling_*.py, so the test workers share them out)."""

from __future__ import annotations

import json

from helpers import run_releaser
from migration_projects import run
from releaser.record import records
from rolling import ROWS, rc2


def test_an_expand_only_change_passes_and_the_record_shows_the_previous_gate_ran(rolling_bases, tmp_path):
    base = rolling_bases("postgresql")
    root = rc2(base, tmp_path, "add-price", scale="2")
    done = run_releaser(root, "cut", env=base.env)
    assert done.returncode == 0, done.stdout + done.stderr
    rehearsal = records.read(root / "releases", "0.9.0rc2").manifest["rehearsal"]
    steps = [s["name"] for s in rehearsal["steps"]]
    # [migrations] scale: the seed's rows twice over before the snapshot, and the revert checked on them.
    assert steps[:4] == ["previous", "seed", "scale", "snapshot"] and rehearsal["scale"]["factor"] == 2
    assert "shop_item" in rehearsal["scale"]["tables"] and rehearsal["tables"]["shop_item"]["rows"] == 2 * ROWS["postgresql"]
    assert steps.index("gates") < steps.index("compat") < steps.index("revert")
    compat = next(s for s in rehearsal["steps"] if s["name"] == "compat")
    assert compat["seconds"] > 0 and compat["did"].startswith("0.9.0rc1's gates on this RC's schema: python manage.py shell")
    assert rehearsal["compat"] == {
        "previous": "0.9.0rc1",
        "gates": [{"gate": compat["did"].partition(": ")[2], "verdict": "ok"}],
    }
    page = (root / "releases" / "0.9.0rc2" / "MANIFEST.md").read_text()
    assert "| compat |" in page


def test_allow_naming_the_migration_accepts_a_compat_failure_and_shows_it(rolling_bases, tmp_path):
    base = rolling_bases("postgresql")  # its SQL names only what a migration changes (SQLite's rebuilds name every column)
    root = rc2(base, tmp_path, "add-price", allow='["shop.0003_add_price"]')
    (root / "shop" / "migrations" / "0004_rename_note.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0003_add_price')]\n"
        "    operations = [migrations.RenameField('item', 'note', 'remark')]\n"
    )
    models = root / "shop" / "models.py"
    models.write_text(models.read_text().replace("    note = ", "    remark = "))
    path = root / "release.toml"
    path.write_text(path.read_text().replace('allow = ["shop.0003_add_price"]', 'allow = ["shop.0004_rename_note"]'))
    run(root, "git", "add", "--all")
    run(root, "git", "commit", "-q", "-m", "rename note")
    done = run_releaser(root, "rehearse", "--json", env=base.env)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout)
    [gate] = figures["compat"]["gates"]
    assert gate["verdict"] == "accepted" and gate["migrations"] == ["shop.0004_rename_note"]
    assert "column shop_item.note does not exist" in gate["error"]
    assert any("accepted, allow names shop.0004_rename_note" in note for note in figures["notes"])
