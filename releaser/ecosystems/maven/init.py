"""pom.xml, for `releaser init`: the project's name and version, its repositories and dependencies.

Read with defusedxml (no entity tricks), statically: `${property}` and
`${project.version}` are expanded from the POM itself, the reactor's `<modules>`
are read too and are not dependencies of it. A dependency without a version
(managed by a parent or a BOM) cannot be written as a coordinate: it is named in
the notes instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
_PROPERTY = re.compile(r"\$\{([^}]+)\}")
_SKIPPED_SCOPES = {"system", "import"}


@dataclass
class Poms:
    """What the project's POMs say; `notes` name what was left out."""

    paths: list[str] = field(default_factory=list)
    name: str | None = None  # the top POM's artifactId
    version: str | None = None
    repositories: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)  # group:artifact[:ext[:classifier]]:version
    notes: list[str] = field(default_factory=list)


def read_poms(root: Path) -> Poms:
    found = Poms()
    top = root / "pom.xml"
    if not top.is_file():
        return found
    poms: list[tuple[Path, Any]] = []
    queue = [top]
    while queue:
        path = queue.pop(0)
        pom = _parse(path, found)
        if pom is None or path in [p for p, _ in poms]:
            continue
        poms.append((path, pom))
        queue += [path.parent / m / "pom.xml" for m in _texts(pom, "modules/module") if (path.parent / m / "pom.xml").is_file()]
    if not poms:
        return found
    first = poms[0][1]
    found.name = _text(first, "artifactId")
    found.version = _text(first, "version") or _text(first, "parent/version")
    reactor = {f"{_group(p)}:{_text(p, 'artifactId')}" for _, p in poms}
    seen: dict[str, str] = {}
    for path, pom in poms:
        rel = path.relative_to(root).as_posix()
        found.paths.append(rel)
        props = _properties(pom)
        for url in _texts(pom, "repositories/repository/url"):
            url = _expand(url, props)
            if url.startswith(("http://", "https://")) and url not in found.repositories:
                found.repositories.append(url)
        for dep in pom.findall(_path(pom, "dependencies/dependency")):
            coordinate = _coordinate(dep, props, reactor, rel, found)
            if coordinate is not None:
                seen.setdefault(coordinate.rsplit(":", 1)[0], coordinate)
    found.dependencies = sorted(seen.values())
    found.repositories = found.repositories or [MAVEN_CENTRAL]
    return found


def _coordinate(dep: Any, props: dict[str, str], reactor: set[str], rel: str, found: Poms) -> str | None:
    from releaser.ecosystems.maven.coordinate import MavenCoordinate

    def get(tag: str) -> str:
        return _expand(_text(dep, tag) or "", props)

    group, artifact, version = get("groupId"), get("artifactId"), get("version")
    if f"{group}:{artifact}" in reactor or get("scope") in _SKIPPED_SCOPES:
        return None
    if not version:
        found.notes.append(f"{rel}: {group}:{artifact} has no version here (managed elsewhere): left out")
        return None
    extension, classifier = get("type") or "jar", get("classifier")
    parts = [group, artifact, *([extension, classifier] if classifier else [extension] if extension != "jar" else []), version]
    text = ":".join(parts)
    try:
        MavenCoordinate.parse(text)
    except ValueError as exc:
        found.notes.append(f"{rel}: left out: {exc}")
        return None
    return text


def _parse(path: Path, found: Poms) -> Any:
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        return ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, DefusedXmlException, OSError) as exc:
        found.notes.append(f"{path.name}: not read ({exc})")
        return None


def _path(element: Any, path: str) -> str:
    """`path` in the POM's namespace (a POM may have one or none)."""
    match = re.match(r"\{([^}]*)\}", element.tag)
    ns = match.group(1) if match else ""
    return "/".join(f"{{{ns}}}{part}" if ns else part for part in path.split("/"))


def _text(element: Any, path: str) -> str | None:
    node = element.find(_path(element, path))
    return node.text.strip() if node is not None and node.text else None


def _texts(element: Any, path: str) -> list[str]:
    return [n.text.strip() for n in element.findall(_path(element, path)) if n.text and n.text.strip()]


def _group(pom: Any) -> str:
    return _text(pom, "groupId") or _text(pom, "parent/groupId") or ""


def _properties(pom: Any) -> dict[str, str]:
    props = {"project.version": _text(pom, "version") or _text(pom, "parent/version") or "", "project.groupId": _group(pom)}
    node = pom.find(_path(pom, "properties"))
    for child in list(node) if node is not None else []:
        props[child.tag.rpartition("}")[2]] = (child.text or "").strip()
    return props


def _expand(text: str, props: dict[str, str]) -> str:
    for _ in range(5):  # properties that name properties, a few levels deep
        new = _PROPERTY.sub(lambda m: props.get(m.group(1), m.group(0)), text)
        if new == text:
            break
        text = new
    return text
