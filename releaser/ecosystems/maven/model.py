"""The effective model of a POM, as Maven's model builder makes it, for dependencies.

In Maven's order: the parent chain is read (a local project's parent from
`relativePath`, default `../pom.xml`, when that file is the parent named; else from
the repository); the child inherits groupId, version, properties, dependencies and
dependencyManagement (the child's entries win, matched by groupId, artifactId,
type and classifier); then every `${...}` is interpolated against the merged
properties and the child's own coordinates (`project.*`, `pom.*`,
`project.parent.*`); then `import`-scope BOMs add the management entries the POM
does not have itself (first import wins); then management fills each dependency's
missing version, scope, optional flag and exclusions.

An unresolvable property, a missing parent, a cycle of parents or imports, a
dependency with no version: a PomError naming the POM (a ConfigError for a
local project's own files).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from releaser.core.errors import ConfigError, UpstreamMissing
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.pom import Declared, ParentRef, Pom, PomError, parse_pom

_EXPRESSION = re.compile(r"\$\{([^}]*)\}")
# A dependency's type -> (file extension, default classifier): Maven's stock artifact handlers.
TYPES = {
    "jar": ("jar", ""),
    "pom": ("pom", ""),
    "test-jar": ("jar", "tests"),
    "maven-plugin": ("jar", ""),
    "ejb": ("jar", ""),
    "ejb-client": ("jar", "client"),
    "java-source": ("jar", "sources"),
    "javadoc": ("jar", "javadoc"),
    "bundle": ("jar", ""),
}
MAX_LINEAGE = 32  # parents, imports and properties deep; real projects use a handful
MAX_VALUE = 64 << 10  # characters an expanded value may have; ids and versions are a few dozen


@dataclass(frozen=True)
class Dependency:
    """One dependency of an effective model: interpolated, managed, ready to resolve."""

    coordinate: MavenCoordinate  # version as declared: exact, -SNAPSHOT, a range, LATEST
    scope: str  # compile, runtime, provided, test, system, import
    optional: bool
    exclusions: frozenset[tuple[str, str]]

    def excludes(self, group: str, artifact: str) -> bool:
        return excluded(self.exclusions, group, artifact)


@dataclass(frozen=True)
class Model:
    where: str
    group: str
    artifact: str
    version: str
    dependencies: tuple[Dependency, ...]
    managed: Mapping[tuple[str, str, str, str], Dependency]  # by management key
    modules: tuple[str, ...]
    relocation: tuple[str, str, str] | None

    @property
    def name(self) -> str:
        return f"{self.group}:{self.artifact}"


def excluded(exclusions: frozenset[tuple[str, str]], group: str, artifact: str) -> bool:
    return any(g in ("*", group) and a in ("*", artifact) for g, a in exclusions)


# fetch(group, artifact, version, why) -> the POM from the repository, pinned by the caller
Fetch = Callable[[str, str, str, str], Pom]


class ModelBuilder:
    """Builds effective models; `fetch` reads (and pins) parents and BOMs from the repositories."""

    def __init__(self, fetch: Fetch, root: Path | None = None) -> None:
        self.fetch = fetch
        self.root = root.resolve() if root is not None else None

    def local(self, path: Path) -> Model:
        """The effective model of a POM file of the project (errors are bad input, exit 2)."""
        return self.build(read_local(path, self.root), path)

    def build(self, pom: Pom, path: Path | None = None, imports: tuple[str, ...] = ()) -> Model:
        lineage = self._lineage(pom, path, imports)
        child = lineage[0]
        group = child.group or (child.parent.group if child.parent else "")
        version = child.version or (child.parent.version if child.parent else "")
        properties: dict[str, str] = {}
        for ancestor in reversed(lineage):
            properties.update(ancestor.properties)
        own = {"groupId": group, "artifactId": child.artifact, "version": version, "packaging": child.packaging}
        for key, value in own.items():
            properties[f"project.{key}"] = properties[f"pom.{key}"] = value
            properties.setdefault(key, value)
        if child.parent is not None:
            for key, value in (("groupId", child.parent.group), ("artifactId", child.parent.artifact), ("version", child.parent.version)):
                properties[f"project.parent.{key}"] = properties[f"parent.{key}"] = value
        fail = ConfigError if path is not None else PomError  # the project's own POMs are input
        text = _Interpolator(properties, child.where, fail)
        dependencies = _inherit([p.dependencies for p in lineage])
        managed_raw = _inherit([p.managed for p in lineage])

        managed: dict[tuple[str, str, str, str], Dependency] = {}
        boms: list[Dependency] = []
        for declared in managed_raw:
            dep = self._dependency(declared, text, child.where, fail, need_version=True)
            if dep.scope == "import" and dep.coordinate.extension == "pom":
                boms.append(dep)
            else:
                managed.setdefault(_key(dep), dep)
        for bom in boms:
            coord = bom.coordinate
            ident = f"{coord.group}:{coord.artifact}"
            if ident in imports:
                raise fail(f"{child.where}: import cycle: {' -> '.join((*imports, ident))}")
            if len(imports) >= MAX_LINEAGE:
                raise fail(f"{child.where}: BOM imports nested more than {MAX_LINEAGE} deep, at {ident}; refused")
            try:
                bom_pom = self.fetch(coord.group, coord.artifact, coord.version, "import")
            except (PomError, UpstreamMissing) as exc:
                raise _error(path, f"{child.where}: import {ident}:{coord.version}: {exc}") from None
            imported = self.build(bom_pom, None, (*imports, ident))
            for managed_key, dep in imported.managed.items():
                managed.setdefault(managed_key, dep)

        effective = []
        for declared in dependencies:
            dep = self._dependency(declared, text, child.where, fail, need_version=False)
            effective.append(manage(dep, managed.get(_key(dep)), child.where, fail))
        relocation = child.relocation
        if relocation is not None:
            relocation = tuple(text(v, "relocation") for v in relocation)  # type: ignore[assignment]
        return Model(child.where, group, child.artifact, version, tuple(effective), managed, child.modules, relocation)

    # -- the parent chain ---------------------------------------------------

    def _lineage(self, pom: Pom, path: Path | None, imports: tuple[str, ...]) -> list[Pom]:
        lineage = [pom]
        seen = [f"{pom.group or (pom.parent.group if pom.parent else '')}:{pom.artifact}"]
        current, current_path = pom, path
        while current.parent is not None:
            ref = current.parent
            ident = f"{ref.group}:{ref.artifact}"
            if ident in seen:
                raise _error(current_path, f"{current.where}: parent cycle: {' -> '.join((*seen, ident))}")
            if len(seen) >= MAX_LINEAGE:
                raise _error(current_path, f"{current.where}: parent chain deeper than {MAX_LINEAGE} POMs, at {ident}; refused")
            seen.append(ident)
            found = local_parent(ref, current_path, self.root) if current_path is not None else None
            if found is not None:
                current, current_path = found
            else:
                try:
                    current = self.fetch(ref.group, ref.artifact, ref.version, "parent")
                except (PomError, UpstreamMissing) as exc:
                    raise _error(current_path, f"{current.where}: parent {ident}:{ref.version}: {exc}") from None
                current_path = None
            lineage.append(current)
        return lineage

    # -- one dependency -----------------------------------------------------

    def _dependency(
        self, declared: Declared, text: _Interpolator, where: str, fail: type[Exception], *, need_version: bool
    ) -> Dependency:
        group, artifact = text(declared.group, "groupId"), text(declared.artifact, "artifactId")
        version = text(declared.version, f"{group}:{artifact} version")
        kind = text(declared.type, f"{group}:{artifact} type") or "jar"
        extension, default_classifier = TYPES.get(kind, (kind, ""))
        classifier = text(declared.classifier, f"{group}:{artifact} classifier") or default_classifier
        if need_version and not version:
            raise fail(f"{where}: dependencyManagement entry {group}:{artifact} has no version")
        coordinate = _coordinate(group, artifact, version or "0", extension, classifier, where, fail)
        if not version:
            coordinate = replace(coordinate, version="")
        return Dependency(
            coordinate,
            text(declared.scope, f"{group}:{artifact} scope"),
            text(declared.optional, f"{group}:{artifact} optional") == "true",
            frozenset((text(g, "exclusion"), text(a, "exclusion")) for g, a in declared.exclusions),
        )


def manage(dep: Dependency, managed: Dependency | None, where: str, fail: type[Exception] = PomError) -> Dependency:
    """`dep` with what management gives it where it says nothing itself."""
    if managed is not None:
        coordinate = dep.coordinate if dep.coordinate.version else replace(dep.coordinate, version=managed.coordinate.version)
        dep = Dependency(coordinate, dep.scope or managed.scope, dep.optional or managed.optional, dep.exclusions or managed.exclusions)
    if not dep.coordinate.version:
        raise fail(f"{where}: dependency {dep.coordinate.group}:{dep.coordinate.artifact} has no version, and none is managed")
    return dep if dep.scope else replace(dep, scope="compile")


def local_parent(ref: ParentRef, child: Path, root: Path | None) -> tuple[Pom, Path] | None:
    """The parent POM file `relativePath` (default ../pom.xml) names, if it is the parent named.

    A file outside the project is never read: the repository's parent is used, as
    Maven does when the file there is not the parent named.
    """
    if ref.relative_path == "":
        return None
    candidate = child.parent / (ref.relative_path or "../pom.xml")
    if candidate.is_dir():
        candidate = candidate / "pom.xml"
    if not candidate.is_file() or (root is not None and not inside(candidate, root)):
        return None
    pom = read_local(candidate, root)
    group = pom.group or (pom.parent.group if pom.parent else "")
    version = pom.version or (pom.parent.version if pom.parent else "")
    if (group, pom.artifact, version) != (ref.group, ref.artifact, ref.version):
        return None
    return pom, candidate


def read_local(path: Path, root: Path | None) -> Pom:
    """A POM file of the project; any problem with it is bad input (ConfigError, exit 2)."""
    shown = _shown(path, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot be read: {exc.strerror or exc}") from None
    try:
        return parse_pom(data, shown)
    except PomError as exc:
        raise ConfigError(str(exc)) from None


def _key(dep: Dependency) -> tuple[str, str, str, str]:
    c = dep.coordinate
    return (c.group, c.artifact, c.extension, c.classifier)


def _inherit(levels: list[tuple[Declared, ...]]) -> list[Declared]:
    """The child's entries first, then each ancestor's not already there (by management key)."""
    merged: dict[tuple[str, str, str, str], Declared] = {}
    for level in levels:
        for declared in level:
            merged.setdefault(declared.key, declared)
    return list(merged.values())


def _coordinate(
    group: str, artifact: str, version: str, extension: str, classifier: str, where: str, fail: type[Exception]
) -> MavenCoordinate:
    try:
        return MavenCoordinate.parse(":".join([group, artifact, extension, *([classifier] if classifier else []), version]))
    except ValueError as exc:
        raise fail(f"{where}: {exc}") from None


def _error(path: Path | None, message: str) -> Exception:
    return ConfigError(message) if path is not None else PomError(message)


def inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except ValueError:
        return False
    return True


def _shown(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            pass
    return str(path)


class _Interpolator:
    """`${name}` replaced from the properties, recursively; an unknown or circular one is an error.

    Bounded whatever the POM holds: each property is expanded once (a chain of properties
    that each double the one before would otherwise cost 2**n), at most MAX_LINEAGE deep,
    and no value grows past MAX_VALUE characters.
    """

    def __init__(self, properties: dict[str, str], where: str, fail: type[Exception]) -> None:
        self.properties = properties
        self.where = where
        self.fail = fail
        self._expanded: dict[str, str] = {}

    def __call__(self, value: str, what: str) -> str:
        return self._expand(value, what, ())

    def _expand(self, value: str, what: str, stack: tuple[str, ...]) -> str:
        if "${" not in value:
            return value
        size = len(value)

        def one(match: re.Match[str]) -> str:
            nonlocal size
            name = match.group(1)
            if name not in self._expanded:
                if name in stack:
                    raise self.fail(f"{self.where}: property ${{{name}}} refers to itself (in {what})")
                if len(stack) >= MAX_LINEAGE:
                    raise self.fail(f"{self.where}: properties nested more than {MAX_LINEAGE} deep at ${{{name}}} (in {what}); refused")
                if name not in self.properties:
                    raise self.fail(f"{self.where}: unresolvable property ${{{name}}} in {what}")
                self._expanded[name] = self._expand(self.properties[name], what, (*stack, name))
            size += len(self._expanded[name])
            if size > MAX_VALUE:
                raise self.fail(f"{self.where}: {what} expands to more than {MAX_VALUE} characters (nested properties); refused")
            return self._expanded[name]

        return _EXPRESSION.sub(one, value)
