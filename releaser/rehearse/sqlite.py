"""SQLite, the embedded default: a file in the rehearsal's temporary folder.

The backup is taken with SQLite's own online backup API (`sqlite3.Connection.backup`),
page by page and consistent, not by copying a file that might be mid-write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from pathlib import Path

from releaser.core.errors import UpstreamError
from releaser.rehearse.database import Database


class SqliteDatabase(Database):
    engine = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path.absolute()

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path.as_posix()}"  # four slashes for an absolute path

    def create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        try:
            sqlite3.connect(self.path).close()
        except sqlite3.Error as exc:
            raise UpstreamError(f"cannot create the SQLite database {self.path}: {exc}") from None

    def drop(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def backup(self, folder: Path) -> Path:
        target = folder / "backup.sqlite3"
        try:
            with _connect(self.path) as source, _connect(target) as copy:
                source.backup(copy)
        except sqlite3.Error as exc:
            raise UpstreamError(f"backing up {self.path} failed: {exc}") from None
        return target

    def restore(self, backup: Path) -> None:
        try:
            with _connect(backup) as source, _connect(self.path) as target:
                source.backup(target)
        except sqlite3.Error as exc:
            raise UpstreamError(f"restoring {self.path} from {backup.name} failed: {exc}") from None

    def select(self, table: str, columns: tuple[str, ...]) -> list[tuple[str, ...]] | None:
        with _connect(self.path) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone() is None:
                return None
            listed = ", ".join(_quoted(c) for c in columns)
            return [tuple(str(v) for v in row) for row in db.execute(f"SELECT {listed} FROM {_quoted(table)}")]

    def table_rows(self) -> Mapping[str, Iterator[bytes]]:
        with _connect(self.path) as db:
            names = [
                row[0]
                for row in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                    "ORDER BY name"
                )
            ]
        return {name: self._rows(name) for name in names}

    def _rows(self, table: str) -> Iterator[bytes]:
        with _connect(self.path) as db:
            for row in db.execute(f"SELECT * FROM {_quoted(table)}"):
                yield repr(row).encode("utf-8")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path) -> closing[sqlite3.Connection]:
    """A connection closed on exit (sqlite3's own context manager only commits)."""
    return closing(sqlite3.connect(path))
