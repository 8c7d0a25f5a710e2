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
  (JavaScopeSelector: compile > runtime > provided > test).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Mapping, Sequence, TypeVar

from releaser.core.maven_coordinate import MavenCoordinate
from releaser.sources.maven_model import Dependency, Model, excluded

T = TypeVar("T")
R = TypeVar("R")

WIDEST = ("compile", "runtime", "provided", "test")
NOT_FOLLOWED = ("test", "provided", "system", "import")


@dataclass(frozen=True)
class Node:
    """One declaration reached in the graph."""

    coordinate: MavenCoordinate  # the version as declared (managed, interpolated)
    scope: str
    via: str  # what declared it: release.toml, or the `group:artifact` whose POM did
    depth: int  # 1 for a direct dependency
    exclusions: frozenset[tuple[str, str]] = frozenset()

    @property
    def key(self) -> str:
        return self.coordinate.key


@dataclass(frozen=True)
class Chosen:
    """A conflict winner, with the scope Maven gives it, and what visiting it gave."""

    node: Node
    scope: str
    visited: object


# visit(node) -> (whatever the caller keeps, the artifact's effective model or None)
Visit = Callable[[Node], "tuple[object, Model | None]"]
Map = Callable[[Callable[[T], R], Sequence[T]], "list[R]"]


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


def collect(
    direct: Sequence[Node],
    visit: Visit,
    map_: Map,
    managed: Mapping[tuple[str, str, str, str], Dependency],
    skip: frozenset[str] = frozenset(),
) -> list[Chosen]:
    """Every artifact the build uses, winners only, in the order Maven meets them.

    `skip`: `group:artifact`s that are not in any repository (the project's own modules).
    """
    winners: dict[str, Node] = {}
    scopes: dict[str, set[str]] = {}
    results: dict[str, object] = {}
    order: list[str] = []
    level = list(direct)
    while level:
        fresh = []
        for node in level:
            scopes.setdefault(node.key, set()).add(node.scope)
            if node.key not in winners:
                winners[node.key] = node
                order.append(node.key)
                fresh.append(node)
        visited = map_(visit, fresh)
        level = []
        for node, (result, model) in zip(fresh, visited):
            results[node.key] = result
            if model is not None:
                level.extend(_children(node, model, managed, skip))
    chosen = []
    for key in order:
        node = winners[key]
        scope = node.scope if node.depth <= 1 or node.scope == "system" else _widest(scopes[key])
        chosen.append(Chosen(node, scope, results[key]))
    return chosen


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
        found.append(Node(coordinate, derive_scope(parent.scope, scope), model.name, parent.depth + 1, exclusions))
    return found


def _widest(scopes: set[str]) -> str:
    return next((s for s in WIDEST if s in scopes), "compile")
