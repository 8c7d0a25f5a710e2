"""A TOML document's tables read with types checked, every error naming file, key and line.

`release.toml`'s parser (`releaser.core.config`) and `[migrations]`
(`releaser.core.migration_config`) read through it, so that a wrong type or an unknown
key is the same one line (a ConfigError, exit 2) wherever it is.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeVar, cast, overload

from releaser.core.errors import ConfigError

T = TypeVar("T")


class TableReader:
    """Typed getters over a parsed TOML document, with the text kept to find each key's line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    @overload
    def _table(self, data: dict[str, Any], key: str, *, required: Literal[True]) -> dict[str, Any]: ...
    @overload
    def _table(self, data: dict[str, Any], key: str, *, required: bool) -> dict[str, Any] | None: ...

    def _table(self, data: dict[str, Any], key: str, *, required: bool) -> dict[str, Any] | None:
        if key not in data:
            if required:
                self._fail(f"[{key}]", None, "is missing", None)
            return None
        value = data[key]
        if not isinstance(value, dict):
            self._fail(f"[{key}]", None, f"must be a table, not {_kind(value)}", None)
        return value

    def _array(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self._fail(f"[[{key}]]", None, f"must be an array of tables ([[{key}]])", None)
        return value

    def _get(self, t: dict[str, Any], key: str, kind: type[T], where: str, section: Any, default: Any = ...) -> T:
        if key not in t:
            if default is ...:
                self._fail(where, key, "is required", section)
            return cast(T, default)
        value = t[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self._fail(where, key, f"must be {_kind_name(kind)}, not {_kind(value)}", section)
        return value

    def _strings(self, t: dict[str, Any], key: str, where: str, section: Any) -> list[str]:
        value = self._get(t, key, list, where, section, default=[])
        if not all(isinstance(v, str) for v in value):
            self._fail(where, key, "must be a list of strings", section)
        return value

    def _argv(self, value: Any, where: str, key: str, section: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._fail(where, key, "must be a command as a list of strings", section)
        return tuple(value)

    def _no_unknown(self, t: dict[str, Any], allowed: set[str], where: str, section: Any, index: int | None = None) -> None:
        for key in t:
            if key not in allowed:
                sect = section if index is None else (section, index)
                label = where or "top level"
                self._fail(label, key, f"unknown key (expected one of: {', '.join(sorted(allowed))})", sect)

    def _fail(self, where: str, key: str | None, message: str, section: Any) -> NoReturn:
        raise ConfigError(self._message(where, key, message, section))

    def _message(self, where: str, key: str | None, message: str, section: Any) -> str:
        line = self._line_of(section, key)
        place = f"{self.path}" + (f":{line}" if line else "")
        name = f"{where} {key}" if key else where
        return f"{place}: {name.strip()}: {message}"

    def _line_of(self, section: Any, key: str | None) -> int | None:
        """Best-effort line of `key` in `section` (a table name, or (array name, index))."""
        start, end = 0, len(self.lines)
        if section is not None:
            name, nth = (section, 0) if isinstance(section, str) else section
            header = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?\s*(#.*)?$")
            hits = [i for i, line in enumerate(self.lines) if header.match(line)]
            if nth >= len(hits):
                return None
            start = hits[nth]
            if key is None:
                return start + 1
            nxt = [i for i, line in enumerate(self.lines) if i > start and line.lstrip().startswith("[")]
            end = nxt[0] if nxt else end
        if key is None:
            return None
        # A key, or (for an unknown top-level table) a table header of that name.
        pattern = re.compile(rf"^\s*(\[\[?\s*)?[\"']?{re.escape(key)}[\"']?\s*(=|\]\]?)")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return None


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a float", str: "a string", list: "an array", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _kind_name(kind: type) -> str:
    return {bool: "true or false", str: "a string", list: "an array", dict: "a table"}.get(kind, kind.__name__)
