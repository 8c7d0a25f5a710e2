"""A project with history adopts releaser mid-life (docs/rehearsal.md, "Adopting releaser").

One real Django project with years behind it, built once per module: 0001_initial, a
2019-style data migration without a reverse (0002_backfill), a hand-pinned
requirements.txt, released as the git tag v1.0 before releaser came. Then release.toml
is added and the first RC's migration (0003). Each test copies it and cuts or rehearses
with the real command line, on SQLite.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import django
import pytest

from helpers import run_releaser
from migration_projects import DjangoProject, django_project, run
from releaser.record import records

SEED = "from hc.models import Check; Check.objects.bulk_create([Check(name=f'check {i}') for i in range(7)])"
BACKFILL = """
from django.db import migrations


def backfill(apps, schema_editor):
    Check = apps.get_model("hc", "Check")
    Check.objects.filter(name="").update(name="unnamed")


class Migration(migrations.Migration):
    dependencies = [("hc", "0001_initial")]
    operations = [migrations.RunPython(backfill)]  # 2019: no reverse_code
"""
CLEANUP = """
from django.db import migrations


def cleanup(apps, schema_editor):
    apps.get_model("hc", "Check").objects.filter(name="check 0").delete()


class Migration(migrations.Migration):
    dependencies = [("hc", "0003_kind")]
    operations = [migrations.RunPython(cleanup)]  # deliberately one-way
"""
# Settings as most long-lived projects have them: DB_NAME or a file in the tree, never DATABASE_URL.
OWN_SETTINGS = """
import os
SECRET_KEY = "not a secret: a test project"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "hc"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ.get("DB_NAME", os.path.join(os.path.dirname(__file__), "hc.sqlite"))}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
"""


def _toml(index_url: str, baseline: bool) -> str:
    seed = json.dumps([["python", "manage.py", "shell", "-c", SEED]])
    return textwrap.dedent(f"""
        [release]
        name = "hc"
        version = "3.13.0"

        [python]
        requirements = ["requirements.txt"]
        index-url = "{index_url}"

        [migrations]
        framework = "django"
        paths = ["hc/migrations"]
        database = "sqlite"
        seed = {seed}
        max-slowdown = 50.0
        """).lstrip() + ('baseline = "v1.0"\n' if baseline else "")


@pytest.fixture(scope="module")
def history(framework_index, tmp_path_factory) -> Path:
    """The project at its last commit before the first RC: history, v1.0, release.toml, 0003."""
    root = tmp_path_factory.mktemp("history") / "hc"
    project = django_project(root, apps=("hc",), git=False)
    shutil.rmtree(root / "hc" / "migrations")
    project.models = {}
    project.add_field("hc", "Check", "name", 'models.CharField(max_length=100, default="")')
    project.write("hc/migrations/__init__.py", "")
    project.makemigrations("hc", "initial")
    project.write("hc/migrations/0002_backfill.py", BACKFILL)
    project.write("requirements.txt", f"# what production runs\ndjango=={django.__version__}\n")
    project.init_git()
    project.git("tag", "v1.0")
    project.write("release.toml", _toml(framework_index.url, baseline=True))
    locked = run_releaser(root, "lock")
    assert locked.returncode == 0, locked.stdout + locked.stderr
    project.add_field("hc", "Check", "kind", 'models.CharField(max_length=20, default="simple")')
    project.makemigrations("hc", "kind")
    project.commit("adopt releaser; 0003_kind")
    return root


def _copy(history: Path, tmp_path: Path) -> DjangoProject:
    root = tmp_path / "hc"
    shutil.copytree(history, root, symlinks=True)
    fields = {"name": 'models.CharField(max_length=100, default="")', "kind": 'models.CharField(max_length=20, default="simple")'}
    return DjangoProject(root, models={"hc": {"Check": fields}})


def _cut(root: Path) -> dict:
    done = run_releaser(root, "cut")
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_first_rc_is_rehearsed_from_the_baseline_and_the_next_from_it(history, tmp_path):
    project = _copy(history, tmp_path)
    root = project.root
    done = _cut(root)
    assert "from the baseline v1.0" in done.stdout and "its requirements locked as of its commit" in done.stdout
    rehearsal = records.read(root / "releases", "3.13.0rc1").manifest["rehearsal"]
    assert rehearsal["from"]["kind"] == "baseline" and rehearsal["from"]["name"] == "v1.0" and rehearsal["reverted"]
    assert [s["name"] for s in rehearsal["steps"]] == [
        "previous", "seed", "snapshot", "backup", "lint", "upgrade", "revert", "verify", "upgrade-again",
    ]
    assert rehearsal["tables"]["hc_check"]["rows"] == 7
    # The way back goes to v1.0's heads, past nothing irreversible: 0002_backfill is v1.0's own.
    assert [(s["app"], s["target"]) for s in rehearsal["revert"]["steps"]] == [("hc", "0002_backfill")]
    script = (root / "releases" / "3.13.0rc1" / "revert.sh").read_text()
    assert "manage.py migrate --noinput hc 0002_backfill" in script and "\nto=v1.0\n" in script  # the script reverts to the baseline
    plan = run_releaser(root, "revert-plan", "3.13.0rc1")
    assert "from 3.13.0rc1 to v1.0" in plan.stdout and "hc -> 0002_backfill" in plan.stdout, plan.stdout + plan.stderr

    # The second RC is rehearsed from the first, as any RC from its previous one.
    project.add_field("hc", "Check", "grace", "models.IntegerField(default=3600)")
    project.makemigrations("hc", "grace")
    project.commit("0004_grace")
    _cut(root)
    rehearsal = records.read(root / "releases", "3.13.0rc2").manifest["rehearsal"]
    assert rehearsal["from"]["kind"] == "rc" and rehearsal["previous"] == "3.13.0rc1"
    shown = run_releaser(root, "show", "3.13.0rc2").stdout
    dates = {re.search(r" \d{4}-\d\d-\d\d", line).start() for line in shown.splitlines() if re.match(r"    \S+ +\S+ +\d{4}-", line)}
    assert len(dates) == 1, shown  # `show`'s pin columns line up
    plan = run_releaser(root, "revert-plan", "3.13.0rc2")
    assert "hc -> 0003_kind (unapplies 0004_grace): python manage.py migrate --noinput hc 0003_kind" in plan.stdout, plan.stdout
    assert [(s["app"], s["target"]) for s in rehearsal["revert"]["steps"]] == [("hc", "0003_kind")]


def test_without_a_baseline_the_first_rc_is_cut_saying_no_revert_was_rehearsed(history, tmp_path):
    project = _copy(history, tmp_path)
    root = project.root
    toml = (root / "release.toml").read_text().replace('baseline = "v1.0"\n', "")
    (root / "release.toml").write_text(toml)
    project.commit("no baseline")
    done = _cut(root)  # 0002_backfill has no reverse: reverting to nothing would raise IrreversibleError
    assert "IrreversibleError" not in done.stdout + done.stderr
    assert "no revert was rehearsed: 3.13.0rc1 is the first RC of its line and [migrations] baseline is not set" in done.stdout
    rec = records.read(root / "releases", "3.13.0rc1")
    rehearsal = rec.manifest["rehearsal"]
    assert not rehearsal["reverted"] and rehearsal["from"] is None
    assert [s["name"] for s in rehearsal["steps"]] == ["snapshot", "backup", "upgrade"]
    assert any(n.startswith("no revert was rehearsed") for n in rehearsal["notes"])
    assert "no revert was rehearsed" in (rec.path / "MANIFEST.md").read_text()


def test_a_rehearsal_whose_settings_ignore_database_url_is_refused_and_touches_no_other_database(history, tmp_path):
    project = _copy(history, tmp_path)
    root = project.root
    # From v1.0 on, the settings never read DATABASE_URL: the developer's hc.sqlite, or DB_NAME.
    project.checkout("v1.0")
    project.branch("own-settings")
    project.write("site_settings.py", OWN_SETTINGS)
    project.write(".gitignore", "*.sqlite3\n*.sqlite\n__pycache__/\n/dist/\n")
    project.commit("settings of their own")
    project.git("tag", "-f", "v1.0")
    project.checkout("main")
    project.write("site_settings.py", OWN_SETTINGS)
    project.write(".gitignore", "*.sqlite3\n*.sqlite\n__pycache__/\n/dist/\n")
    project.commit("settings of their own")
    project.manage("migrate", "--noinput")  # the developer's own database, with their data
    project.manage("shell", "-c", SEED)
    mine = (root / "hc.sqlite").read_bytes()
    elsewhere = tmp_path / "production.sqlite"

    done = run_releaser(root, "rehearse", env={"DB_NAME": str(elsewhere), "DATABASE_NAME": str(elsewhere)})
    assert done.returncode == 1, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()
    assert len(error) == 1, error
    assert "rehearsal step 'previous' (v1.0)" in error[0] and "has no django_migrations table" in error[0]
    assert "DATABASE_URL" in error[0] and "dj_database_url" in error[0]
    assert (root / "hc.sqlite").read_bytes() == mine  # the developer's tree is as it was
    assert not elsewhere.exists()  # DB_NAME never reached the project's commands


def test_an_allowed_irreversible_migration_is_reverted_by_restoring_the_backup(history, tmp_path):
    project = _copy(history, tmp_path)
    root = project.root
    _cut(root)
    project.write("hc/migrations/0004_cleanup.py", CLEANUP)
    toml = (root / "release.toml").read_text() + 'allow = ["hc.0004_cleanup"]\n'
    (root / "release.toml").write_text(toml)
    project.commit("0004_cleanup, one way on purpose")
    _cut(root)
    rec = records.read(root / "releases", "3.13.0rc2")
    rehearsal = rec.manifest["rehearsal"]
    assert rehearsal["revert"]["restore"]["because"] == ["hc.0004_cleanup"] and rehearsal["revert"]["steps"] == []
    revert = next(s for s in rehearsal["steps"] if s["name"] == "revert")
    assert revert["did"].startswith("restore the pre-upgrade backup")
    assert [s["name"] for s in rehearsal["steps"]][-3:] == ["revert", "verify", "upgrade-again"]
    plan = run_releaser(root, "revert-plan", "3.13.0rc2")
    assert "restore the backup taken before the upgrade to 3.13.0rc2" in plan.stdout, plan.stdout + plan.stderr

    # revert.sh: refuses without a backup, changing nothing; restores the one the operator names.
    live, before = tmp_path / "live.sqlite3", tmp_path / "before-upgrade.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{live}", "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    run(root, sys.executable, "manage.py", "migrate", "--noinput", "hc", "0003_kind", env={"DATABASE_URL": f"sqlite:///{live}"})
    run(root, sys.executable, "manage.py", "shell", "-c", SEED, env={"DATABASE_URL": f"sqlite:///{live}"})
    shutil.copyfile(live, before)
    run(root, sys.executable, "manage.py", "migrate", "--noinput", env={"DATABASE_URL": f"sqlite:///{live}"})
    upgraded = live.read_bytes()
    script = str(rec.path.relative_to(root) / "revert.sh")
    refused = subprocess.run(["sh", script], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "name the backup taken before the upgrade" in refused.stderr
    assert live.read_bytes() == upgraded
    restored = subprocess.run(["sh", script, str(before)], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    with sqlite3.connect(live) as db:
        applied = {row[0] for row in db.execute("SELECT name FROM django_migrations WHERE app = 'hc'")}
        rows = db.execute("SELECT count(*) FROM hc_check").fetchone()[0]
    assert "0004_cleanup" not in applied and "0003_kind" in applied and rows == 7


def test_a_lossy_revert_names_the_migration_and_an_allowed_one_passes_showing_the_loss(history, tmp_path):
    project = _copy(history, tmp_path)
    root = project.root
    _cut(root)
    project.add_field("hc", "Check", "grace", "models.IntegerField(default=3600)")
    project.makemigrations("hc", "grace")  # reversible, and loses nothing
    project.remove_field("hc", "Check", "name")
    project.makemigrations("hc", "drop_name")  # RemoveField: its reverse brings the column back, empty
    project.commit("grace; drop name")
    done = run_releaser(root, "rehearse")
    assert done.returncode == 1, done.stdout + done.stderr
    error = done.stderr.strip().splitlines()
    assert len(error) == 1, error
    assert "hc.0005_drop_name's reverse loses table hc_check: 7 of its 7 rows are missing or changed" in error[0]
    assert "0004_grace" not in error[0] and "[migrations] allow" in error[0]

    (root / "release.toml").write_text((root / "release.toml").read_text() + 'allow = ["hc.0005_drop_name"]\n')
    project.commit("dropping the names is intended")
    _cut(root)
    rehearsal = records.read(root / "releases", "3.13.0rc2").manifest["rehearsal"]
    assert rehearsal["accepted_loss"] == [
        {"migration": "hc.0005_drop_name", "tables": ["table hc_check: 7 of its 7 rows are missing or changed (7 rows now)"]}
    ]
    assert any(n.startswith("accepted loss ([migrations] allow): hc.0005_drop_name") for n in rehearsal["notes"])


def test_a_release_branch_finds_the_previous_rc_through_its_tag(tmp_path):
    """rc1 was cut (and its record committed) on main; the release branch forked before that commit
    has no releases/ folder, yet its previous RC is rc1: read from the tag's commit."""
    project = django_project(tmp_path / "shop")
    project.release_toml('framework = "django"\npaths = ["shop/migrations"]\n')
    assert run_releaser(project.root, "lock").returncode == 0
    forked = project.commit("adopt releaser")
    _cut(project.root)
    project.branch("release-1.0", forked)
    assert not (project.root / "releases").exists()
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "price")
    project.commit("price, on the release branch")
    done = run_releaser(project.root, "migrations", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["previous"] == "1.0.0rc1" and report["new"] == ["shop.0002_price"]


def test_on_postgresql_a_forward_only_rc_is_proved_by_pg_restore_and_settings_are_proved(history, tmp_path, postgres):
    """The same forward-only RC on the private PostgreSQL cluster: the backup restored by pg_restore,
    every table checked, the migration table proved; no password anywhere."""
    import pgcluster

    project = _copy(history, tmp_path)
    root = project.root
    toml = (root / "release.toml").read_text().replace('baseline = "v1.0"\n', "")
    toml = toml.replace('database = "sqlite"', f'database = "{postgres.url(password="${PGPW_FOR_TEST}")}"')
    (root / "release.toml").write_text(toml)
    (root / "requirements.txt").write_text(f"django=={django.__version__}\npsycopg[binary]\n")
    assert run_releaser(root, "lock").returncode == 0
    project.commit("on PostgreSQL")
    env = {"PGPW_FOR_TEST": pgcluster.PASSWORD, "PGHOST": "192.0.2.1", "DB_HOST": "192.0.2.1"}  # the last two: elsewhere
    first = run_releaser(root, "cut", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    project.write("hc/migrations/0004_cleanup.py", CLEANUP)
    (root / "release.toml").write_text((root / "release.toml").read_text() + 'allow = ["hc.0004_cleanup"]\n')
    project.commit("0004_cleanup, one way on purpose")
    done = run_releaser(root, "cut", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    rec = records.read(root / "releases", "3.13.0rc2")
    rehearsal = rec.manifest["rehearsal"]
    assert rehearsal["engine"] == "postgresql" and rehearsal["revert"]["restore"]["because"] == ["hc.0004_cleanup"]
    assert [s["name"] for s in rehearsal["steps"]][-3:] == ["revert", "verify", "upgrade-again"]
    for text in (first.stdout, first.stderr, done.stdout, done.stderr, (rec.path / "manifest.json").read_text()):
        assert pgcluster.PASSWORD not in text
