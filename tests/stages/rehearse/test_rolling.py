"""Rolling deploys (docs/rehearsal.md, "Rolling deploys"): the previous RC's gates on this RC's
schema (`compat`), and the locks each migration of this RC takes on PostgreSQL.

One real Django project per engine, cut as 0.9.0rc1 with a gate that reads every column of
`shop_item` (the previous RC's code), seeded with generate_series rows. Each scenario copies
it, writes this RC's migration with Django's own makemigrations, commits, and rehearses or
cuts rc2 with the real command line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import run_releaser
from migration_projects import django_project, run
from releaser.cut.cutting import cut
from releaser.ecosystems import load_config
from releaser.lock.locking import lock
from releaser.record import records

PASSWORD_VAR = "REHEARSAL_DB_PASSWORD"
ROWS = {"postgresql": 100_000, "sqlite": 50}  # the PostgreSQL table is above the size one-at-a-time starts at
# The previous RC's code: it reads every column of shop_item.
GATE = "from shop.models import Item; print(Item.objects.order_by('id').first())"
PG_SEED = "INSERT INTO shop_item (name, note, qty) SELECT 'item ' || i, 'note ' || i, i FROM generate_series(1, {rows}) AS i"
SQLITE_SEED = (
    "from shop.models import Item; "
    "Item.objects.bulk_create([Item(name=f'item {{i}}', note=f'note {{i}}', qty=i) for i in range({rows})])"
)


@dataclass
class Base:
    engine: str
    root: Path
    env: dict[str, str]


def _seed(engine: str) -> list[str]:
    if engine == "postgresql":  # the rehearsal gives psql its PG* environment
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", PG_SEED.format(rows=ROWS[engine])]
    return ["python", "manage.py", "shell", "-c", SQLITE_SEED.format(rows=ROWS[engine])]


def _make_base(engine: str, index_url: str, folder: Path, database: str, env: dict[str, str]) -> Base:
    root = folder / f"django-{engine}"
    project = django_project(root)
    project.add_field("shop", "Item", "note", 'models.CharField(max_length=100, default="")')
    project.add_field("shop", "Item", "qty", "models.IntegerField(default=0)")
    project.makemigrations("shop", "note_qty")
    project.write("release.toml", (
        f'[release]\nname = "shop"\nversion = "0.9.0"\n'
        f'gates = [{json.dumps(["python", "manage.py", "shell", "-c", GATE])}]\n\n'
        f'[python]\nrequirements = ["requirements.in"]\nindex-url = "{index_url}"\n\n'
        f'[migrations]\nframework = "django"\npaths = ["shop/migrations"]\ndatabase = "{database}"\n'
        f"seed = [{json.dumps(_seed(engine))}]\nmax-slowdown = 50.0\n"
    ))
    project.write("requirements.in", "django\npsycopg[binary]\n")
    lock(load_config(root / "release.toml"))
    project.commit("0.9.0rc1")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        first = cut(load_config(root / "release.toml"))
    assert first.manifest["rehearsal"]["ran"] and "compat" not in first.manifest["rehearsal"]  # nothing before rc1
    return Base(engine, root, env)


@pytest.fixture(scope="module")
def bases(framework_index, tmp_path_factory, request):
    made: dict[str, Base] = {}

    def get(engine: str) -> Base:
        if engine not in made:
            if engine == "postgresql":
                import pgcluster

                database = request.getfixturevalue("postgres").url(password="${" + PASSWORD_VAR + "}")
                env = {PASSWORD_VAR: pgcluster.PASSWORD}
            else:
                database, env = "sqlite", {}
            made[engine] = _make_base(engine, framework_index.url, tmp_path_factory.mktemp("bases"), database, env)
        return made[engine]

    return get


def _rc2(base: Base, tmp_path: Path, change: str, **settings: str) -> Path:
    """A copy of the base with this RC's `change` (a models.py edit) made into a migration, committed."""
    root = tmp_path / base.root.name
    shutil.copytree(base.root, root, symlinks=True)
    models = root / "shop" / "models.py"
    text = models.read_text()
    if change == "drop-note":
        models.write_text(text.replace('    note = models.CharField(max_length=100, default="")\n', ""))
    elif change == "add-price":  # expand only: the previous RC's code never names it
        models.write_text(text + "    price = models.IntegerField(default=0)\n")
    elif change == "widen-qty":  # integer -> bigint: PostgreSQL rewrites the table under ACCESS EXCLUSIVE
        models.write_text(text.replace("qty = models.IntegerField(default=0)", "qty = models.BigIntegerField(default=0)"))
    run(root, sys.executable, "manage.py", "makemigrations", "shop", "--name", change.replace("-", "_"))
    path = root / "release.toml"
    lines = path.read_text().splitlines()
    for key, value in settings.items():
        lines = [line for line in lines if not line.startswith(f"{key} = ")] + [f"{key} = {value}"]
    path.write_text("\n".join(lines) + "\n")
    run(root, "git", "add", "--all")
    run(root, "git", "commit", "-q", "-m", change)
    return root


def _refused(root: Path, base: Base) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`releaser rehearse` refusing (exit 1) in one line; the run and that line."""
    done = run_releaser(root, "rehearse", env=base.env)
    assert done.returncode == 1, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()
    assert len(error) == 1, error
    return done, error


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"])
def test_dropping_a_column_the_previous_rc_reads_is_refused_by_compat_naming_its_gate(bases, tmp_path, engine):
    base = bases(engine)
    root = _rc2(base, tmp_path, "drop-note")
    done, error = _refused(root, base)
    assert "rehearsal step 'compat': 0.9.0rc1's gate `python manage.py shell -c" in error[0]
    assert "fails on this RC's schema (exit 1)" in error[0]
    assert re.search(r"no such column: shop_item\.note|column shop_item\.note does not exist", error[0]), error[0]
    assert "this RC's migrations touching shop_item: shop.0003_drop_note" in error[0]
    assert "upgrade:" in done.stdout and "gates:" in done.stdout  # this RC's own steps passed first


def test_an_expand_only_change_passes_and_the_record_shows_the_previous_gate_ran(bases, tmp_path):
    base = bases("postgresql")
    root = _rc2(base, tmp_path, "add-price", scale="2")
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


def test_allow_naming_the_migration_accepts_a_compat_failure_and_shows_it(bases, tmp_path):
    base = bases("postgresql")  # its SQL names only what a migration changes (SQLite's rebuilds name every column)
    root = _rc2(base, tmp_path, "add-price", allow='["shop.0003_add_price"]')
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


def test_a_column_type_change_is_refused_under_a_tight_lock_budget_naming_the_lock(bases, tmp_path):
    base = bases("postgresql")
    root = _rc2(base, tmp_path, "widen-qty", **{"lock-budget": "0.001"})
    _, error = _refused(root, base)
    found = re.search(
        r"rehearsal step 'upgrade': migration shop\.0003_widen_qty held ACCESS EXCLUSIVE on shop_item for (\d+\.\d+) s, "
        r"rewriting shop_item, more than \[migrations\] lock-budget 0\.001 s", error[0],
    )
    assert found and float(found.group(1)) > 0.001, error[0]


def test_a_column_type_change_passes_under_a_loose_lock_budget_with_the_lock_recorded(bases, tmp_path):
    base = bases("postgresql")
    root = _rc2(base, tmp_path, "widen-qty", **{"lock-budget": "60"})
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


def test_lock_lint_set_to_refuse_refuses_before_the_upgrade_naming_the_migration_and_rule(bases, tmp_path):
    base = bases("postgresql")
    root = _rc2(base, tmp_path, "drop-note", **{"lock-lint": '"refuse"'})
    done, error = _refused(root, base)
    assert error[0].startswith(
        "releaser: lock lint: migration shop.0003_drop_note: dropping a column breaks the previous RC's code still serving (ban-drop-column: "
    ), error
    assert "upgrade:" not in done.stdout  # refused before the upgrade ran
