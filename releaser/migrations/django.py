"""Django migrations, read as `django.db.migrations.loader.MigrationLoader` reads them, without importing.

Every `*.py` in a migrations directory whose name does not start with `_` or `~`
is a migration named by its stem, in the app the directory belongs to (its
parent's name unless `labels` says otherwise). Its `class Migration` gives
`dependencies` (`swappable_dependency(...)` is that app's `__first__`),
`replaces` (a squashed migration), `run_before` (reverse edges) and `operations`,
from plain and annotated assignments. As in the loader, a same-app `__first__` is
no dependency, another app's `__first__`/`__latest__` is its root/leaf, and an
app that is not read is external.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from releaser.core.errors import ConfigError
from releaser.core.migration_config import MigrationSettings
from releaser.migrations import pysource
from releaser.migrations.filecache import FileCache
from releaser.migrations.graph import Graph, Key, Migration, build
from releaser.migrations.pysource import Source
from releaser.migrations.reader import MigrationReader

FRAMEWORK = "django"
_DEFAULT_USER_APP = "auth"  # settings.AUTH_USER_MODEL is "auth.User" unless the project says otherwise


class _Read:
    """One migration file, its dependencies not yet resolved."""

    def __init__(self, app: str, source: Source, found: dict[str, Any]) -> None:
        self.app, self.source, self.name = app, source, source.stem
        self.dependencies: list[Key] = [tuple(k) for k in found["dependencies"]]
        self.run_before: list[Key] = [tuple(k) for k in found["run_before"]]
        self.replaces: list[Key] = [tuple(k) for k in found["replaces"]]
        self.reversible: bool | None = found["reversible"]
        self.digest: str = found["digest"]


def is_migration(filename: str) -> bool:
    return filename.endswith(".py") and filename[:1] not in ("_", "~")


def read(settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
    warnings: list[str] = []
    found: dict[Key, _Read] = {}
    duplicates: dict[Key, tuple[str, ...]] = {}
    cache = FileCache(FRAMEWORK, (__file__, pysource.__file__))
    for directory, files in sorted(dirs.items()):
        app = settings.label_of(directory)
        for source in files:
            if not is_migration(source.filename):
                continue
            result = cache.read(source, functools.partial(_read_file, source))
            warnings += result["warnings"]
            key = (app, source.stem)
            if key in found:
                duplicates[key] = duplicates.get(key, (found[key].source.path,)) + (source.path,)
                continue
            found[key] = _Read(app, source, result)
    cache.save()
    return build(FRAMEWORK, _resolve(found), warnings=warnings, duplicates=duplicates)


def _read_file(source: Source) -> dict[str, Any]:
    """What one file says, as plain values (kept by `FileCache`)."""
    warnings: list[str] = []
    tree, problem = pysource.parse(source)
    if tree is None:
        return {"dependencies": [], "run_before": [], "replaces": [], "reversible": None,
                "digest": pysource.digest(None, source), "warnings": [problem or source.path]}
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None)
    if cls is None:
        raise ConfigError(f"{source.path}: has no class Migration (Django refuses such a file in a migrations directory)")
    values = pysource.assignments(cls.body)
    return {
        "dependencies": _keys(values.get("dependencies"), "dependencies", source, warnings),
        "run_before": _keys(values.get("run_before"), "run_before", source, warnings),
        "replaces": _keys(values.get("replaces"), "replaces", source, warnings),
        "reversible": _reversible_all(tree, cls, values.get("operations")),
        "digest": pysource.digest(tree, source),  # last: it normalizes the tree in place
        "warnings": warnings,
    }


def _keys(node: ast.expr | None, what: str, source: Source, warnings: list[str]) -> list[Key]:
    """A list of (app, name) pairs, `swappable_dependency(...)` included."""
    if node is None:
        return []
    if not isinstance(node, (ast.List, ast.Tuple)):
        warnings.append(f"{source.path}: {what} is computed, not written out; read as empty")
        return []
    keys = []
    for element in node.elts:
        if pysource.call_name(element) == "swappable_dependency" and isinstance(element, ast.Call):
            keys.append((_swappable_app(element), "__first__"))
            continue
        value: Any = pysource.literal(element)
        if value is ...:
            warnings.append(f"{source.path}: an entry of {what} is computed (line {element.lineno}); left out")
        elif isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, str) and v for v in value):
            keys.append((value[0], value[1]))
        else:
            raise ConfigError(f"{source.path}:{element.lineno}: {what} entry {value!r} is not an (app, migration) pair")
    return keys


def _swappable_app(call: ast.Call) -> str:
    setting = call.args[0] if call.args else None
    if isinstance(setting, ast.Constant) and isinstance(setting.value, str) and "." in setting.value:
        return setting.value.split(".", 1)[0]
    return _DEFAULT_USER_APP


_REVERSIBLE_IF = {"RunPython": ("reverse_code", 1), "RunSQL": ("reverse_sql", 1)}
_NESTING = "SeparateDatabaseAndState"
_ADDING = {"append": ast.List, "insert": ast.List, "extend": None}  # list methods that add operations


def _reversible_all(tree: ast.Module, cls: ast.ClassDef, node: ast.expr | None) -> bool | None:
    """Whether every operation the class ends up with can be reversed: those it assigns,
    and those added to `operations` after (in the class, or as `Migration.operations` after
    it); None when any of them cannot be read. Operations imported under another name
    (`RunPython as R`, `R = migrations.RunPython`) are known by what they are."""
    aliases = pysource.aliases(tree, {*_REVERSIBLE_IF, _NESTING})
    added = _added_operations(cls.body, "operations") + _added_operations(tree.body, "Migration.operations")
    results = [_reversible(node, aliases), *(_reversible(op, aliases) for op in added)]
    if False in results:
        return False
    return None if None in results else True


def _added_operations(body: list[ast.stmt], target: str) -> list[ast.expr | None]:
    """What `body`'s own statements add to `target` (`.append(op)`, `.insert(i, op)` as a one-item
    list, `.extend(ops)`, `+= ops`, or a new list assigned to `Migration.operations`); each an
    expression, read as a list of operations by the caller."""

    def same(node: ast.expr) -> bool:
        return pysource.dotted(node) == target

    added: list[ast.expr | None] = []
    for statement in body:
        if isinstance(statement, ast.AugAssign) and same(statement.target):
            added.append(statement.value if isinstance(statement.op, ast.Add) else None)
        elif isinstance(statement, ast.Assign) and any(same(t) for t in statement.targets) and "." in target:
            added.append(statement.value)  # `Migration.operations = [...]` after the class
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            func = statement.value.func
            if isinstance(func, ast.Attribute) and same(func.value) and func.attr in _ADDING:
                args = statement.value.args
                item = args[-1] if args else None
                added.append(ast.List(elts=[item]) if _ADDING[func.attr] and item is not None else item)
    return added


def _reversible(node: ast.expr | None, aliases: dict[str, str]) -> bool | None:
    if node is None:
        return True
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    results = [_operation_reversible(op, aliases) for op in node.elts]
    if False in results:
        return False
    return None if None in results else True


def _operation_reversible(op: ast.expr, aliases: dict[str, str]) -> bool | None:
    name = pysource.call_name(op)
    if not isinstance(op, ast.Call) or name is None:
        return None  # not a call of an operation by its name (`getattr(m, "RunPython")(f)`): cannot tell
    name = aliases.get(name, name)
    reverse = _REVERSIBLE_IF.get(name)
    if reverse is not None:
        given = pysource.argument(op, reverse[1], reverse[0])
        return given is not None and not (isinstance(given, ast.Constant) and given.value is None)
    if name == _NESTING:
        return _reversible(pysource.argument(op, 0, "database_operations") or ast.List(elts=[]), aliases)
    return True


def _resolve(found: dict[Key, _Read]) -> list[Migration]:
    """Parents as the loader makes them: internal edges, then __first__/__latest__, then run_before."""
    apps = {key[0] for key in found}
    same_app_parents = {
        key: {d for d in item.dependencies if d[0] == key[0] and d[1] != "__first__"} for key, item in found.items()
    }
    has_child = {p for parents in same_app_parents.values() for p in parents}
    roots = {app: sorted(k for k in found if k[0] == app and not same_app_parents[k]) for app in apps}
    leaves = {app: sorted(k for k in found if k[0] == app and k not in has_child) for app in apps}

    def check_key(dep: Key, current_app: str) -> Key | None:
        if dep[1] not in ("__first__", "__latest__") or dep in found:
            return dep
        if dep[0] == current_app:
            return None
        if dep[0] not in apps:
            return dep  # external: an app releaser does not read
        ends = roots if dep[1] == "__first__" else leaves
        return ends[dep[0]][0] if ends[dep[0]] else None

    parents: dict[Key, list[Key]] = {key: [] for key in found}
    for key, item in found.items():
        for dep in item.dependencies:
            target = check_key(dep, key[0])
            if target is not None:
                parents[key].append(target)
        for child in item.run_before:
            target = check_key(child, key[0])
            if target is not None and target in parents:
                parents[target].append(key)
            elif target is not None and target[0] in apps:
                raise ConfigError(f"{item.source.path}: run_before names {target[0]}.{target[1]}, which does not exist")
    return [
        Migration(
            app=key[0],
            name=key[1],
            file=item.source.path,
            parents=tuple(dict.fromkeys(parents[key])),
            digest=item.digest,
            reversible=item.reversible,
            replaces=tuple(item.replaces),
        )
        for key, item in sorted(found.items())
    ]


class DjangoReader(MigrationReader):
    framework = "django"

    def read(self, settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
        return read(settings, dirs)


READER = DjangoReader()
