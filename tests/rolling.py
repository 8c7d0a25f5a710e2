"""Rolling deploys' scenarios (tests/stages/rehearse/test_rolling_*.py): the previous RC and this RC's change.

One real Django project per engine, cut as 0.9.0rc1 with a gate that reads every column of
`shop_item` (the previous RC's code), seeded with generate_series rows (`make_base`; the
`rolling_bases` fixture makes each once per test worker). Each scenario copies it, writes this
RC's migration with Django's own makemigrations and commits (`rc2`), then rehearses or cuts rc2
with the real command line.
"""

from __future__ import annotations

import json
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


def make_base(engine: str, index_url: str, folder: Path, database: str, env: dict[str, str]) -> Base:
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


def rc2(base: Base, tmp_path: Path, change: str, **settings: str) -> Path:
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


def refused(root: Path, base: Base) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """`releaser rehearse` refusing (exit 1) in one line; the run and that line."""
    done = run_releaser(root, "rehearse", env=base.env)
    assert done.returncode == 1, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()
    assert len(error) == 1, error
    return done, error


