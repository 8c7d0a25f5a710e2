"""Flyway SQL migrations: `V<version>__<description>.sql`, their `U` undo scripts, `R__` repeatables.

Versions compare as Flyway's `MigrationVersion` compares them: numerically, part
by part, `.` and `_` both separators, a missing part counting as 0 (`V1_2` is
`1.2`, and `1.0` is `1`). Every location is scanned recursively, and all of them
are one sequence, "app" `flyway`: each version depends on the one below it.
Repeatables re-run whenever they change, so they are no part of the graph. A
digest is of the SQL without comments and whitespace.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence

from releaser.core.migration_config import MigrationSettings
from releaser.migrations.graph import Graph, Key, Migration, build
from releaser.migrations.pysource import Source
from releaser.migrations.reader import MigrationReader

FRAMEWORK = "flyway"
APP = "flyway"
_NAME = re.compile(r"^(?P<prefix>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<description>.*)\.sql$")
_REPEATABLE = re.compile(r"^R__.*\.sql$")
_SQL_MARK = re.compile(r"['\"]|--|/\*|\s+")  # where a string, a comment or whitespace starts


def version_key(text: str) -> tuple[int, ...]:
    """`1_2.0` -> (1, 2): the parts as numbers, trailing zeros dropped, as Flyway orders and equates them."""
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def version_name(key: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in key)


def sql_digest(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape")
    kept = "".join(_without_noise(text))
    return "sha256:" + hashlib.sha256(kept.encode("utf-8", "surrogateescape")).hexdigest()


def _without_noise(text: str) -> Iterator[str]:
    """`text` in pieces, without comments and whitespace, quoted strings kept whole.

    One pass, keeping what the digest has always been (the regex
    `('(?:[^']|'')*'|"(?:[^"]|"")*")|--[^\\n]*|/\\*.*?\\*/|\\s+`, DOTALL, removing all
    but the strings), without its cost: it searched for `*/` from every `/*`, quadratic
    on a file of unterminated `/*`.
    """
    last_close = text.rfind("*/")  # a `/*` at i closes only if a `*/` starts at i + 2 or later
    i = 0
    while (found := _SQL_MARK.search(text, i)) is not None:
        at, mark = found.start(), found.group()
        yield text[i:at]
        i = found.end()
        if mark in ("'", '"'):
            end = _quoted_end(text, at)
            yield text[at:end] if end else mark
            i = end or i
        elif mark == "--":
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline
        elif mark == "/*":
            if at + 2 <= last_close:
                i = text.find("*/", i) + 2
            else:
                yield "/"
                i = at + 1
    yield text[i:]


def _quoted_end(text: str, start: int) -> int:
    """Where the string opened at `start` ends (doubled quotes inside), as the regex matched it: 0 for none.

    Unterminated, the regex backtracked to the last doubled quote, closing the string on its first half.
    """
    quote, i, last_pair = text[start], start + 1, 0
    while True:
        at = text.find(quote, i)
        if at < 0:
            return last_pair
        if text.startswith(quote, at + 1):
            last_pair, i = at + 1, at + 2
            continue
        return at + 1


def read(settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
    warnings: list[str] = []
    versioned: dict[tuple[int, ...], Source] = {}
    undo: set[tuple[int, ...]] = set()
    duplicates: dict[Key, tuple[str, ...]] = {}
    for _directory, files in sorted(dirs.items()):
        for source in files:
            if not source.filename.endswith(".sql") or _REPEATABLE.match(source.filename):
                continue
            match = _NAME.match(source.filename)
            if not match:
                warnings.append(f"{source.path}: not a Flyway migration name (V<version>__<description>.sql); left out")
                continue
            key = version_key(match.group("version"))
            if match.group("prefix") == "U":
                undo.add(key)
            elif key in versioned:
                name = (APP, version_name(key))
                duplicates[name] = duplicates.get(name, (versioned[key].path,)) + (source.path,)
            else:
                versioned[key] = source
    nodes = []
    previous: Key | None = None
    for key in sorted(versioned):
        source = versioned[key]
        name = (APP, version_name(key))
        nodes.append(Migration(APP, name[1], source.path, (previous,) if previous else (), sql_digest(source.data), key in undo))
        previous = name
    return build(FRAMEWORK, nodes, warnings=warnings, duplicates=duplicates)


class FlywayReader(MigrationReader):
    framework = "flyway"
    recursive = True  # Flyway scans its locations recursively

    def read(self, settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
        return read(settings, dirs)


READER = FlywayReader()
