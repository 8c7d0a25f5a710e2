"""The rehearsal proves it rehearsed: its own database, and only its own, took the migrations.

A project whose settings ignore `DATABASE_URL` (a fixed `DB_NAME`, a file in the tree)
migrates some other database while the rehearsal's stays empty: every figure would
be about nothing, and the other database is changed. So after `previous` and after
`upgrade` the rehearsal's database must hold the framework's own record of what was
applied, with the expected heads in it (`prove`), or the RC is refused; and the
project's commands run

- with no variable in their environment that could point at another database
  (`PG*`, `DB_*`, `DATABASE_*`: only the rehearsal's own `DATABASE_URL` and, for
  PostgreSQL, its own libpq variables; `project_environment`),
- from a copy of the tree (`tree_copy`), never the developer's work tree: a database
  file a setting names relative to the tree is made in the copy, and thrown away.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from releaser.core.errors import Refused
from releaser.rehearse.database import Database

# framework -> (the table it records applied migrations in, its columns: app and name, or the revision)
MIGRATION_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "django": ("django_migrations", ("app", "name")),
    "south": ("south_migrationhistory", ("app_name", "migration")),
    "alembic": ("alembic_version", ("version_num",)),
}
_FOREIGN = ("PG", "DB_", "DATABASE_")  # prefixes of variables that could name another database
SETTINGS_HINT = (
    "make the settings read DATABASE_URL (Django: DATABASES = {\"default\": dj_database_url.config()}; "
    "Alembic env.py: config.set_main_option(\"sqlalchemy.url\", os.environ[\"DATABASE_URL\"]); docs/rehearsal.md)"
)


def project_environment(env: Mapping[str, str], database: Database) -> dict[str, str]:
    """`env` without any variable that could name another database, then the rehearsal's own."""
    kept = {k: v for k, v in env.items() if not k.upper().startswith(_FOREIGN)}
    return {**kept, **database.environment()}


def prove(database: Database, framework: str, heads: Mapping[str, tuple[str, ...]], step: str, rc: str) -> None:
    """Refuse unless the rehearsal's database records every head of `heads` (app -> head names) as applied."""
    known = MIGRATION_TABLES.get(framework)
    wanted = {(app, name) for app, names in heads.items() for name in names}
    if known is None or not wanted:  # Flyway, custom commands: no table releaser knows; nothing to expect
        return
    table, columns = known
    rows = database.select(table, columns)
    if rows is None:
        missing = f"has no {table} table"
    else:
        applied = {row[0] for row in rows} if len(columns) == 1 else {(row[0], row[1]) for row in rows}
        absent = sorted(name for app, name in wanted if (name if len(columns) == 1 else (app, name)) not in applied)
        if not absent:
            return
        shown = ", ".join(absent[:4]) + (f" and {len(absent) - 4} more" if len(absent) > 4 else "")
        missing = f"records {len(rows)} applied migrations in {table}, but not {shown}"
    raise Refused(
        f"rehearsal step '{step}' ({rc}): the rehearsal's database {missing} after the migrations ran: the "
        f"project's commands migrated another database, not the one in DATABASE_URL; {SETTINGS_HINT}; nothing is recorded"
    )


def tree_copy(root: Path, into: Path) -> Path:
    """A copy of the project's tree under `into`, as git sees it (tracked and untracked files, nothing
    ignored: no local database, no venv); the project root's place in the copy is returned."""
    from releaser.plumbing import gitrepo

    top = gitrepo.toplevel(root)
    if top is None:
        shutil.copytree(root, into, symlinks=True, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__"))
        return into
    listed = gitrepo.git(top, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    into.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source, target = top / name, into / name
        if not os.path.lexists(source) or (source.is_dir() and not source.is_symlink()):
            continue  # deleted in the tree but still in the index; a submodule
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    return into / root.resolve().relative_to(top.resolve())
