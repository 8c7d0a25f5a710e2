"""Real Django and Alembic projects in real git repositories, for the migration gate and the rehearsal.

The migrations are written by the frameworks' own tools, run with the test venv's
interpreter: `python manage.py makemigrations` from edited models, `alembic revision`
with the bodies the test asks for. Each project can run its framework's own checks
(`makemigrations --check`, `alembic heads`) on the same tree the gate reads.

    project = django_project(tmp / "shop")           # app "shop", one model, 0001_initial, committed
    project.add_field("shop", "Item", "price", "models.IntegerField(default=0)")
    project.makemigrations("shop", "add_price")     # shop/migrations/0002_add_price.py
    project.commit("price")
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from releaser.ecosystems import load_config
from releaser.migrations.gate import evaluate
from releaser.migrations.report import Previous, Report

PYTHON = sys.executable
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Release Engineer", "GIT_AUTHOR_EMAIL": "re@example.org",
    "GIT_COMMITTER_NAME": "Release Engineer", "GIT_COMMITTER_EMAIL": "re@example.org",
    "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C",
}


def run(root: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command in `root`; with `check`, a failure fails the test showing its output."""
    done = subprocess.run(
        args, cwd=root, capture_output=True, text=True, timeout=300,
        env={**os.environ, **_GIT_ENV, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})},
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@dataclass
class GitProject:
    root: Path

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(self.root, "git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args, check=check)

    def init_git(self) -> None:
        self.write(".gitignore", "*.sqlite3\n__pycache__/\n/dist/\n")
        self.git("-c", "init.defaultBranch=main", "init", "-q")
        self.git("config", "user.name", "Release Engineer")
        self.git("config", "user.email", "re@example.org")
        self.commit("project")

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    def commit(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def branch(self, name: str, start: str = "HEAD") -> None:
        """Create branch `name` at `start` and switch to it."""
        self.git("checkout", "-q", "-b", name, start)

    def checkout(self, ref: str) -> None:
        self.git("checkout", "-q", ref)

    def merge(self, ref: str) -> subprocess.CompletedProcess[str]:
        return self.git("merge", "-q", "--no-edit", ref)

    def cherry_pick(self, ref: str) -> None:
        self.git("cherry-pick", ref)

    def release_toml(self, migrations: str, name: str = "shop") -> None:
        """A release.toml without dependencies: [release] and the given [migrations] table."""
        self.write("release.toml", f'[release]\nname = "{name}"\nversion = "1.0.0"\n\n[migrations]\n' + textwrap.dedent(migrations).lstrip())


def gate(project: GitProject, previous: Previous | None = None, **settings: Any) -> Report:
    """The migration gate on the project's working tree: its release.toml's [migrations], with `settings` over it."""
    loaded = load_config(project.root / "release.toml").migrations
    assert loaded is not None
    return evaluate(replace(loaded, **settings), project.root, previous)


def refused(report: Report) -> dict[str, str]:
    """Finding name -> kind, of every refused finding."""
    return {f.name: f.kind for f in report.refused}


# -- Django -------------------------------------------------------------------

_MANAGE = """
import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""

_SETTINGS = """
import os
SECRET_KEY = "not a secret: a test project"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", {apps}]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("SQLITE_PATH", "db.sqlite3")}}}}
if os.environ.get("DATABASE_URL"):  # as the rehearsal gives it: sqlite:////abs/path or postgresql://...
    from urllib.parse import unquote, urlsplit
    _url = urlsplit(os.environ["DATABASE_URL"])
    if _url.scheme == "sqlite":
        DATABASES["default"]["NAME"] = os.environ["DATABASE_URL"].partition(":///")[2]
    else:
        DATABASES["default"] = {{
            "ENGINE": "django.db.backends.postgresql", "NAME": unquote(_url.path[1:]), "HOST": _url.hostname,
            "PORT": _url.port or "", "USER": unquote(_url.username or ""), "PASSWORD": unquote(_url.password or ""),
        }}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
"""


@dataclass
class DjangoProject(GitProject):
    """A Django project: one settings module, apps whose models the test edits."""

    models: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # app -> model -> field -> definition

    def manage(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run(self.root, PYTHON, "manage.py", *args, check=check, env=env)

    def add_field(self, app: str, model: str, name: str, definition: str) -> None:
        self.models.setdefault(app, {}).setdefault(model, {})[name] = definition
        self._write_models(app)

    def remove_field(self, app: str, model: str, name: str) -> None:
        del self.models[app][model][name]
        self._write_models(app)

    def _write_models(self, app: str) -> None:
        lines = ["from django.db import models", ""]
        for model, fields in self.models[app].items():
            lines += ["", f"class {model}(models.Model):"]
            lines += [f"    {name} = {definition}" for name, definition in fields.items()] or ["    pass"]
        self.write(f"{app}/models.py", "\n".join(lines) + "\n")

    def makemigrations(self, app: str, name: str, *extra: str) -> Path:
        """`manage.py makemigrations APP --name NAME`; the file it wrote."""
        before = set((self.root / app / "migrations").glob("*.py"))
        self.manage("makemigrations", app, "--name", name, *extra)
        written = sorted(set((self.root / app / "migrations").glob("*.py")) - before)
        assert len(written) == 1, written
        return written[0]

    def migration(self, app: str, name: str) -> Path:
        """The file of migration `name` ("0002" or "0002_add_price") of `app`."""
        matches = sorted((self.root / app / "migrations").glob(f"{name}*.py"))
        assert len(matches) == 1, matches
        return matches[0]

    def conflicts(self) -> subprocess.CompletedProcess[str]:
        """Django's own verdict: `makemigrations --check --dry-run` (exit 1 on a conflict or pending changes)."""
        return self.manage("makemigrations", "--check", "--dry-run", check=False)


def django_project(root: Path, apps: tuple[str, ...] = ("shop",), git: bool = True) -> DjangoProject:
    """A committed Django project: each app with model Item(name) and its 0001_initial."""
    project = DjangoProject(root)
    root.mkdir(parents=True, exist_ok=True)
    project.write("manage.py", _MANAGE)
    project.write("site_settings.py", _SETTINGS.format(apps=", ".join(f'"{a}"' for a in apps)))
    for app in apps:
        project.write(f"{app}/__init__.py", "")
        project.write(f"{app}/migrations/__init__.py", "")
        project.add_field(app, "Item", "name", "models.CharField(max_length=100)")
    for app in apps:
        project.makemigrations(app, "initial")
    if git:
        project.init_git()
    return project


# -- Alembic ------------------------------------------------------------------


@dataclass
class AlembicProject(GitProject):
    """An `alembic init` project (script directory `alembic/`, versions in alembic/versions)."""

    def alembic(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run(self.root, PYTHON, "-m", "alembic", *args, check=check)

    def revision(self, rev: str, message: str, upgrade: str = "pass", downgrade: str = "pass", *extra: str) -> Path:
        """`alembic revision -m MESSAGE --rev-id REV`, then the bodies of upgrade() and downgrade() written in."""
        self.alembic("revision", "-m", message, "--rev-id", rev, *extra)
        path = next((self.root / "alembic" / "versions").glob(f"{rev}_*.py"))
        text = path.read_text(encoding="utf-8")
        for func, body in (("upgrade", upgrade), ("downgrade", downgrade)):
            marker = f'    """{func.capitalize()} schema."""\n    pass\n'
            assert marker in text, text
            text = text.replace(marker, f'    """{func.capitalize()} schema."""\n' + textwrap.indent(textwrap.dedent(body).strip() + "\n", "    "))
        path.write_text(text, encoding="utf-8")
        return path

    def heads(self) -> list[str]:
        """Alembic's own `alembic heads`: the revision ids it reports."""
        out = self.alembic("heads").stdout
        return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def alembic_project(root: Path, git: bool = True) -> AlembicProject:
    """A committed Alembic project with no revisions yet (sqlite database `app.sqlite3`)."""
    project = AlembicProject(root)
    root.mkdir(parents=True, exist_ok=True)
    project.alembic("init", "alembic")
    ini = (root / "alembic.ini").read_text(encoding="utf-8")
    ini = ini.replace("sqlalchemy.url = driver://user:pass@localhost/dbname", "sqlalchemy.url = sqlite:///app.sqlite3")
    (root / "alembic.ini").write_text(ini, encoding="utf-8")
    # DATABASE_URL, when set (the rehearsal sets it), names the database; psycopg 3 is the PostgreSQL driver.
    env_py = (root / "alembic" / "env.py").read_text(encoding="utf-8")
    env_py = env_py.replace(
        "config = context.config\n",
        "config = context.config\n"
        "import os\n"
        "if os.environ.get('DATABASE_URL'):\n"
        "    config.set_main_option('sqlalchemy.url', os.environ['DATABASE_URL']"
        ".replace('postgresql://', 'postgresql+psycopg://', 1).replace('%', '%%'))\n",
        1,
    )
    (root / "alembic" / "env.py").write_text(env_py, encoding="utf-8")
    if git:
        project.init_git()
    return project
