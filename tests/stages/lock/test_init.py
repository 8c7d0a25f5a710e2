"""`releaser init` on four realistic layouts: `init && lock && check` works with at most
the index URL given, against the real loopback index and Maven repository."""

from __future__ import annotations

import json
import textwrap
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import Project, run_releaser
from releaser.core.errors import ReleaserError
from releaser.ecosystems import load_config
from releaser.lock.init import initialize, render
from releaser.lock.initfind import find

JAN = datetime(2024, 1, 10, tzinfo=UTC)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def init_lock_check(root: Path, *init_args: str) -> tuple[str, dict]:
    """Run the three commands as a new user would; return init's output and the release.toml it wrote."""
    done = run_releaser(root, "init", *init_args)
    assert done.returncode == 0, done.stdout + done.stderr
    for command in ("lock", "check"):
        step = run_releaser(root, command)
        assert step.returncode == 0, f"{command}: {step.stdout}{step.stderr}\n{(root / 'release.toml').read_text()}"
    return done.stdout, tomllib.loads((root / "release.toml").read_text())


@pytest.fixture(scope="module")
def index():  # type: ignore[no-untyped-def]
    from loopback.pypi import PackageIndex

    with PackageIndex() as idx:
        for name, version in [("django", "4.2"), ("asgiref", "3.7"), ("pytest", "8.0"), ("alembic", "1.13"),
                              ("sqlalchemy", "2.0"), ("alpha", "1.0"), ("beta", "1.0")]:
            requires = ["asgiref>=3"] if name == "django" else ["sqlalchemy>=2"] if name == "alembic" else []
            idx.publish(name, version, requires=requires, uploaded=JAN)
        yield idx


def test_django_project(tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "shop"
    write(root, {
        "manage.py": "import django\n",
        "requirements.in": "django>=4.2\n",
        "requirements-dev.in": "-r requirements.in\npytest\n",
        # compiled from requirements.in: an output, not an input
        "requirements.txt": "django==4.2 \\\n    --hash=sha256:" + "0" * 64 + "\n",
        "shop/__init__.py": "",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": (
            "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
            "    initial = True\n    dependencies = []\n    operations = []\n"
        ),
        "tests/test_views.py": "def test_x():\n    pass\n",
    })
    out, toml = init_lock_check(root, "--index-url", index.url)
    assert toml["release"] == {"name": "shop", "version": "0.1.0", "gates": [["python", "-m", "pytest", "-q"]]}
    assert toml["python"] == {"requirements": ["requirements-dev.in", "requirements.in"], "index-url": index.url}
    assert toml["migrations"] == {"framework": "django", "paths": ["shop/migrations"]}
    assert "requirements.txt: left out, compiled from requirements.in" in out and "migrations: django in shop/migrations" in out


def test_alembic_project(tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "ledger"
    write(root, {
        "pyproject.toml": """
            [project]
            name = "ledger"
            version = "1.4.0.dev0"
            dependencies = ["alembic>=1.13", "sqlalchemy>=2"]
            """,
        "alembic.ini": "[alembic]\nscript_location = %(here)s/db\n",
        "db/env.py": "",
        "db/versions/1a2b_init.py": "revision = '1a2b'\ndown_revision = None\n",
    })
    out, toml = init_lock_check(root, "--index-url", index.url)
    assert toml["release"] == {"name": "ledger", "version": "1.4.0"}  # RCs are of the final release
    assert toml["python"] == {"pyproject": True, "index-url": index.url}
    assert toml["migrations"] == {"framework": "alembic", "paths": ["db/versions"]}
    assert "migrations: alembic in db/versions" in out


def test_maven_project(tmp_path: Path, maven_repo) -> None:  # type: ignore[no-untyped-def]
    maven_repo.deploy_snapshot("org.cosmo", "ical", "1.0", JAN, 1)
    maven_repo.deploy_release("com.acme", "util", "2.1", last_modified=JAN)
    root = tmp_path / "server"
    write(root, {
        "pom.xml": f"""
            <?xml version="1.0" encoding="UTF-8"?>
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <groupId>org.example</groupId>
              <artifactId>calendar-server</artifactId>
              <version>3.2.0-SNAPSHOT</version>
              <packaging>pom</packaging>
              <modules><module>core</module></modules>
              <properties><ical.version>1.0-SNAPSHOT</ical.version></properties>
              <repositories><repository><id>internal</id><url>{maven_repo.url}</url></repository></repositories>
              <dependencies>
                <dependency><groupId>org.cosmo</groupId><artifactId>ical</artifactId><version>${{ical.version}}</version></dependency>
                <dependency><groupId>org.managed</groupId><artifactId>bom-only</artifactId></dependency>
              </dependencies>
            </project>
            """,
        "core/pom.xml": """
            <project xmlns="http://maven.apache.org/POM/4.0.0">
              <modelVersion>4.0.0</modelVersion>
              <parent><groupId>org.example</groupId><artifactId>calendar-server</artifactId><version>3.2.0-SNAPSHOT</version></parent>
              <artifactId>core</artifactId>
              <dependencies>
                <dependency><groupId>com.acme</groupId><artifactId>util</artifactId><version>2.1</version></dependency>
                <dependency><groupId>org.example</groupId><artifactId>calendar-server</artifactId><version>${project.version}</version></dependency>
              </dependencies>
            </project>
            """,
        "core/src/main/resources/db/migration/V1__init.sql": "create table t (id int);\n",
    })
    out, toml = init_lock_check(root)
    assert toml["release"]["name"] == "calendar-server" and toml["release"]["version"] == "3.2.0"
    assert toml["maven"] == [{"repository": maven_repo.url, "dependencies": ["com.acme:util:2.1", "org.cosmo:ical:1.0-SNAPSHOT"]}]
    assert "python" not in toml
    assert "org.managed:bom-only has no version here (managed elsewhere): left out" in out
    assert toml["migrations"]["framework"] == "flyway"
    lock = tomllib.loads((root / "release.lock").read_text())
    assert {p["name"] for p in lock["maven"]} == {"com.acme:util", "org.cosmo:ical"}


def test_src_layout_library(tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "tinylib"
    write(root, {
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "tinylib"
            version = "2.0.0"
            dependencies = ["alpha>=1"]

            [project.optional-dependencies]
            fast = ["beta"]

            [dependency-groups]
            test = ["pytest>=8"]

            [tool.pytest.ini_options]
            testpaths = ["tests"]
            """,
        "src/tinylib/__init__.py": "",
        "tests/test_tiny.py": "def test_x():\n    pass\n",
    })
    out, toml = init_lock_check(root, "--index-url", index.url)
    # The extras and groups are locked, so pytest (in the test group) is there for the gate;
    # `build` is not locked: its command stays a suggestion.
    assert toml["release"] == {"name": "tinylib", "version": "2.0.0", "gates": [["python", "-m", "pytest", "-q"]]}
    assert toml["python"] == {"pyproject": True, "extras": ["fast"], "groups": ["test"], "index-url": index.url}
    text = (root / "release.toml").read_text()
    assert '# build = ["python", "-m", "build", "--outdir", "{dist}"]' in text
    assert "python: optional dependencies fast" in out and "python: dependency groups test" in out
    lock = tomllib.loads((root / "release.lock").read_text())
    assert {p["name"] for p in lock["python"]} == {"alpha", "beta", "pytest"}


def test_init_never_overwrites_and_speaks_json(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "release.toml").write_text("# mine\n")
    done = run_releaser(tmp_path, "-C", "p", "init")
    assert done.returncode == 1 and "exists already" in done.stderr
    assert (root / "release.toml").read_text() == "# mine\n"
    done = run_releaser(tmp_path, "init", "--json", "-C", "p")
    assert done.returncode == 1 and json.loads(done.stdout)["exit"] == 1
    (root / "release.toml").unlink()
    (root / "requirements.in").write_text("alpha\n")
    done = run_releaser(root, "init", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True and document["found"][1] == "python: requirements.in"


def test_an_input_releaser_would_refuse_is_left_out_with_the_reason(tmp_path: Path) -> None:
    Project(tmp_path).write("requirements.in", "--index-url https://example.org/simple\nalpha\n")
    Project(tmp_path).write("requirements-ok.in", "beta\n")
    result = initialize(tmp_path)
    assert tomllib.loads(result.text)["python"]["requirements"] == ["requirements-ok.in"]
    assert any(line.startswith("requirements.in: left out:") for line in result.found)


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, version=names, dependency=names, pom=st.binary(max_size=200))
def test_whatever_the_project_holds_init_writes_valid_toml_or_a_clear_error(tmp_path_factory, name, version, dependency, pom) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("fuzz")
    (root / "pyproject.toml").write_text(
        f"[project]\nname = {json.dumps(name)}\nversion = {json.dumps(version)}\ndependencies = [{json.dumps(dependency)}]\n",
        encoding="utf-8",
    )
    (root / "pom.xml").write_bytes(pom)
    try:
        found = find(root)
        tomllib.loads(render(found, "https://pypi.org/simple"))
    except ReleaserError:
        pass


def test_a_credential_in_the_index_url_never_reaches_the_file(tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("alpha\n")
    done = run_releaser(tmp_path, "init", "--index-url", "https://ci:s3cret@pypi.example.org/simple")
    assert done.returncode == 2 and "s3cret" not in done.stdout + done.stderr and "${VARS}" in done.stderr
    assert not (tmp_path / "release.toml").exists()
    done = run_releaser(tmp_path, "init", "--index-url", "https://ci:${INDEX_TOKEN}@pypi.example.org/simple")
    assert done.returncode == 0, done.stderr  # a reference to the environment is what release.toml holds
    assert 'index-url = "https://ci:${INDEX_TOKEN}@pypi.example.org/simple"' in (tmp_path / "release.toml").read_text()


def test_a_hand_pinned_requirements_txt_is_an_input_and_its_closure_is_locked(tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    """A long-lived project's requirements.txt: every line `==`, no hashes, written by hand.
    It is what the project installs: init takes it, the `==` stays a constraint, and the
    lock pins what those packages need too (django needs asgiref)."""
    root = tmp_path / "hc"
    write(root, {
        "manage.py": "import django\n",
        "requirements.txt": "# what production runs\ndjango==4.2\n",
        "hc/__init__.py": "",
    })
    out, toml = init_lock_check(root, "--index-url", index.url)
    assert toml["python"]["requirements"] == ["requirements.txt"], out
    lock = tomllib.loads((root / "release.lock").read_text())
    assert {(p["name"], p["version"]) for p in lock["python"]} == {("django", "4.2"), ("asgiref", "3.7")}

    # A resolver's output is still left out: its header, or a hash on every line.
    (root / "release.toml").unlink()
    write(root, {"requirements.txt": "django==4.2 \\\n    --hash=sha256:" + "0" * 64 + "\nasgiref==3.7 --hash=sha256:" + "1" * 64 + "\n"})
    assert "python" not in tomllib.loads(initialize(root).text)
    (root / "release.toml").unlink()
    write(root, {"requirements.txt": "#\n# This file is autogenerated by pip-compile with Python 3.12\n#\ndjango==4.2\n"})
    assert "python" not in tomllib.loads(initialize(root).text)


def test_check_never_calls_a_lock_sound_while_a_dependency_file_it_does_not_list_floats(tmp_path: Path, index) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "hc"
    write(root, {
        "requirements-base.in": "pytest\n",
        "requirements.txt": "django==4.2\nalpha==1.0  # pinned by hand\n",
        "release.toml": f'[release]\nname = "hc"\nversion = "3.13.0"\n\n[python]\nrequirements = ["requirements-base.in"]\nindex-url = "{index.url}"\n',
    })
    locked = run_releaser(root, "lock")
    assert locked.returncode == 0, locked.stderr
    assert "requirements.txt names 2 packages release.lock does not pin (alpha, django)" in locked.stdout
    for _ in range(2):  # the full check, then again where a seal could answer
        done = run_releaser(root, "check")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "nothing floats" not in done.stdout
        assert "unlisted: requirements.txt: names 2 packages release.lock does not pin (alpha, django)" in done.stdout
        assert 'run: list it in release.toml\'s [python] requirements (add "requirements.txt"), then releaser lock' in done.stdout
    # Listed, then locked: sound.
    toml = (root / "release.toml").read_text().replace('["requirements-base.in"]', '["requirements-base.in", "requirements.txt"]')
    (root / "release.toml").write_text(toml)
    assert run_releaser(root, "lock").returncode == 0
    done = run_releaser(root, "check")
    assert done.returncode == 0 and "nothing floats" in done.stdout, done.stdout
    # A dependency file that appears after the lock was sealed is not missed.
    write(root, {"requirements-prod.txt": "beta==1.0\n"})
    done = run_releaser(root, "check")
    assert done.returncode == 1 and "unlisted: requirements-prod.txt: names 1 package" in done.stdout, done.stdout


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requirements=st.binary(max_size=300), pyproject=st.binary(max_size=300))
def test_whatever_a_dependency_file_holds_unlisted_answers_or_says_why(tmp_path_factory, requirements, pyproject) -> None:  # type: ignore[no-untyped-def]
    from releaser.core.depfiles import is_compiled
    from releaser.core.lockfile import Lock
    from releaser.lock.soundness import unlisted

    root = tmp_path_factory.mktemp("deps")
    (root / "release.toml").write_text('[release]\nname = "p"\nversion = "1.0"\n')
    (root / "requirements.txt").write_bytes(requirements)
    (root / "pyproject.toml").write_bytes(pyproject)
    is_compiled(requirements.decode("utf-8", "replace"))
    try:
        found = unlisted(load_config(root / "release.toml"), Lock(JAN, "0.1.0", "none"))
    except ReleaserError:
        return
    assert all(f.code == "unlisted" and f.subject in ("requirements.txt", "pyproject.toml") for f in found)
def test_a_deeply_nested_pyproject_is_left_out_with_the_reason(tmp_path: Path) -> None:
    Project(tmp_path).write("pyproject.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n")
    Project(tmp_path).write("requirements.in", "beta\n")
    result = initialize(tmp_path)
    assert tomllib.loads(result.text)["python"]["requirements"] == ["requirements.in"]
    assert "pyproject.toml: not read (nested too deeply)" in result.found


@pytest.mark.parametrize("content", [b"[project\n", b"\xff\xfe not utf-8\n"], ids=["bad-toml", "not-utf-8"])
def test_an_unreadable_pyproject_is_left_out_with_the_reason(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    Project(tmp_path).write("requirements.in", "beta\n")
    result = initialize(tmp_path)
    assert tomllib.loads(result.text)["python"]["requirements"] == ["requirements.in"]
    assert any(line.startswith("pyproject.toml: not read (") for line in result.found)
