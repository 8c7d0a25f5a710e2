"""The SQL a framework would run for one migration, asked of the framework itself.

Django: `python manage.py sqlmigrate APP NAME`; Alembic: `alembic upgrade PARENT:REV --sql`
(offline mode: the project's env.py must support it, as `alembic init` writes it);
Flyway: the migration's own file. A project whose commands are custom (South, or an
`upgrade` override) gives none: the callers say they cannot tell. The commands run in
this RC's tree and pinned environment, with `DATABASE_URL` set (sqlmigrate asks the
database's vendor), and only when their answer is needed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path

from releaser.migrations.graph import Graph, Key

Output = Callable[[Sequence[str]], "str | None"]  # runs a command in this RC's place: its stdout, None when it failed


def sql_of(graph: Graph, key: Key, root: Path, output: Output) -> str | None:
    """The SQL of migration `key`, or None when the framework cannot say."""
    migration = graph.migrations.get(key)
    if migration is None or migration.external:
        return None
    if graph.framework == "django":
        return output(("python", "manage.py", "sqlmigrate", key[0], key[1]))
    if graph.framework == "alembic":
        parents = [p[1] for p in migration.parents]
        start = parents[0] if len(parents) == 1 else "base" if not parents else None
        if start is None:  # a merge point has no single parent to start the range from
            return None
        return output(("alembic", "upgrade", f"{start}:{key[1]}", "--sql"))
    if graph.framework == "flyway" and migration.file:
        try:
            return (root / migration.file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    return None


def sql_of_many(graph: Graph, keys: Sequence[Key], root: Path, output: Output) -> dict[str, str | None]:
    """Each migration's label -> its SQL (None: the framework did not give it), in as few commands as can be.

    Django: one `manage.py shell` asks sqlmigrate for every migration (the framework's start-up, once).
    """
    if graph.framework != "django" or len(keys) < 2:
        return {graph.label(k): sql_of(graph, k, root, output) for k in keys}
    marker = "-- releaser-sqlmigrate " + secrets.token_hex(8)
    script = (
        "import io\nfrom django.core.management import call_command\n"
        f"for app, name in {[tuple(k) for k in keys]!r}:\n"
        "    out = io.StringIO()\n"
        "    try:\n        call_command('sqlmigrate', app, name, stdout=out)\n"
        "    except Exception:\n        continue\n"
        f"    print({marker!r}, app, name)\n    print(out.getvalue())\n"
    )
    said = output(("python", "manage.py", "shell", "-c", script)) or ""
    found: dict[str, str | None] = {graph.label(k): None for k in keys}
    for chunk in said.split(marker + " ")[1:]:
        head, _, body = chunk.partition("\n")
        app, _, name = head.strip().partition(" ")
        found[graph.label((app, name))] = body
    return found


def identifiers(text: str) -> set[str]:
    """Every word of `text` that could be an SQL identifier, lower-cased (quoted or not)."""
    return set(re.findall(r"[a-z_][a-z0-9_$]*", text.lower()))


def tables_in(text: str, tables: Sequence[str]) -> set[str]:
    """Which of `tables` (schema-qualified or not) `text` names, as a whole identifier."""
    words = identifiers(text)
    return {t for t in tables if t.lower().rpartition(".")[2] in words}
