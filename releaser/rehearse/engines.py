"""Which engine a rehearsal's `[migrations] database` names, with `${VAR}` expanded now.

Each engine a rehearsal can create a fresh database on is an `Engine`, registered in
`ENGINES` by the name (`sqlite`) or URL scheme (`postgresql://`) that chooses it.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from releaser.core.errors import ConfigError
from releaser.core.redact import expand_references, remember_secrets, strip_credentials
from releaser.rehearse.database import WHERE, Database
from releaser.rehearse.postgres import PostgresDatabase
from releaser.rehearse.sqlite import SqliteDatabase

POSTGRES_SCHEMES = ("postgres", "postgresql")


def expand(spec: str) -> str:
    """`spec` with `${VAR}` replaced from the environment; a variable that is not set is a ConfigError."""

    def value(name: str) -> str:
        if name not in os.environ:
            raise ConfigError(f"{WHERE} refers to ${{{name}}}, which is not set in the environment")
        return os.environ[name]

    return expand_references(spec, value)


class Engine(ABC):
    """A database engine a rehearsal can create a fresh database on."""

    bare: ClassVar[bool] = False  # named by a bare word (`sqlite`), not by a URL's scheme

    @abstractmethod
    def open(self, url: str, work: Path) -> Database:
        """The database `url` names (`${VAR}` expanded), for a rehearsal whose temporary folder is `work`."""


class SqliteEngine(Engine):
    bare = True

    def open(self, url: str, work: Path) -> Database:
        return SqliteDatabase(work / "rehearsal.sqlite3")  # a file of its own, made and dropped here


class PostgresEngine(Engine):
    def open(self, url: str, work: Path) -> Database:
        return PostgresDatabase.from_url(url)


ENGINES: dict[str, Engine] = {"sqlite": SqliteEngine(), **{scheme: PostgresEngine() for scheme in POSTGRES_SCHEMES}}


def open_database(spec: str, work: Path) -> Database:
    """The database `spec` names, for a rehearsal whose temporary folder is `work` (not yet created)."""
    engine = ENGINES.get(spec)
    if engine is not None and engine.bare:
        return engine.open(spec, work)
    url = expand(spec)
    try:
        remember_secrets(url)
        scheme = urlsplit(url).scheme.split("+")[0].lower()
        engine = ENGINES.get(scheme)
        if engine is not None and not engine.bare:
            return engine.open(url, work)
    except ValueError as exc:  # urllib's own complaint, e.g. an unclosed [IPv6] host
        raise ConfigError(f"{WHERE}: {_shown(url)!r} is not a valid URL: {exc}") from None
    raise ConfigError(
        f"{WHERE}: {_shown(url)!r} is neither \"sqlite\" nor a postgresql:// URL "
        "(the engines a rehearsal can create a fresh database on)"
    )


def _shown(url: str) -> str:
    """`url` without credentials, as far as it can be parsed; scrub() takes any remembered secret out."""
    try:
        return strip_credentials(url)
    except ValueError:
        return url.rpartition("@")[2] or "(unreadable)"
