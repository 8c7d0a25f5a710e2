"""release.toml's `[[maven]]` tables: a repository, and the dependencies (or a project's POM) to pin from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releaser.core.config import ConfigReader, KindInputs
from releaser.ecosystems.maven.coordinate import MavenCoordinate

KIND = "maven"
MAVEN_SCOPES = ("compile", "runtime", "provided", "test")  # system: a file on disk, not in a repository


@dataclass(frozen=True)
class MavenInputs:
    repository: str
    dependencies: tuple[MavenCoordinate, ...]
    pom: Path | None = None  # a Maven project whose dependencies (and its modules') are inputs
    scopes: tuple[str, ...] = ("compile", "runtime")  # of the project's dependencies, pinned


@dataclass(frozen=True)
class MavenTables(KindInputs):
    """Every `[[maven]]` table, in order: one source pins them all."""

    blocks: tuple[MavenInputs, ...]

    def urls(self) -> tuple[str, ...]:
        return tuple(b.repository for b in self.blocks)


def parse(r: ConfigReader, data: dict[str, Any]) -> MavenTables | None:
    blocks = tuple(_table(r, t, i) for i, t in enumerate(r._array(data, KIND)))
    return MavenTables(blocks) if blocks else None


def _table(r: ConfigReader, t: dict[str, Any], i: int) -> MavenInputs:
    where, section = f"[[maven]] #{i + 1}", (KIND, i)
    r._no_unknown(t, {"repository", "dependencies", "pom", "scopes"}, where, KIND, i)
    repo = r.url(r._get(t, "repository", str, where, section), where, "repository", section)
    pom = r.relative_path(t, "pom", "", where, section) if "pom" in t else None
    if pom is not None and not (r.path.parent / pom).is_file():
        r._fail(where, "pom", f"{pom} does not exist", section)
    scopes = tuple(r._strings(t, "scopes", where, section)) or ("compile", "runtime")
    if "scopes" in t and pom is None:
        r._fail(where, "scopes", "applies to a Maven project's dependencies: set pom = \"path/pom.xml\"", section)
    for scope in scopes:
        if scope not in MAVEN_SCOPES:
            r._fail(where, "scopes", f"{scope!r} is not one of {', '.join(MAVEN_SCOPES)}", section)
    coords = []
    for text in r._strings(t, "dependencies", where, section):
        try:
            coords.append(MavenCoordinate.parse(text))
        except ValueError as exc:
            r._fail(where, "dependencies", str(exc), section)
    return MavenInputs(repo, tuple(coords), r.path.parent / pom if pom else None, scopes)
