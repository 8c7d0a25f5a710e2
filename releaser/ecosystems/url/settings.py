"""release.toml's `[[artifact]]` tables: a file at a URL, pinned by its sha256."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from releaser.core.config import ConfigReader, KindInputs

KIND = "artifact"


@dataclass(frozen=True)
class UrlInput:
    name: str
    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class UrlArtifacts(KindInputs):
    items: tuple[UrlInput, ...]

    def urls(self) -> tuple[str, ...]:
        return tuple(a.url for a in self.items)


def parse(r: ConfigReader, data: dict[str, Any]) -> UrlArtifacts | None:
    items = r.unique(_table(r, t, i) for i, t in enumerate(r._array(data, KIND)))
    return UrlArtifacts(items) if items else None


def _table(r: ConfigReader, t: dict[str, Any], i: int) -> UrlInput:
    where, section = f"[[artifact]] #{i + 1}", (KIND, i)
    r._no_unknown(t, {"name", "url", "sha256"}, where, KIND, i)
    name = r.name(t, where, section)
    url = r.url(r._get(t, "url", str, where, section), where, "url", section)
    sha = r._get(t, "sha256", str, where, section, default=None)
    if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", sha):
        r._fail(where, "sha256", "must be 64 lowercase hex digits", section)
    return UrlInput(name, url, sha)
