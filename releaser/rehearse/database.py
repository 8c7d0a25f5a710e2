"""The rehearsal's database: one fresh database per rehearsal, on the engine `database` names.

`[migrations] database` is `"sqlite"` (a file in the rehearsal's temporary folder)
or a URL (`postgresql://user:password@host:port/db`). `${VAR}` in it is expanded
here, when a rehearsal runs, never when release.toml is read: an offline check
must not need the database's credentials. The password is remembered as a secret
(every output is scrubbed of it) and reaches a child process only through its
environment (`DATABASE_URL` for the project's commands, `PGPASSWORD` for the
PostgreSQL client tools), never a command line or a file.

Each engine lives in its own module (`sqlite.py`, `postgres.py`) and gives the
same few operations: create a fresh database, back it up, read every table's rows,
drop it again.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from releaser.core.errors import ConfigError
from releaser.core.redact import remember_secrets, strip_credentials

WHERE = "[migrations] database"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
POSTGRES_SCHEMES = ("postgres", "postgresql")


class Database(ABC):
    """A database made for one rehearsal; `url` (with any password) goes only into DATABASE_URL."""

    engine: str

    @property
    @abstractmethod
    def url(self) -> str:
        """DATABASE_URL, as the project's commands get it (the password included)."""

    @property
    def shown(self) -> str:
        """The URL as it may be shown: without its password."""
        return strip_credentials(self.url)

    def environment(self) -> dict[str, str]:
        """What every command of the rehearsal gets in its environment."""
        return {"DATABASE_URL": self.url}

    @abstractmethod
    def create(self) -> None:
        """Make the database, empty; an unreachable server is an UpstreamError naming it."""

    @abstractmethod
    def drop(self) -> None:
        """Remove the database again (best effort: the rehearsal is over)."""

    @abstractmethod
    def backup(self, folder: Path) -> Path:
        """A backup of the database, written into `folder`; returns its path."""

    @abstractmethod
    def table_rows(self) -> Mapping[str, Iterator[bytes]]:
        """Every table (schema-qualified where the engine has schemas) -> its rows, each as bytes."""


def expand(spec: str) -> str:
    """`spec` with `${VAR}` replaced from the environment; a variable that is not set is a ConfigError."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{WHERE} refers to ${{{name}}}, which is not set in the environment")
        return os.environ[name]

    return _ENV_REF.sub(value, spec)


def open_database(spec: str, work: Path) -> Database:
    """The database `spec` names, for a rehearsal whose temporary folder is `work` (not yet created)."""
    if spec == "sqlite":
        from releaser.rehearse.sqlite import SqliteDatabase

        return SqliteDatabase(work / "rehearsal.sqlite3")
    url = expand(spec)
    remember_secrets(url)
    scheme = urlsplit(url).scheme.split("+")[0].lower()
    if scheme in POSTGRES_SCHEMES:
        from releaser.rehearse.postgres import PostgresDatabase

        return PostgresDatabase.from_url(url)
    raise ConfigError(
        f"{WHERE}: {strip_credentials(url)!r} is neither \"sqlite\" nor a postgresql:// URL "
        "(the engines a rehearsal can create a fresh database on)"
    )
