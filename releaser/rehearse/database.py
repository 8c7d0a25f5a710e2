"""The rehearsal's database: one fresh database per rehearsal, on the engine `database` names.

`[migrations] database` is `"sqlite"` (a file in the rehearsal's temporary folder)
or a URL (`postgresql://user:password@host:port/db`). `${VAR}` in it is expanded
when a rehearsal runs (`engines.py`), never when release.toml is read: an offline check
must not need the database's credentials. The password is remembered as a secret
(every output is scrubbed of it) and reaches a child process only through its
environment (`DATABASE_URL` for the project's commands, `PGPASSWORD` for the
PostgreSQL client tools), never a command line or a file.

Each engine lives in its own module (`sqlite.py`, `postgres.py`) and gives the
same few operations: create a fresh database, back it up, read every table's rows,
drop it again; `engines.open_database` picks one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path

from releaser.core.redact import strip_credentials

WHERE = "[migrations] database"


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
    def restore(self, backup: Path) -> None:
        """The database made again from `backup` (what `backup` wrote), as a forward-only RC's way back."""

    @abstractmethod
    def select(self, table: str, columns: tuple[str, ...]) -> list[tuple[str, ...]] | None:
        """`columns` of every row of `table` (in the default schema), as text; None when there is no such table."""

    @abstractmethod
    def table_rows(self) -> Mapping[str, Iterator[bytes]]:
        """Every table (schema-qualified where the engine has schemas) -> its rows, each as bytes."""
