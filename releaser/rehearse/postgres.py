"""PostgreSQL, the server people deploy on: a fresh database per rehearsal on the server the URL names.

The URL names a server and a database to connect to first (`postgres` when it
names none); the rehearsal creates `releaser_rehearsal_<random>` beside it and
drops it at the end, so nothing of an existing database is touched. Everything
here is done with PostgreSQL's own client tools, `psql` and `pg_dump -Fc`,
connected through libpq's environment (PGHOST, PGPORT, PGUSER, PGPASSWORD,
PGDATABASE): the password is never on a command line nor in a file.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.redact import output_tail, strip_credentials
from releaser.rehearse.database import WHERE, Database

TIMEOUT = 600  # seconds for one client call (a dump of a large seed may take a while)
CONNECT_TIMEOUT = "10"
FIELD = "|"  # psql -A's field separator
PSQL = ("-X", "-q", "-A", "-t", "--no-password", "-v", "ON_ERROR_STOP=1")  # no psqlrc, unaligned rows only


@dataclass
class PostgresDatabase(Database):
    host: str
    port: int | None
    user: str | None
    password: str | None = field(repr=False)  # never shown
    maintenance: str = "postgres"  # the database the URL names: connected to for CREATE/DROP DATABASE
    query: str = ""
    scheme: str = "postgresql"
    name: str = ""

    engine = "postgresql"

    @classmethod
    def from_url(cls, url: str) -> PostgresDatabase:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{WHERE}: {strip_credentials(url)!r} has a port that is not a number") from None
        if not parts.hostname:
            raise ConfigError(f"{WHERE}: {strip_credentials(url)!r} names no host")
        return cls(
            host=parts.hostname,
            port=port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            maintenance=unquote(parts.path.lstrip("/")) or "postgres",
            query=parts.query,
            scheme=parts.scheme,
            name="releaser_rehearsal_" + secrets.token_hex(4),
        )

    @property
    def url(self) -> str:
        parts = urlsplit(f"{self.scheme}://placeholder/")
        netloc = self.host if ":" not in self.host else f"[{self.host}]"
        if self.port is not None:
            netloc += f":{self.port}"
        if self.user is not None:
            auth = quote(self.user, safe="")
            if self.password is not None:
                auth += ":" + quote(self.password, safe="")
            netloc = f"{auth}@{netloc}"
        return urlunsplit(parts._replace(netloc=netloc, path="/" + self.name, query=self.query))

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **self._libpq(self.name)}

    def _libpq(self, database: str) -> dict[str, str]:
        env = {"PGHOST": self.host, "PGDATABASE": database, "PGCONNECT_TIMEOUT": CONNECT_TIMEOUT}
        if self.port is not None:
            env["PGPORT"] = str(self.port)
        if self.user is not None:
            env["PGUSER"] = self.user
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def create(self) -> None:
        self._psql(self.maintenance, f"CREATE DATABASE {ident(self.name)}", doing="creating a database")

    def drop(self) -> None:
        try:
            self._psql(self.maintenance, f"DROP DATABASE IF EXISTS {ident(self.name)} WITH (FORCE)", doing="dropping")
        except UpstreamError:
            pass  # best effort: the rehearsal's verdict stands

    def backup(self, folder: Path) -> Path:
        target = folder / "backup.dump"
        self._client(["pg_dump", "-Fc", "--no-password", "-f", str(target)], self.name, doing="pg_dump -Fc")
        return target

    def restore(self, backup: Path) -> None:
        self._psql(self.maintenance, f"DROP DATABASE IF EXISTS {ident(self.name)} WITH (FORCE)", doing="dropping, to restore")
        self.create()
        self._client(["pg_restore", "--no-password", "--no-owner", "-d", self.name, str(backup)], self.name, doing="pg_restore")

    def select(self, table: str, columns: tuple[str, ...]) -> list[tuple[str, ...]] | None:
        exists = self._psql(self.name, f"SELECT to_regclass({_literal(table)}) IS NOT NULL", doing="looking for a table")
        if exists.strip() != "t":
            return None
        listed = ", ".join(ident(c) for c in columns)
        # COPY's text format: one line per row, tab between values, tabs and newlines inside them escaped.
        out = self._psql(self.name, f"COPY (SELECT {listed} FROM {ident(table)}) TO STDOUT", doing=f"reading {table}")
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def table_rows(self) -> Mapping[str, Iterator[bytes]]:
        listing = self._psql(
            self.name,
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            doing="listing tables",
        )
        tables = [line for line in listing.splitlines() if line]
        if not tables:
            return {}
        # One psql for every table: a marker line no row can be, then the table's rows (COPY text
        # format: one line per row, tabs and newlines inside values escaped).
        marker = "--releaser-table-" + secrets.token_hex(8) + "--"
        script = "".join(f"\\echo {marker} {t}\nCOPY (SELECT * FROM {t}) TO STDOUT;\n" for t in tables)
        out = self._psql_bytes(self.name, script, doing="reading every table")
        rows: dict[str, list[bytes]] = {}
        current: list[bytes] | None = None
        for line in out.split(b"\n"):
            if line.startswith(marker.encode() + b" "):
                name = line[len(marker) + 1 :].decode("utf-8")
                current = rows.setdefault(name.removeprefix("public."), [])
            elif current is not None and line:
                current.append(line)
        return {name: iter(found) for name, found in rows.items()}

    def rows(self, sql: str, *, doing: str) -> list[list[str]]:
        """The rows `sql` returns on the rehearsal's database, each a list of its fields as text."""
        out = self._psql(self.name, sql, doing=doing)
        return [line.split(FIELD) for line in out.splitlines() if line]

    def client_env(self) -> dict[str, str]:
        """The environment PostgreSQL's client tools get for the rehearsal's database (its password included)."""
        return self._env(self.name)

    # -- the client tools ---------------------------------------------------

    def _psql(self, database: str, sql: str, *, doing: str) -> str:
        return self._psql_bytes(database, sql, doing=doing).decode("utf-8", "replace")

    def _psql_bytes(self, database: str, sql: str, *, doing: str) -> bytes:
        argv = ["psql", *PSQL, "-f", "-"]
        return self._client(argv, database, doing=doing, stdin=sql.encode("utf-8"))

    def _client(self, argv: list[str], database: str, *, doing: str, stdin: bytes = b"") -> bytes:
        if shutil.which(argv[0]) is None:
            raise UpstreamError(
                f"{argv[0]} is not installed: a PostgreSQL rehearsal uses PostgreSQL's client tools "
                "(Debian: apt-get install postgresql-client)"
            )
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True, env=self._env(database), timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise UpstreamError(f"{doing} on {self.shown_server} did not finish within {TIMEOUT} s") from None
        if done.returncode != 0:
            said = output_tail(done.stderr.decode("utf-8", "replace"), 3).replace("\n", " ").replace("  | ", "")
            raise UpstreamError(f"{doing} on {self.shown_server} failed: {said.strip()}")
        return done.stdout

    def _env(self, database: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(self._libpq(database), PGAPPNAME="releaser-rehearsal")
        return env

    @property
    def shown_server(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        user = f"{self.user}@" if self.user else ""
        return f"postgresql://{user}{self.host}{port}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
