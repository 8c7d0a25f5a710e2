"""Maven's version ordering and version ranges, as Maven itself applies them.

`MavenVersion` follows `org.apache.maven.artifact.versioning.ComparableVersion`
(the Maven 3 algorithm): a version splits at `.` and `-` and at every switch
between digits and letters; numbers compare numerically; the qualifiers
alpha < beta < milestone < rc (= cr) < snapshot < "" (= ga = final = release) < sp,
any other qualifier sorting after those, alphabetically; `a1`, `b1`, `m1` are
alpha-1, beta-1, milestone-1; trailing zeros and empty qualifiers are dropped,
so 1 = 1.0 = 1.0.0 = 1-ga. `VersionRange` follows `VersionRange.createFromVersionSpec`:
`[1.0,2.0)`, `(,1.0]`, `[1.2]`, `[1.5,)` and unions such as `[1,2),[3,4)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Union

SNAPSHOT = "SNAPSHOT"
_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))


def _qualifier_key(value: str) -> str:
    """ComparableVersion's comparableQualifier: known ones by index, others after them."""
    try:
        return str(_QUALIFIERS.index(value))
    except ValueError:
        return f"{len(_QUALIFIERS)}-{value}"


def _cmp(a: object, b: object) -> int:
    return int((a > b) - (a < b))  # type: ignore[operator]


class _Int:
    __slots__ = ("value",)

    def __init__(self, text: str) -> None:
        self.value = int(text)

    def is_null(self) -> bool:
        return self.value == 0

    def compare(self, other: _Item | None) -> int:
        if other is None:
            return 0 if self.value == 0 else 1  # 1.0 == 1, 1.1 > 1
        if isinstance(other, _Int):
            return _cmp(self.value, other.value)
        return 1  # 1.1 > 1-sp, 1.1 > 1-1

    def __repr__(self) -> str:
        return str(self.value)


class _Str:
    __slots__ = ("value",)

    def __init__(self, text: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(text) == 1:
            text = {"a": "alpha", "b": "beta", "m": "milestone"}.get(text, text)
        self.value = _ALIASES.get(text, text)

    def is_null(self) -> bool:
        return _qualifier_key(self.value) == _RELEASE_INDEX

    def compare(self, other: _Item | None) -> int:
        if other is None:
            return _cmp(_qualifier_key(self.value), _RELEASE_INDEX)  # 1-rc < 1, 1-sp > 1
        if isinstance(other, _Str):
            return _cmp(_qualifier_key(self.value), _qualifier_key(other.value))
        return -1  # 1.any < 1.1, 1.any < 1-1

    def __repr__(self) -> str:
        return repr(self.value)


class _List(list):  # type: ignore[type-arg]
    def is_null(self) -> bool:
        return len(self) == 0

    def normalize(self) -> None:
        """Drop trailing null items (0, "", empty lists) up to the last non-list item."""
        for i in range(len(self) - 1, -1, -1):
            item = self[i]
            if item.is_null():
                del self[i]
            elif not isinstance(item, _List):
                break

    def compare(self, other: _Item | None) -> int:
        if other is None:
            return 0 if not self else self[0].compare(None)
        if isinstance(other, _Int):
            return -1  # 1-1 < 1.0.x
        if isinstance(other, _Str):
            return 1  # 1-1 > 1-sp
        for i in range(max(len(self), len(other))):
            left = self[i] if i < len(self) else None
            right = other[i] if i < len(other) else None
            if left is None:
                result = 0 if right is None else -right.compare(None)
            else:
                result = left.compare(right)
            if result:
                return result
        return 0


_Item = Union[_Int, _Str, _List]


def _parse(version: str) -> _List:
    text = version.lower()
    items = current = _List()
    stack = [current]
    is_digit = False
    start = 0

    def item(digit: bool, buf: str) -> _Item:
        return _Int(buf) if digit else _Str(buf, False)

    def descend(last: _Item) -> None:
        """Append `last`, then continue in a new sub-list (after `-` and at digit/letter switches)."""
        nonlocal current
        nested = _List()
        current.extend((last, nested))
        current = nested
        stack.append(current)

    for i, c in enumerate(text):
        if c == ".":
            current.append(_Int("0") if i == start else item(is_digit, text[start:i]))
            start = i + 1
        elif c == "-":
            descend(_Int("0") if i == start else item(is_digit, text[start:i]))
            start = i + 1
        elif c.isdigit() and c.isascii():
            if not is_digit and i > start:
                descend(_Str(text[start:i], True))
                start = i
            is_digit = True
        else:
            if is_digit and i > start:
                descend(_Int(text[start:i]))
                start = i
            is_digit = False
    if len(text) > start:
        current.append(item(is_digit, text[start:]))
    while stack:
        stack.pop().normalize()
    return items


@functools.total_ordering
class MavenVersion:
    """A version string ordered as Maven orders it; equal when Maven deems them equal."""

    __slots__ = ("text", "_items")

    def __init__(self, text: str) -> None:
        self.text = text
        self._items = _parse(text)

    @property
    def is_snapshot(self) -> bool:
        return self.text.endswith("-" + SNAPSHOT) or self.text == SNAPSHOT

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenVersion) and self._items.compare(other._items) == 0

    def __lt__(self, other: MavenVersion) -> bool:
        return self._items.compare(other._items) < 0

    def __hash__(self) -> int:
        return hash(repr(self._items))

    def __repr__(self) -> str:
        return f"MavenVersion({self.text!r})"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class _Restriction:
    lower: MavenVersion | None
    lower_inclusive: bool
    upper: MavenVersion | None
    upper_inclusive: bool

    def contains(self, version: MavenVersion) -> bool:
        if self.lower is not None:
            if version < self.lower or (version == self.lower and not self.lower_inclusive):
                return False
        if self.upper is not None:
            if version > self.upper or (version == self.upper and not self.upper_inclusive):
                return False
        return True

    def meet(self, other: _Restriction) -> _Restriction | None:
        """The versions both allow, or None when they share none (`Restriction.intersection`)."""
        lower, lower_inclusive = self.lower, self.lower_inclusive
        if other.lower is not None and (lower is None or other.lower > lower):
            lower, lower_inclusive = other.lower, other.lower_inclusive
        elif other.lower is not None and other.lower == lower:
            lower_inclusive = lower_inclusive and other.lower_inclusive
        upper, upper_inclusive = self.upper, self.upper_inclusive
        if other.upper is not None and (upper is None or other.upper < upper):
            upper, upper_inclusive = other.upper, other.upper_inclusive
        elif other.upper is not None and other.upper == upper:
            upper_inclusive = upper_inclusive and other.upper_inclusive
        if lower is not None and upper is not None:
            if upper < lower or (lower == upper and not (lower_inclusive and upper_inclusive)):
                return None
        return _Restriction(lower, lower_inclusive, upper, upper_inclusive)

    def __str__(self) -> str:
        if self.lower is not None and self.lower == self.upper:
            return f"[{self.lower}]"
        return f"{'[' if self.lower_inclusive else '('}{self.lower or ''},{self.upper or ''}{']' if self.upper_inclusive else ')'}"


class VersionRange:
    """A Maven version range; `VersionRange.parse` raises ValueError for a malformed one."""

    def __init__(self, spec: str, restrictions: tuple[_Restriction, ...]) -> None:
        self.spec = spec
        self.restrictions = restrictions

    @staticmethod
    def is_range(spec: str) -> bool:
        return spec[:1] in ("[", "(")

    @classmethod
    def parse(cls, spec: str) -> VersionRange:
        rest = spec.strip()
        restrictions: list[_Restriction] = []
        while rest.startswith(("[", "(")):
            ends = [i for i in (rest.find("]"), rest.find(")")) if i >= 0]
            if not ends:
                raise ValueError(f"unbounded range {spec!r}")
            end = min(ends)
            restrictions.append(cls._restriction(rest[: end + 1], spec))
            rest = rest[end + 1 :].strip()
            if rest.startswith(","):
                rest = rest[1:].strip()
                if not rest:
                    raise ValueError(f"range {spec!r} ends with a comma")
        if rest or not restrictions:
            raise ValueError(f"{spec!r} is not a version range")
        for before, after in zip(restrictions, restrictions[1:]):
            if before.upper is None or after.lower is None or after.lower < before.upper:
                raise ValueError(f"ranges overlap in {spec!r}")
        return cls(spec, tuple(restrictions))

    @staticmethod
    def _restriction(text: str, spec: str) -> _Restriction:
        lower_inclusive, upper_inclusive = text[0] == "[", text[-1] == "]"
        inner = text[1:-1]
        if "," not in inner:
            if not (lower_inclusive and upper_inclusive) or not inner.strip():
                raise ValueError(f"single version must be written [v] in {spec!r}")
            exact = MavenVersion(inner.strip())
            return _Restriction(exact, True, exact, True)
        low_text, _, high_text = inner.partition(",")
        if "," in high_text:
            raise ValueError(f"a restriction has more than two bounds in {spec!r}")
        low = MavenVersion(low_text.strip()) if low_text.strip() else None
        high = MavenVersion(high_text.strip()) if high_text.strip() else None
        if low is not None and high is not None and high < low:
            raise ValueError(f"upper bound is below lower bound in {spec!r}")
        if low is not None and high is not None and low == high and not (lower_inclusive and upper_inclusive):
            raise ValueError(f"empty range {spec!r}")
        return _Restriction(low, lower_inclusive, high, upper_inclusive)

    def contains(self, version: MavenVersion) -> bool:
        return any(r.contains(version) for r in self.restrictions)

    def intersect(self, other: VersionRange) -> VersionRange | None:
        """The range of the versions both allow (its spec written out), or None when they share none."""
        met = [m for a in self.restrictions for b in other.restrictions if (m := a.meet(b)) is not None]
        if not met:
            return None
        return VersionRange(",".join(map(str, met)), tuple(met))

    def newest(self, versions: list[str]) -> list[str]:
        """The versions this range allows, never a SNAPSHOT, newest first."""
        allowed = [v for v in map(MavenVersion, versions) if not v.is_snapshot and self.contains(v)]
        return [v.text for v in sorted(allowed, reverse=True)]

    def __str__(self) -> str:
        return self.spec


def newest_first(versions: list[str], *, releases_only: bool) -> list[str]:
    """`versions` sorted as Maven sorts them, newest first, snapshots dropped if asked."""
    parsed = [MavenVersion(v) for v in dict.fromkeys(versions)]
    if releases_only:
        parsed = [v for v in parsed if not v.is_snapshot]
    return [v.text for v in sorted(parsed, reverse=True)]
