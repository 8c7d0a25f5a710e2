"""A fast reader for the TOML that `releaser lock` writes, so `releaser check` stays fast.

tomllib is pure Python and reads about 60,000 key/value pairs a second; a lock of a
thousand pins holds over ten thousand, which made parsing the largest cost of
`releaser check`. release.lock is written by tomli_w in a small, regular subset of
TOML: one `key = value` per line, `[table]` and `[[array]]` headers, basic strings,
integers, booleans, offset date-times and one-value-a-line arrays. This module reads
exactly that subset, about five times faster, and returns None for anything else (a
literal string, an inline table, a dotted key, a comment after a value, a redefined
table...), in which case the caller parses with tomllib, so a hand-edited lock is
read, or refused, exactly as tomllib would. When it returns a document, it is the
one tomllib would return (tests/test_fasttoml.py holds it to that).
"""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

_BASIC = r'"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[btnfr"\\]|\\u[0-9A-Fa-f]{4})*"'
_KEY = rf"(?:[A-Za-z0-9_-]+|{_BASIC})"
_VALUE = (
    rf"(?P<str>{_BASIC})"
    r"|(?P<int>-?(?:0|[1-9][0-9]*))"
    r"|(?P<bool>true|false)"
    r"|(?P<dt>(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:(Z)|([+-])(\d{2}):(\d{2})))"
    r"|(?P<empty>\[\])"
    r"|(?P<open>\[)"
)
_LINE = re.compile(
    rf"(?:(?P<aot>\[\[(?P<aot_key>{_KEY}(?:\.{_KEY})*)\]\])"
    rf"|(?P<table>\[(?P<table_key>{_KEY}(?:\.{_KEY})*)\])"
    rf"|(?P<key>{_KEY}) = (?:{_VALUE}))"
)
_ITEM = re.compile(rf"    (?:(?P<str>{_BASIC})|(?P<int>-?(?:0|[1-9][0-9]*))|(?P<bool>true|false)),")
_PART = re.compile(_KEY)
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_BAD_COMMENT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class _Unsupported(Exception):
    """Outside the subset: let tomllib decide."""


def loads(text: str) -> dict[str, Any] | None:
    """The document in `text`, or None when it is not in the subset this reads."""
    try:
        return _Reader().read(text)
    except _Unsupported:
        return None


class _Reader:
    def __init__(self) -> None:
        self.root: dict[str, Any] = {}
        self.defined: set[int] = set()  # ids of tables opened by a header (or the root)
        self.arrays: set[int] = set()  # ids of arrays of tables made by [[headers]]
        self.fixed: set[int] = set()  # ids of tables and arrays made by key = value: never extended

    def read(self, text: str) -> dict[str, Any]:
        current = self.root
        lines = iter(text.split("\n"))
        for line in lines:
            if not line or line.startswith("#"):
                if _BAD_COMMENT.search(line):
                    raise _Unsupported  # tomllib refuses control characters in comments
                continue
            m = _LINE.fullmatch(line)
            if m is None:
                raise _Unsupported
            if m["aot"]:
                current = self._array_item(_keys(m["aot_key"]))
            elif m["table"]:
                current = self._table(_keys(m["table_key"]))
            else:
                key = _key(m["key"])
                if key in current:
                    raise _Unsupported  # tomllib refuses a duplicate key: let it say so
                if m["open"]:
                    value = self._array(lines)
                elif m["empty"]:
                    value = []
                    self.fixed.add(id(value))
                else:
                    value = _scalar(m)
                current[key] = value
        return self.root

    def _descend(self, keys: list[str]) -> dict[str, Any]:
        """The table holding the last key of a header, creating implicit tables on the way."""
        table = self.root
        for key in keys:
            if key not in table:
                table[key] = {}
            found = table[key]
            if isinstance(found, list):
                if id(found) not in self.arrays or not found:
                    raise _Unsupported
                found = found[-1]
            if not isinstance(found, dict) or id(found) in self.fixed:
                raise _Unsupported
            table = found
        return table

    def _table(self, keys: list[str]) -> dict[str, Any]:
        parent = self._descend(keys[:-1])
        last = keys[-1]
        if last in parent:
            table = parent[last]
            if not isinstance(table, dict) or id(table) in self.defined or id(table) in self.fixed:
                raise _Unsupported
        else:
            table = parent[last] = {}
        self.defined.add(id(table))
        return table

    def _array_item(self, keys: list[str]) -> dict[str, Any]:
        parent = self._descend(keys[:-1])
        last = keys[-1]
        if last not in parent:
            parent[last] = []
            self.arrays.add(id(parent[last]))
        array = parent[last]
        if not isinstance(array, list) or id(array) not in self.arrays:
            raise _Unsupported
        item: dict[str, Any] = {}
        array.append(item)
        self.defined.add(id(item))
        return item

    def _array(self, lines: Any) -> list[Any]:
        values: list[Any] = []
        for line in lines:
            if line == "]":
                self.fixed.add(id(values))
                return values
            m = _ITEM.fullmatch(line)
            if m is None:
                raise _Unsupported
            values.append(_scalar(m))
        raise _Unsupported  # unterminated


def _keys(dotted: str) -> list[str]:
    return [_key(part) for part in _PART.findall(dotted)]


def _key(text: str) -> str:
    return _string(text) if text.startswith('"') else text


def _string(text: str) -> str:
    if "\\" not in text:
        return text[1:-1]  # the pattern already refused quotes and control characters inside
    if "\\u" in text and _SURROGATE.search(text):
        raise _Unsupported  # TOML forbids surrogate escapes; JSON would take them
    try:
        return json.loads(text.replace("\t", "\\t"))  # TOML allows a raw tab, JSON does not
    except ValueError:
        raise _Unsupported from None


def _scalar(m: re.Match[str]) -> Any:
    if m["str"] is not None:
        return _string(m["str"])
    if m["int"] is not None:
        return int(m["int"])
    if m["bool"] is not None:
        return m["bool"] == "true"
    return _datetime(m)


@functools.lru_cache(maxsize=None)
def _zone(sign: str, hours: str, minutes: str) -> timezone:
    factor = 1 if sign == "+" else -1
    return timezone(timedelta(hours=factor * int(hours), minutes=factor * int(minutes)))


def _datetime(m: re.Match[str]) -> datetime:
    start = m.re.groupindex["dt"]  # the 11 groups after "dt" are its parts
    year, month, day, hour, minute, second, fraction, zulu, sign, tz_hour, tz_minute = m.groups()[start : start + 11]
    tz = timezone.utc if zulu else _zone(sign, tz_hour, tz_minute)
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tzinfo=tz)
    except ValueError:
        raise _Unsupported from None  # e.g. February 30th: tomllib words the error
