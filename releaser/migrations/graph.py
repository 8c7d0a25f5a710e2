"""The migration graph: every migration of a tree, its dependencies, each app's heads.

The readers (one module per framework) build a `Graph` with `build`, which checks
what every framework refuses too: a dependency on a migration that is not there,
and a cycle. A `Graph` is also what a record keeps (`to_record`) and gives back
(`from_record`), so a release's graph can be compared with this tree's without
its checkout.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from releaser.core.errors import ConfigError

Key = tuple[str, str]  # (app, name)
_NUMBER = re.compile(r"^(\d+)(?:_|$)")


@dataclass(frozen=True)
class Migration:
    app: str  # Django/South: app label; Alembic: the script directory's name; Flyway: "flyway"
    name: str  # Django/South: file stem "0043_add_x"; Alembic: revision id; Flyway: version "1.2"
    file: str  # path relative to the project root, posix ("" for an external one)
    parents: tuple[Key, ...]  # resolved dependencies, same-graph and external
    digest: str  # "sha256:<hex>" of the normalized syntax tree, or of SQL without comments and whitespace
    reversible: bool | None  # None: could not tell (the file did not parse)
    replaces: tuple[Key, ...] = ()
    external: bool = False  # a dependency target outside `paths` (e.g. Django's own "auth")
    requires: tuple[Key, ...] = ()  # ordering only, never ends a head (Alembic depends_on)

    @property
    def key(self) -> Key:
        return (self.app, self.name)


@dataclass(frozen=True)
class Graph:
    framework: str
    migrations: Mapping[Key, Migration]
    warnings: tuple[str, ...] = ()
    # a name claimed by more than one file (a Flyway version, an Alembic revision id): key -> every file
    duplicates: Mapping[Key, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def internal(self) -> list[Migration]:
        """The migrations read from files, sorted by app and name."""
        return sorted((m for m in self.migrations.values() if not m.external), key=lambda m: m.key)

    def replaced_by(self) -> dict[Key, Key]:
        """Each replaced migration -> the squashed one that replaces it (when that one is here)."""
        return {old: m.key for m in self.internal() for old in m.replaces}

    def effective_parents(self) -> dict[Key, set[Key]]:
        """Node -> parents as the framework uses them: replaced migrations stand for their squashed one.

        Django uses a squashed migration when none (or all) of those it replaces are applied;
        a tree read without a database is that case.
        """
        alias = self.replaced_by()
        found: dict[Key, set[Key]] = {}
        for m in self.migrations.values():
            if m.key in alias:
                continue
            found[m.key] = {alias.get(p, p) for p in m.parents}
        return found

    def heads(self) -> dict[str, tuple[str, ...]]:
        """App -> its sorted leaf names: nodes nothing in the same app depends on (external apps: none)."""
        parents = self.effective_parents()
        has_child = {p for node, ps in parents.items() for p in ps if p[0] == node[0]}
        found: dict[str, list[str]] = {}
        for key in sorted(parents):
            if self.migrations[key].external:
                found.setdefault(key[0], [])
            elif key not in has_child:
                found.setdefault(key[0], []).append(key[1])
        return {app: tuple(names) for app, names in found.items()}

    def ancestors(self, key: Key) -> set[Key]:
        """Every migration `key` needs applied first (itself excluded): parents and `requires`, transitively."""
        seen: set[Key] = set()
        todo = [key]
        while todo:
            m = self.migrations.get(todo.pop())
            for p in (*m.parents, *m.requires) if m else ():
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen

    def label(self, key: Key) -> str:
        """A migration as findings name it: `app.0042_name`, an Alembic revision id, a Flyway version."""
        return key[1] if self.framework in ("alembic", "flyway") else f"{key[0]}.{key[1]}"

    def to_record(self) -> dict[str, Any]:
        """The manifest's `migrations` value (docs/migrations.md); `new` is the gate's to add."""
        items = []
        for m in self.internal():
            item: dict[str, Any] = {
                "app": m.app,
                "name": m.name,
                "file": m.file,
                "parents": sorted(dotted(p) for p in m.parents),
                "digest": m.digest,
                "reversible": m.reversible,
                "replaces": sorted(dotted(r) for r in m.replaces),
            }
            if m.requires:
                item["requires"] = sorted(dotted(r) for r in m.requires)
            items.append(item)
        return {"framework": self.framework, "heads": {a: list(h) for a, h in sorted(self.heads().items())}, "migrations": items}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Graph:
        """The graph a record kept; a malformed record is a ConfigError."""
        try:
            nodes = [
                Migration(
                    app=str(i["app"]),
                    name=str(i["name"]),
                    file=str(i["file"]),
                    parents=tuple(undotted(p) for p in i["parents"]),
                    digest=str(i["digest"]),
                    reversible=i["reversible"] if i["reversible"] in (True, False) else None,
                    replaces=tuple(undotted(r) for r in i.get("replaces", ())),
                    requires=tuple(undotted(r) for r in i.get("requires", ())),
                )
                for i in record["migrations"]
            ]
            return build(str(record["framework"]), nodes, strict=False)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError(f"a recorded migration graph is malformed ({type(exc).__name__}: {exc})") from None


def dotted(key: Key) -> str:
    return f"{key[0]}.{key[1]}"


def undotted(text: str) -> Key:
    app, dot, name = text.partition(".")
    if not dot:
        raise ValueError(f"{text!r} is not app.name")
    return (app, name)


def number(name: str) -> str | None:
    """The number a migration's name starts with ("0043" of "0043_add_price"), if any."""
    match = _NUMBER.match(name)
    return match.group(1) if match else None


def build(
    framework: str,
    nodes: Iterable[Migration],
    *,
    warnings: Iterable[str] = (),
    duplicates: Mapping[Key, tuple[str, ...]] | None = None,
    strict: bool = True,
) -> Graph:
    """A checked graph: dependencies on apps not read become external nodes.

    A dependency on a missing migration of an app that was read, or a cycle, is a
    ConfigError naming the file (with `strict=False`, for a record, a missing one
    becomes external too).
    """
    found = {m.key: m for m in nodes}
    apps = {m.app for m in found.values()}
    replaced = {old for m in found.values() for old in m.replaces}
    for m in list(found.values()):
        for dep in (*m.parents, *m.requires):
            if dep in found or dep in replaced:
                continue
            if dep[0] in apps and strict:
                raise ConfigError(f"{m.file}: {m.name} depends on {dotted(dep)}, which does not exist")
            found[dep] = Migration(dep[0], dep[1], "", (), "", None, external=True)
    graph = Graph(framework, MappingProxyType(found), tuple(warnings), MappingProxyType(dict(duplicates or {})))
    cycle = find_cycle(graph.effective_parents())
    if cycle:
        where = found[cycle[0]].file or dotted(cycle[0])
        raise ConfigError(f"{where}: the migrations depend on each other in a cycle: {' -> '.join(map(graph.label, cycle))}")
    return graph


def find_cycle(parents: Mapping[Key, Iterable[Key]]) -> list[Key] | None:
    """A cycle through `parents` (first node repeated at the end), or None. Iterative: graphs can be deep."""
    state: dict[Key, int] = {}  # 1: on the current path, 2: done
    for start in sorted(parents):
        if start in state:
            continue
        path: list[Key] = []
        stack: list[tuple[Key, list[Key]]] = [(start, sorted(parents.get(start, ())))]
        state[start] = 1
        path.append(start)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(parents.get(nxt, ()))))
    return None
