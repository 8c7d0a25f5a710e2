"""A POM file as written: the parts of a Maven project model that decide its dependencies.

Only what resolution needs is read: coordinates, packaging, `<parent>`, `<properties>`,
`<dependencies>`, `<dependencyManagement>`, `<modules>` and a relocation
(`<distributionManagement><relocation>`). Values are kept as written, `${...}`
included; `maven_model` builds the effective model from them. Profiles are not
read. XML is parsed only with defusedxml: a POM that declares entities (the
"billion laughs") or reaches for external ones is refused, never expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from releaser.core.errors import UpstreamError
from releaser.ecosystems.maven.metadata import xml_root

MAX_POM_BYTES = 4 << 20  # a POM is a few kB; anything this large is not one


class PomError(UpstreamError):
    """A POM that cannot be used: not XML, hostile XML, a missing parent, a cycle, an unknown property."""


@dataclass(frozen=True)
class Declared:
    """One `<dependency>` as written (values may still hold `${...}`)."""

    group: str
    artifact: str
    version: str = ""
    type: str = ""  # "" means jar
    classifier: str = ""
    scope: str = ""  # "" means compile
    optional: str = ""  # "true" or "false" as written
    exclusions: tuple[tuple[str, str], ...] = ()  # (group, artifact), either may be "*"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Maven's management key: group, artifact, type, classifier."""
        return (self.group, self.artifact, self.type or "jar", self.classifier)


@dataclass(frozen=True)
class ParentRef:
    group: str
    artifact: str
    version: str
    relative_path: str | None  # None: not written (Maven's default ../pom.xml); "": no local parent


@dataclass(frozen=True)
class Pom:
    """One POM file as written; `where` names it in every error (a path or a URL)."""

    where: str
    group: str
    artifact: str
    version: str
    packaging: str
    parent: ParentRef | None
    properties: tuple[tuple[str, str], ...]
    dependencies: tuple[Declared, ...]
    managed: tuple[Declared, ...]
    modules: tuple[str, ...]
    relocation: tuple[str, str, str] | None  # (group, artifact, version), "" for unchanged parts


def parse_pom(data: bytes, where: str) -> Pom:
    """The POM in `data`; PomError naming `where` for anything that is not a usable POM."""
    if len(data) > MAX_POM_BYTES:
        raise PomError(f"{where}: not a POM ({len(data)} bytes)")
    root = xml_root(data, PomError, hostile=f"{where}: refused hostile XML", broken=f"{where}: not XML")
    if root.tag != "project":
        raise PomError(f"{where}: not a POM (root element <{root.tag}>)")
    parent = root.find("parent")
    relocation = root.find("distributionManagement/relocation")
    return Pom(
        where=where,
        group=_text(root, "groupId"),
        artifact=_text(root, "artifactId"),
        version=_text(root, "version"),
        packaging=_text(root, "packaging") or "jar",
        parent=_parent(parent, where) if parent is not None else None,
        properties=tuple(
            (child.tag, (child.text or "").strip())
            for props in root.findall("properties")
            for child in props
            if isinstance(child.tag, str)
        ),
        dependencies=_dependencies(root.find("dependencies"), where),
        managed=_dependencies(root.find("dependencyManagement/dependencies"), where),
        modules=tuple(t for m in root.findall("modules/module") if (t := (m.text or "").strip())),
        relocation=(
            (_text(relocation, "groupId"), _text(relocation, "artifactId"), _text(relocation, "version"))
            if relocation is not None
            else None
        ),
    )


def _parent(element: Any, where: str) -> ParentRef:
    ref = ParentRef(
        _text(element, "groupId"),
        _text(element, "artifactId"),
        _text(element, "version"),
        _text(element, "relativePath") if element.find("relativePath") is not None else None,
    )
    if not (ref.group and ref.artifact and ref.version):
        raise PomError(f"{where}: <parent> needs groupId, artifactId and version")
    return ref


def _dependencies(element: Any, where: str) -> tuple[Declared, ...]:
    if element is None:
        return ()
    found = []
    for dep in element.findall("dependency"):
        declared = Declared(
            group=_text(dep, "groupId"),
            artifact=_text(dep, "artifactId"),
            version=_text(dep, "version"),
            type=_text(dep, "type"),
            classifier=_text(dep, "classifier"),
            scope=_text(dep, "scope"),
            optional=_text(dep, "optional"),
            exclusions=tuple((_text(e, "groupId") or "*", _text(e, "artifactId") or "*") for e in dep.findall("exclusions/exclusion")),
        )
        if not declared.group or not declared.artifact:
            raise PomError(f"{where}: a <dependency> needs groupId and artifactId")
        found.append(declared)
    return tuple(found)


def _text(element: Any, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""
