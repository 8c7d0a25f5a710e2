"""South (Django < 1.7) migrations: a numbered sequence per app, ordered by file name.

Every file whose name South accepts (letters, digits and `_`, not `__init__`) is a
migration named by its stem; each depends on the one before it in its app, and
on what its `class Migration` names in `depends_on` (and is needed by `needed_by`).
Old trees hold Python 2 files `ast` cannot parse: those are read by their name,
which is all South's order needs.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from releaser.core.errors import ConfigError
from releaser.core.migration_config import MigrationSettings
from releaser.migrations import pysource
from releaser.migrations.filecache import FileCache
from releaser.migrations.graph import Graph, Key, Migration, build
from releaser.migrations.pysource import Source
from releaser.migrations.reader import MigrationReader

FRAMEWORK = "south"
_FILE = re.compile(r"^(?!__init__)[0-9a-zA-Z_]*\.py$")


def read(settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
    warnings: list[str] = []
    by_app: dict[str, list[Source]] = {}
    for directory, files in sorted(dirs.items()):
        by_app.setdefault(settings.label_of(directory), []).extend(f for f in files if _FILE.match(f.filename))
    names = {app: sorted(s.stem for s in sources) for app, sources in by_app.items()}
    nodes: dict[Key, Migration] = {}
    extra_children: list[tuple[Key, Key]] = []  # (needed_by target, migration)
    duplicates: dict[Key, tuple[str, ...]] = {}
    cache = FileCache(FRAMEWORK, (__file__, pysource.__file__))
    for app, sources in sorted(by_app.items()):
        previous: Key | None = None
        for source in sorted(sources, key=lambda s: (s.stem, s.path)):
            key = (app, source.stem)
            if key in nodes:
                duplicates[key] = duplicates.get(key, (nodes[key].file,)) + (source.path,)
                continue
            found = cache.read(source, functools.partial(_read_file, source))
            warnings += found["warnings"]
            depends = [_key(tuple(p), names, source) for p in found["depends_on"]]
            extra_children += [(_key(tuple(p), names, source), key) for p in found["needed_by"]]
            reversible, digest = found["reversible"], found["digest"]
            parents = ((previous,) if previous else ()) + tuple(depends)
            nodes[key] = Migration(app, source.stem, source.path, parents, digest, reversible)
            previous = key
    cache.save()
    for target, child in extra_children:
        if target in nodes:
            nodes[target] = replace(nodes[target], parents=nodes[target].parents + (child,))
    return build(FRAMEWORK, nodes.values(), warnings=warnings, duplicates=duplicates)


def _read_file(source: Source) -> dict[str, Any]:
    """What one file says, as plain values (kept by `FileCache`); a Python 2 file: its name only."""
    tree, problem = pysource.parse(source)
    found: dict[str, Any] = {"depends_on": [], "needed_by": [], "reversible": None, "warnings": []}
    if tree is None:
        return {**found, "digest": pysource.digest(None, source), "warnings": [problem or source.path]}
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None)
    if cls is not None:
        values = pysource.assignments(cls.body)
        found["depends_on"] = _pairs(values.get("depends_on"), source)
        found["needed_by"] = _pairs(values.get("needed_by"), source)
        forwards = pysource.function(cls.body, "forwards")
        backwards = pysource.function(cls.body, "backwards")
        no_op = pysource.does_nothing(forwards) and pysource.does_nothing(backwards)
        found["reversible"] = no_op or not (pysource.does_nothing(backwards) or pysource.raises(backwards))
    return {**found, "digest": pysource.digest(tree, source)}


def _pairs(node: ast.expr | None, source: Source) -> list[tuple[str, str]]:
    value = pysource.literal(node) if node is not None else ()
    if value is ... or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{source.path}: depends_on/needed_by must be written out as (app, migration) pairs")
    pairs = []
    for item in value:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(v, str) and v for v in item)):
            raise ConfigError(f"{source.path}: {item!r} is not an (app, migration) pair")
        pairs.append((item[0], item[1]))
    return pairs


def _key(pair: tuple[str, str], names: Mapping[str, list[str]], source: Source) -> Key:
    """South names another migration by its full name or an unambiguous prefix ("0002")."""
    app, name = pair
    if app not in names:
        return (app, name)  # external: an app releaser does not read
    if name in names[app]:
        return (app, name)
    matches = [n for n in names[app] if n.startswith(name)]
    if len(matches) != 1:
        raise ConfigError(f"{source.path}: depends on {app}.{name}, which does not exist")
    return (app, matches[0])


class SouthReader(MigrationReader):
    framework = "south"

    def read(self, settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
        return read(settings, dirs)


READER = SouthReader()
