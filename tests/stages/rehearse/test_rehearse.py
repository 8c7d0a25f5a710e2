"""The rehearsal (contract section 7, docs/rehearsal.md) on real Django and Alembic projects,
on SQLite and on a real PostgreSQL cluster the tests start (tests/pgcluster.py).

Each (framework, engine) has one base project, made once per module: locked against a
loopback index serving the real Django/Alembic (as installed here), committed, and cut as
0.9.0rc1 (the first RC of its line: the baseline, from an empty database). Each scenario
copies it, adds this RC's migration and commits it, then cuts or rehearses rc2 with the
real command line, in the pinned environment the rehearsal makes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import run_releaser, said
from loopback.pypi import PackageIndex
from migration_projects import AlembicProject, alembic_project, django_project, run
from releaser.cut.cutting import cut
from releaser.ecosystems import load_config
from releaser.lock.locking import lock
from releaser.record import records

PASSWORD_VAR = "REHEARSAL_DB_PASSWORD"
STEPS = ["previous", "seed", "snapshot", "backup", "lint", "upgrade", "gates", "compat", "revert", "verify", "upgrade-again"]
BASELINE_STEPS = ["snapshot", "backup", "upgrade", "gates"]  # the first RC, no baseline: nothing to revert to

DJANGO_SEED = "from shop.models import Item; Item.objects.bulk_create([Item(name=f'item {i}', note=f'note {i}') for i in range(5)])"
DJANGO_GATE = "from shop.models import Item; print(Item.objects.count(), 'items')"
ALEMBIC_SEED = """
import os, sqlalchemy as sa
url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
with sa.create_engine(url).begin() as db:
    db.execute(sa.text("INSERT INTO item (name) VALUES ('a'), ('b'), ('c')"))
"""
SLOW_DJANGO = """
import time
from django.db import migrations


def slow(apps, schema_editor):
    time.sleep(7)


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_note")]
    operations = [migrations.RunPython(slow, migrations.RunPython.noop)]
"""


def _database_spec(engine: str, request: pytest.FixtureRequest) -> str:
    if engine == "sqlite":
        return "sqlite"
    cluster = request.getfixturevalue("postgres")
    # The password comes from the environment at rehearsal time, as a deployment would give it.
    return cluster.url(password="${" + PASSWORD_VAR + "}")


def _with_password(request: pytest.FixtureRequest, engine: str) -> dict[str, str]:
    if engine == "sqlite":
        return {}
    import pgcluster

    return {PASSWORD_VAR: pgcluster.PASSWORD}


def _release_toml(framework: str, index_url: str, database: str) -> tuple[str, str]:
    """release.toml and requirements.in of a base project."""
    if framework == "django":
        requirements, gate = "django", ["python", "manage.py", "shell", "-c", DJANGO_GATE]
        migrations = f'framework = "django"\npaths = ["shop/migrations"]\nseed = [{json.dumps(["python", "manage.py", "shell", "-c", DJANGO_SEED])}]'
    else:
        requirements, gate = "alembic", ["alembic", "heads"]  # `current` in an older tree cannot name a newer revision: compat would refuse it
        migrations = 'framework = "alembic"\npaths = ["alembic/versions"]\nseed = [["python", "seed.py"]]'
    return (
        f'[release]\nname = "shop"\nversion = "0.9.0"\ngates = [{json.dumps(gate)}]\n\n'
        f'[python]\nrequirements = ["requirements.in"]\nindex-url = "{index_url}"\n\n'
        # Loose here (a shared CI machine's load swings timings): the slow-migration test tightens it.
        f'[migrations]\n{migrations}\ndatabase = "{database}"\nmax-slowdown = 50.0\n'
    ), f"{requirements}\npsycopg[binary]\n"


@dataclass
class Base:
    framework: str
    engine: str
    root: Path
    env: dict[str, str]  # what the rehearsal needs in the environment (the database password)


def _make_base(framework: str, engine: str, index: PackageIndex, folder: Path, request: pytest.FixtureRequest) -> Base:
    root = folder / f"{framework}-{engine}"
    if framework == "django":
        project = django_project(root)
        project.add_field("shop", "Item", "note", 'models.CharField(max_length=100, default="")')
        project.makemigrations("shop", "note")
    else:
        project = alembic_project(root)
        project.revision(
            "a1", "items",
            upgrade='op.create_table("item", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(100), nullable=False))',
            downgrade='op.drop_table("item")',
        )
        project.write("seed.py", ALEMBIC_SEED)
    toml, requirements = _release_toml(framework, index.url, _database_spec(engine, request))
    project.write("release.toml", toml)
    project.write("requirements.in", requirements)
    env = _with_password(request, engine)
    lock(load_config(root / "release.toml"))
    project.commit("0.9.0rc1")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        first = cut(load_config(root / "release.toml"))
    rehearsal = first.manifest["rehearsal"]
    # The first RC of a line: the baseline, from an empty database, nothing to compare with.
    assert rehearsal["ran"] and rehearsal["baseline"] and rehearsal["previous"] is None, rehearsal
    assert [s["name"] for s in rehearsal["steps"]] == BASELINE_STEPS
    assert rehearsal["tables"] == {} and not any("previous_seconds" in s for s in rehearsal["steps"])
    return Base(framework, engine, root, env)


@pytest.fixture(scope="module")
def bases(framework_index, tmp_path_factory, request):
    made: dict[tuple[str, str], Base] = {}

    def get(framework: str, engine: str) -> Base:
        if (framework, engine) not in made:
            folder = tmp_path_factory.mktemp("bases")
            made[framework, engine] = _make_base(framework, engine, framework_index, folder, request)
        return made[framework, engine]

    return get


def _copy(base: Base, tmp_path: Path) -> Path:
    root = tmp_path / base.root.name
    shutil.copytree(base.root, root, symlinks=True)
    return root


def _add_migration(base: Base, root: Path, kind: str) -> None:
    """This RC's migration: 'reversible', 'lossy' (drops a column with data), 'slow', 'broken' (fails halfway)."""
    if base.framework == "django":
        models = root / "shop" / "models.py"
        text = models.read_text()
        if kind == "reversible":
            models.write_text(text + "    price = models.IntegerField(default=0)\n")
            run(root, sys.executable, "manage.py", "makemigrations", "shop", "--name", "add_price")
        elif kind == "lossy":  # RemoveField: its reverse brings the column back, empty
            models.write_text(text.replace('    note = models.CharField(max_length=100, default="")\n', ""))
            run(root, sys.executable, "manage.py", "makemigrations", "shop", "--name", "drop_note")
        elif kind == "slow":
            (root / "shop" / "migrations" / "0003_slow.py").write_text(SLOW_DJANGO.lstrip())
        else:
            models.write_text(text + "    price = models.IntegerField(default=0)\n")
            run(root, sys.executable, "manage.py", "makemigrations", "shop", "--name", "add_price")
            (root / "shop" / "migrations" / "0004_broken.py").write_text(textwrap.dedent("""
                from django.db import migrations


                class Migration(migrations.Migration):
                    dependencies = [("shop", "0003_add_price")]
                    operations = [migrations.RunSQL("UPDATE no_such_table SET x = 1", "SELECT 1")]
            """).lstrip())
    else:
        bodies = {
            "reversible": ('op.add_column("item", sa.Column("price", sa.Integer, nullable=False, server_default="0"))',
                           'op.drop_column("item", "price")'),
            "lossy": ('op.drop_column("item", "name")', 'op.add_column("item", sa.Column("name", sa.String(100), nullable=True))'),
            "slow": ("import time\ntime.sleep(7)", 'op.execute("SELECT 1")'),
            "broken": ('op.execute("UPDATE no_such_table SET x = 1")', 'op.execute("SELECT 1")'),
        }
        upgrade, downgrade = bodies[kind]
        project = AlembicProject(root)
        project.revision("b2", kind, upgrade=upgrade, downgrade=downgrade)
    run(root, "git", "add", "--all")
    run(root, "git", "commit", "-q", "-m", f"{kind} migration")


def _no_password_in(*texts: str) -> None:
    import pgcluster

    for text in texts:
        assert pgcluster.PASSWORD not in text


def _files_under(root: Path) -> str:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.suffix not in (".sqlite3", ".pyc"):
            found.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(found)


CASES = [("django", "sqlite"), ("alembic", "sqlite"), ("django", "postgresql"), ("alembic", "postgresql")]


@pytest.mark.parametrize("framework,engine", CASES)
def test_a_reversible_rc_passes_and_its_revert_sh_reverts_a_copy(bases, tmp_path, framework, engine, postgres_if):
    base = bases(framework, engine)
    root = _copy(base, tmp_path)
    _add_migration(base, root, "reversible")
    if (framework, engine) == ("django", "sqlite"):
        # rc2 pins one more package: rc1's schema is built in rc1's own environment, from its recorded lock.
        with (root / "requirements.in").open("a") as f:
            f.write("sqlparse\n")
        lock(load_config(root / "release.toml"))
        run(root, "git", "commit", "-q", "-am", "pin sqlparse too")
    done = run_releaser(root, "cut", env=base.env)
    assert done.returncode == 0, done.stdout + done.stderr
    own = (framework, engine) == ("django", "sqlite")
    assert ("0.9.0rc1 had another lock: its schema is built in its own pinned environment" in done.stdout) == own
    assert ("0.9.0rc1 had the same lock" in done.stdout) != own
    rec = records.read(root / "releases", "0.9.0rc2")
    rehearsal = rec.manifest["rehearsal"]
    assert rehearsal["ran"] and rehearsal["verdict"] == "passed" and rehearsal["previous"] == "0.9.0rc1"
    assert [s["name"] for s in rehearsal["steps"]] == STEPS
    assert all(s["seconds"] >= 0 for s in rehearsal["steps"])
    # Compared with rc1's figures wherever rc1 had the step.
    assert {s["name"] for s in rehearsal["steps"] if "previous_seconds" in s} == set(BASELINE_STEPS)
    table = "shop_item" if framework == "django" else "item"
    assert rehearsal["tables"][table]["rows"] == (5 if framework == "django" else 3)
    assert rehearsal["tables"][table]["digest"].startswith("sha256:")
    script = rec.path / "revert.sh"
    assert script.stat().st_mode & stat.S_IXUSR
    if engine == "postgresql":
        _no_password_in(done.stdout, done.stderr, _files_under(root))

    # revert-plan prints the plan revert.sh runs.
    plan = run_releaser(root, "revert-plan", "0.9.0rc2", "--json")
    assert plan.returncode == 0, plan.stderr
    steps = json.loads(plan.stdout)["steps"]
    target = "0002_note" if framework == "django" else "a1"
    assert [(s["app"], s["target"]) for s in steps] == [("shop" if framework == "django" else "alembic", target)]
    text = run_releaser(root, "revert-plan", "0.9.0rc2").stdout
    assert "0.9.0rc2 to 0.9.0rc1" in text and " ".join(steps[0]["argv"]) in text
    assert run_releaser(root, "revert-plan", "0.9.0rc2", "--to", "0.9.0rc1").stdout == text
    wrong = run_releaser(root, "revert-plan", "0.9.0rc1", "--to", "0.9.0rc2")
    assert wrong.returncode == 2 and "not an RC recorded before 0.9.0rc1" in wrong.stderr
    page = (rec.path / "MANIFEST.md").read_text()
    assert "## Rehearsal" in page and "from 0.9.0rc1 was rehearsed on" in page and f"{table} (" in page

    # revert.sh on a copy of a database upgraded to rc2 (with this interpreter's Django/Alembic
    # standing in for the deployed environment) takes it back to rc1's heads.
    url, heads = _upgraded_copy(base, root, tmp_path, request_engine=engine)
    env = {**os.environ, "DATABASE_URL": url, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    done = subprocess.run(["sh", str(script.relative_to(root))], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reverted to 0.9.0rc1" in done.stdout
    assert heads() == ({"0001_initial", "0002_note"} if framework == "django" else {"a1"})
    assert list(root.glob("revert-backup-0.9.0rc2-*"))

    if (framework, engine) == ("alembic", "sqlite"):
        # `releaser rehearse` on the tree rc2 was cut from: nothing new, nothing to revert, all passes.
        for backup in root.glob("revert-backup-*"):
            backup.unlink()
        again = run_releaser(root, "rehearse", "--json")
        assert again.returncode == 0, again.stdout + again.stderr
        figures = json.loads(again.stdout)
        assert figures["previous"] == "0.9.0rc2" and figures["revert"]["steps"] == []
        assert figures["tables"]["item"]["rows"] == 3 and figures["overhead_seconds"] >= 0


@pytest.fixture
def postgres_if(request):
    """The cluster, started only for the PostgreSQL cases."""
    if "postgresql" in request.node.name:
        request.getfixturevalue("postgres")


def _upgraded_copy(base: Base, root: Path, tmp_path: Path, request_engine: str):
    """A database migrated to rc2 by the project's own tool, copied; its URL and a reader of its heads."""
    tool = [sys.executable, "manage.py", "migrate", "--noinput"] if base.framework == "django" else [sys.executable, "-m", "alembic", "upgrade", "heads"]
    if request_engine == "sqlite":
        original, copy = tmp_path / "live.sqlite3", tmp_path / "copy.sqlite3"
        run(root, *tool, env={"DATABASE_URL": f"sqlite:///{original}"})
        shutil.copyfile(original, copy)
        url = f"sqlite:///{copy}"

        def query(sql: str) -> set[str]:
            with sqlite3.connect(copy) as db:
                return {row[0] for row in db.execute(sql)}
    else:
        import psycopg

        import pgcluster

        server = _server_url(base)
        live, copy = f"live_{tmp_path.name[-12:]}".lower(), f"copy_{tmp_path.name[-12:]}".lower()
        live, copy = (re.sub(r"\W", "_", name) for name in (live, copy))
        with psycopg.connect(server + "/postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{live}"')
        run(root, *tool, env={"DATABASE_URL": f"{server}/{live}"})
        with psycopg.connect(server + "/postgres", autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{live}"')
        url = f"{server}/{copy}"
        assert pgcluster.PASSWORD in url

        def query(sql: str) -> set[str]:
            with psycopg.connect(url) as db:
                return {row[0] for row in db.execute(sql)}

    def heads() -> set[str]:
        if base.framework == "django":
            return query("SELECT name FROM django_migrations WHERE app = 'shop'")
        return query("SELECT version_num FROM alembic_version")

    return url, heads


def _server_url(base: Base) -> str:
    import pgcluster

    spec = load_config(base.root / "release.toml").migrations.database
    return spec.replace("${" + PASSWORD_VAR + "}", pgcluster.PASSWORD).rsplit("/", 1)[0]


def _refused(base: Base, tmp_path: Path, kind: str, command: str, slowdown: str | None = None) -> tuple[Path, str]:
    """Rc2 with a `kind` migration, through `releaser COMMAND`: exit 1, one line, no password, nothing recorded."""
    root = _copy(base, tmp_path)
    _add_migration(base, root, kind)
    if slowdown is not None:
        _set_in_toml(root, "max-slowdown", slowdown)
    done = run_releaser(root, command, env=base.env)
    assert done.returncode == 1, done.stdout + done.stderr
    error = said(done.stderr)
    assert len(error) == 1, error
    if base.engine == "postgresql":
        _no_password_in(done.stdout, done.stderr)
    assert not (root / "releases" / "0.9.0rc2").exists()
    assert run(root, "git", "tag", "--list").stdout.split() == ["v0.9.0rc1"]
    return root, error[0]


@pytest.mark.parametrize("framework,engine", [("django", "postgresql"), ("alembic", "sqlite")])
def test_a_revert_that_loses_data_is_refused_naming_the_table(bases, tmp_path, framework, engine, postgres_if):
    _, error = _refused(bases(framework, engine), tmp_path, "lossy", "rehearse")
    table = "shop_item" if framework == "django" else "item"
    assert "rehearsal step 'verify'" in error and "loses data" in error
    assert f"table {table}:" in error and "rows are missing or changed" in error


@pytest.mark.parametrize("framework,engine", [("django", "sqlite"), ("alembic", "postgresql")])
def test_a_slow_migration_is_refused_naming_the_step_and_both_times(bases, tmp_path, framework, engine, postgres_if):
    _, error = _refused(bases(framework, engine), tmp_path, "slow", "cut", slowdown="1.0")
    found = re.search(r"rehearsal step 'upgrade' took (\d+\.\d+) s, more than max-slowdown 1 × its (\d+\.\d+) s in 0\.9\.0rc1", error)
    assert found, error
    assert float(found.group(1)) > float(found.group(2))


@pytest.mark.parametrize("framework,engine", [("django", "sqlite"), ("alembic", "postgresql")])
def test_a_migration_that_fails_halfway_is_refused_naming_the_step(bases, tmp_path, framework, engine, postgres_if):
    _, error = _refused(bases(framework, engine), tmp_path, "broken", "cut")
    assert "rehearsal step 'upgrade'" in error and "no_such_table" in error


def _set_in_toml(root: Path, key: str, value: str) -> None:
    path = root / "release.toml"
    lines = [line for line in path.read_text().splitlines() if not line.startswith(f"{key} = ")]
    path.write_text("\n".join(lines) + f"\n{key} = {value}\n")
    run(root, "git", "commit", "-q", "-am", f"{key}")


def test_a_failing_seed_command_is_an_outside_failure_naming_the_step(bases, tmp_path):
    base = bases("django", "sqlite")
    root = _copy(base, tmp_path)
    _add_migration(base, root, "reversible")
    _set_in_toml(root, "seed", json.dumps([["python", "manage.py", "shell", "-c", "raise SystemExit('no sample data here')"]]))
    done = run_releaser(root, "cut")
    assert done.returncode == 3, done.stdout + done.stderr
    error = said(done.stderr)
    assert len(error) == 1 and "rehearsal step 'seed' (0.9.0rc1)" in error[0] and "no sample data here" in error[0]
    assert not (root / "releases" / "0.9.0rc2").exists()


def test_an_unreachable_database_is_an_outside_failure_without_the_password(bases, tmp_path, postgres, monkeypatch):
    import pgcluster

    base = bases("django", "sqlite")
    root = _copy(base, tmp_path)
    _add_migration(base, root, "reversible")
    _set_in_toml(root, "database", json.dumps("postgresql://releaser:${" + PASSWORD_VAR + "}@127.0.0.1:1/postgres"))
    done = run_releaser(root, "cut", env={PASSWORD_VAR: pgcluster.PASSWORD})
    assert done.returncode == 3, done.stdout + done.stderr
    error = said(done.stderr)
    assert len(error) == 1 and "rehearsal step 'database'" in error[0] and "127.0.0.1" in error[0]
    _no_password_in(done.stdout, done.stderr, _files_under(root))
    assert not (root / "releases" / "0.9.0rc2").exists()

    # The variable is read when the rehearsal runs, never by an offline check.
    checked = run_releaser(root, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    monkeypatch.delenv(PASSWORD_VAR, raising=False)
    done = run_releaser(root, "rehearse")
    assert done.returncode == 2 and f"${{{PASSWORD_VAR}}}, which is not set" in done.stderr
