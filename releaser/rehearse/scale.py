"""`[migrations] scale = N`: the seeded rows of every table, N times over, before the upgrade.

Seed data is small; production tables are not, and a migration's lock time and the
slowdown check only mean something on rows. So after `seed` (step `scale`, timed)
every table whose primary key is one integer column gets N - 1 copies of its rows,
with one `INSERT ... SELECT` per table, the key of copy k renumbered as
`key + k * max(key)` (a serial's sequence is moved past the new maximum). Foreign
keys keep pointing at the rows they pointed at, so every copy is valid.

Left as they are, and named in the record: a table with another unique constraint
(its copies would collide), one whose key is not one integer column, and the
frameworks' own bookkeeping (`FRAMEWORK_TABLES`: duplicated, they would mean
nothing). The snapshot is taken after this step, so the revert is checked on the
scaled rows too.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from releaser.core.errors import UpstreamError
from releaser.rehearse.database import Database
from releaser.rehearse.postgres import PostgresDatabase
from releaser.rehearse.sqlite import SqliteDatabase

FRAMEWORK_TABLES = {"django_migrations", "alembic_version", "flyway_schema_history", "south_migrationhistory"}
STEP = "scale"


@dataclass(frozen=True)
class Table:
    name: str  # quoted as the engine needs it
    shown: str
    key: str | None  # the one integer primary key column, quoted; None: none such
    columns: tuple[str, ...]  # every other column, quoted
    other_unique: bool


@dataclass(frozen=True)
class Scaled:
    factor: int
    tables: tuple[str, ...]
    left: tuple[str, ...]  # "table (why)"

    def to_record(self) -> dict[str, Any]:
        return {"factor": self.factor, "tables": list(self.tables), "left": list(self.left)}


def scale(database: Database, factor: int) -> Scaled:
    """Multiply the rows of every table `database` holds `factor` times; see the module docstring."""
    tables = _postgres_tables(database) if isinstance(database, PostgresDatabase) else _sqlite_tables(database)
    done, left, statements = [], [], []
    for table in tables:
        why = _why_not(table)
        if why:
            left.append(f"{table.shown} ({why})")
            continue
        statements.append(_copies(table, factor, postgres=isinstance(database, PostgresDatabase)))
        done.append(table.shown)
    if statements:
        _execute(database, statements)
    return Scaled(factor, tuple(done), tuple(left))


def did(factor: int) -> str:
    return f"every table's seeded rows × {factor} (INSERT ... SELECT, keys renumbered)"


def _why_not(table: Table) -> str:
    if table.shown.rpartition(".")[2] in FRAMEWORK_TABLES:
        return "the framework's own bookkeeping"
    if table.key is None:
        return "its primary key is not one integer column"
    if table.other_unique:
        return "another unique constraint: copies would collide"
    return ""


def _copies(table: Table, factor: int, *, postgres: bool) -> str:
    key, rest = table.key, ", ".join(table.columns)
    assert key is not None  # a table without one integer key is never copied (`_why_not`)
    shift = f"{key} + copy.k * top.m"
    series = (
        f"generate_series(1, {factor - 1}) AS copy(k)" if postgres
        else f"(WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < {factor - 1}) SELECT k FROM s) AS copy"
    )
    insert = (
        f"INSERT INTO {table.name} ({key}{', ' + rest if rest else ''}) "
        + ("OVERRIDING SYSTEM VALUE " if postgres else "")  # an identity key GENERATED ALWAYS takes the copies' keys too
        + f"SELECT {shift}{', ' + rest if rest else ''} FROM {table.name}, {series}, "
        f"(SELECT coalesce(max({key}), 0) AS m FROM {table.name}) AS top"
    )
    if not postgres:
        return insert
    # A serial or identity key: its sequence goes past the copies, as the framework's next insert expects.
    return (
        f"{insert}; SELECT setval(s, (SELECT max({key}) FROM {table.name})) FROM "
        f"pg_get_serial_sequence('{table.name.replace(chr(39), chr(39) * 2)}', '{key.strip(chr(34)).replace(chr(39), chr(39) * 2)}') AS s "
        "WHERE s IS NOT NULL"
    )


def _execute(database: Database, statements: list[str]) -> None:
    if isinstance(database, PostgresDatabase):
        database.rows("BEGIN;\n" + ";\n".join(statements) + ";\nCOMMIT;", doing=f"rehearsal step '{STEP}'")
        return
    assert isinstance(database, SqliteDatabase)
    try:
        with closing(sqlite3.connect(database.path)) as db, db:
            for statement in statements:
                db.execute(statement)
    except sqlite3.Error as exc:
        raise UpstreamError(f"rehearsal step '{STEP}' on SQLite failed: {exc}") from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_PG_TABLES = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relname,
  (SELECT string_agg(quote_ident(a.attname), ',' ORDER BY a.attnum) FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''),
  (SELECT quote_ident(a.attname) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1 AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)),
  EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indisprimary)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1
"""


def _postgres_tables(database: PostgresDatabase) -> list[Table]:
    found = []
    for name, shown, columns, key, unique in database.rows(_PG_TABLES, doing=f"rehearsal step '{STEP}': reading tables"):
        rest = tuple(c for c in columns.split(",") if c and c != key)
        found.append(Table(name, shown, key or None, rest, unique == "t"))
    return found


def _sqlite_tables(database: Database) -> list[Table]:
    assert isinstance(database, SqliteDatabase)
    found = []
    with closing(sqlite3.connect(database.path)) as db:
        names = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
        )]
        for name in names:
            info = db.execute(f"PRAGMA table_info({_quote(name)})").fetchall()  # cid, name, type, notnull, default, pk
            keys = [row for row in info if row[5]]
            key = _quote(keys[0][1]) if len(keys) == 1 and "INT" in str(keys[0][2]).upper() else None
            unique = any(row[2] and row[3] != "pk" for row in db.execute(f"PRAGMA index_list({_quote(name)})"))
            rest = tuple(_quote(row[1]) for row in info if not row[5])
            found.append(Table(_quote(name), name, key, rest, unique))
    return found
