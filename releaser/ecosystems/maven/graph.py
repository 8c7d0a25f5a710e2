"""Which artifacts a Maven build uses: the dependency graph collected as Maven 3 collects it.

Breadth first, one depth at a time (the artifacts of a depth resolve concurrently), so
that Maven's conflict rule falls out of the order of visits: the nearest declaration of
a `group:artifact[:extension[:classifier]]` wins, the first declared on a tie
(maven-resolver's NearestVersionSelector), and only the winner's own dependencies are
followed. Below the direct dependencies, as in Maven:

- a dependency declared `test` or `provided`, or `optional`, is not followed (it is its
  declarer's own business), nor is a `system` one (a file on disk, not in a repository);
- exclusions accumulate down a path, `*` matching any group or artifact;
- the project's dependencyManagement overrides version, scope and optional flag, and adds
  exclusions (ClassicDependencyManager: from depth 2 on);
- a scope is derived from the path (JavaScopeDeriver: under `runtime` a `compile`
  dependency is `runtime`, under `provided` it is `provided`, and so on), and a winner
  reached on several paths gets the widest of them unless it is direct
  (JavaScopeSelector: compile > runtime > provided > test);
- a version range is a hard constraint (NearestVersionSelector): the nearest
  declaration wins only while its version is inside every range reached for the same
  artifact. When it is not, `settle` collects again `within` those ranges: the
  nearest declaration inside them all wins (a range: narrowed to their intersection),
  and when no declaration is, no build can have the artifact (ResolutionError).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, TypeVar

from releaser.core.errors import ResolutionError
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.model import Dependency, Model, excluded
from releaser.ecosystems.maven.pom import PomError
from releaser.ecosystems.maven.version import MavenVersion, VersionRange

T = TypeVar("T")
R = TypeVar("R")

WIDEST = ("compile", "runtime", "provided", "test")
MAX_COLLECTIONS = 8  # of one graph, each within the ranges the one before found a winner outside
NOT_FOLLOWED = ("test", "provided", "system", "import")


@dataclass(frozen=True)
class Node:
    """One declaration reached in the graph."""

    coordinate: MavenCoordinate  # the version as declared (managed, interpolated)
    scope: str
    via: str  # what declared it: release.toml, or the `group:artifact` whose POM did
    depth: int  # 1 for a direct dependency
    exclusions: frozenset[tuple[str, str]] = frozenset()
    within: tuple[str, ...] = ()  # who declared the ranges its own range was narrowed to

    @property
    def key(self) -> str:
        return self.coordinate.key

    @cached_property  # read on every visit of a conflict group: parsed once
    def range(self) -> VersionRange | None:
        """The range declared, if any (`checked` when the node was made)."""
        version = self.coordinate.version
        return VersionRange.parse(version) if VersionRange.is_range(version) else None


@dataclass(frozen=True)
class Chosen:
    """A conflict winner, with the scope Maven gives it, and what visiting it gave."""

    node: Node
    scope: str
    visited: object


@dataclass(frozen=True)
class Collected:
    chosen: list[Chosen]
    ranges: dict[str, tuple[Node, ...]]  # key -> every range declaration reached for it, nearest first
    outside: dict[str, tuple[Node, ...]]  # the same, for each winner whose version is outside one of them


# visit(node) -> (whatever the caller keeps, the artifact's effective model or None)
Visit = Callable[[Node], "tuple[object, Model | None]"]
Map = Callable[[Callable[[T], R], Sequence[T]], "list[R]"]


def checked(coordinate: MavenCoordinate, where: str, fail: type[Exception]) -> MavenCoordinate:
    """`coordinate`, unless it declares a range Maven cannot read: then `fail`, naming where it is declared."""
    if VersionRange.is_range(coordinate.version):
        try:
            VersionRange.parse(coordinate.version)
        except ValueError as exc:
            raise fail(f"{where}: {coordinate}: {exc}") from None
    return coordinate


def derive_scope(parent: str, child: str) -> str:
    """JavaScopeDeriver: the scope of `child` reached through a `parent`-scoped dependency."""
    if child in ("system", "test"):
        return child
    if parent in ("", "compile"):
        return child
    if parent in ("test", "runtime"):
        return parent
    if parent in ("system", "provided"):
        return "provided"
    return "runtime"


def settle(
    direct: Sequence[Node],
    fresh: Callable[[], Visit],
    map_: Map[Any, Any],
    managed: Mapping[tuple[str, str, str, str], Dependency],
    skip: frozenset[str] = frozenset(),
    *,
    version_of: Callable[[object], str],
) -> list[Chosen]:
    """`collect`, again within the ranges it found a winner outside, until every winner is inside its ranges.

    `fresh()` gives the visit of one collection (pins from an earlier one may be out of the graph).
    """
    within: dict[str, tuple[Node, ...]] = {}
    for _ in range(MAX_COLLECTIONS):
        collected = collect(direct, fresh(), map_, managed, skip, version_of=version_of, within=within)
        # Bound each artifact by the ranges this collection reached for it: the ones its
        # winner is outside, and (still) the ones an earlier collection bound it by.
        bounds = {k: collected.ranges[k] for k in within if k in collected.ranges} | collected.outside
        if bounds == within:
            return collected.chosen
        within = bounds
    raise ResolutionError(f"maven: the version ranges of {', '.join(sorted(within))} did not settle in {MAX_COLLECTIONS} collections")


def collect(
    direct: Sequence[Node],
    visit: Visit,
    map_: Map[Any, Any],
    managed: Mapping[tuple[str, str, str, str], Dependency],
    skip: frozenset[str] = frozenset(),
    *,
    version_of: Callable[[object], str],
    within: Mapping[str, tuple[Node, ...]] | None = None,
) -> Collected:
    """Every artifact the build uses, winners only, in the order Maven meets them.

    `skip`: `group:artifact`s that are not in any repository (the project's own modules).
    `version_of`: the exact version a visit pinned. `within`: key -> the range
    declarations its winner must be inside (what an earlier collection found outside).
    """
    within = within or {}
    winners: dict[str, Node] = {}
    scopes: dict[str, set[str]] = {}
    ranges: dict[str, list[Node]] = {}
    results: dict[str, object] = {}
    order: list[str] = []
    level = list(direct)
    while level:
        fresh = []
        for node in level:
            scopes.setdefault(node.key, set()).add(node.scope)
            if node.range is not None:
                ranges.setdefault(node.key, []).append(node)
            if node.key in winners:
                continue
            candidate = _inside(node, within[node.key]) if node.key in within else node
            if candidate is not None:
                winners[node.key] = candidate
                order.append(node.key)
                fresh.append(candidate)
        visited = map_(visit, fresh)
        level = []
        for node, (result, model) in zip(fresh, visited):
            results[node.key] = result
            if model is not None:
                level.extend(_children(node, model, managed, skip))
    for key in sorted(within.keys() - winners.keys()):
        if key in scopes:  # reached, and no declaration of it is inside every range
            asked = ", ".join(f"{n.coordinate.version} via {n.via}" for n in ranges.get(key, within[key]))
            raise ResolutionError(f"maven {key}: no version is inside every range asked for: {asked}")
    chosen, outside = [], {}
    for key in order:
        node = winners[key]
        scope = node.scope if node.depth <= 1 or node.scope == "system" else _widest(scopes[key])
        chosen.append(Chosen(node, scope, results[key]))
        if key in ranges:
            pinned = MavenVersion(version_of(results[key]))
            if any(not r.range.contains(pinned) for r in ranges[key]):  # type: ignore[union-attr]
                outside[key] = tuple(ranges[key])
    return Collected(chosen, {k: tuple(v) for k, v in ranges.items()}, outside)


def _inside(node: Node, bounds: tuple[Node, ...]) -> Node | None:
    """`node` if its version is inside every range of `bounds`; a range narrowed to them; else None."""
    own = node.range
    if own is None:
        version = MavenVersion(node.coordinate.version)
        return node if all(b.range.contains(version) for b in bounds) else None  # type: ignore[union-attr]
    for bound in bounds:
        own = own.intersect(bound.range)  # type: ignore[arg-type]
        if own is None:
            return None
    vias = tuple(dict.fromkeys(b.via for b in bounds if b.via != node.via))
    return replace(node, coordinate=replace(node.coordinate, version=own.spec), within=vias)


def _children(
    parent: Node, model: Model, managed: Mapping[tuple[str, str, str, str], Dependency], skip: frozenset[str]
) -> list[Node]:
    found = []
    for dep in model.dependencies:
        c = dep.coordinate
        if dep.scope in NOT_FOLLOWED or dep.optional or excluded(parent.exclusions, c.group, c.artifact):
            continue
        if f"{c.group}:{c.artifact}" in skip:
            continue
        rule = managed.get((c.group, c.artifact, c.extension, c.classifier))
        coordinate, scope, exclusions = c, dep.scope, parent.exclusions | dep.exclusions
        if rule is not None:  # the project's management wins below its direct dependencies
            coordinate = replace(c, version=rule.coordinate.version or c.version)
            scope = rule.scope if rule.scope and rule.scope != "import" else scope
            exclusions |= rule.exclusions
            if rule.optional:
                continue
        coordinate = checked(coordinate, model.where, PomError)  # Maven fails on it too, even on a path that loses
        found.append(Node(coordinate, derive_scope(parent.scope, scope), model.name, parent.depth + 1, exclusions))
    return found


def _widest(scopes: set[str]) -> str:
    return next((s for s in WIDEST if s in scopes), "compile")
