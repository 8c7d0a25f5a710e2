"""Alembic revisions, read as `alembic.script` reads them, without importing.

Every `*.py` in a version location (not `__init__`, not an editor's `.#` file) is
a revision: module-level `revision`, `down_revision` (None, a str, or a tuple: a
merge point), `branch_labels` and `depends_on`, plain or annotated. File names
do not matter. All version locations of one script directory are one graph, in
one "app" (the script directory's name: the version location's parent, unless
`labels` says otherwise). `depends_on` orders but does not end a head, as in
Alembic. A duplicate revision id only warns in Alembic; here it is a finding.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from releaser.core.errors import ConfigError
from releaser.core.migration_config import MigrationSettings
from releaser.migrations import pysource
from releaser.migrations.filecache import FileCache
from releaser.migrations.graph import Graph, Key, Migration, build
from releaser.migrations.pysource import Source
from releaser.migrations.reader import MigrationReader

FRAMEWORK = "alembic"
_FILE = re.compile(r"^(?!\.#|__init__).*\.py$")
_LEGACY = re.compile(r"^([a-f0-9]+)\.py$")
_ID_IN_NAME = re.compile(r"^([A-Za-z0-9]+)(?:_|\.py$)")


def read(settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
    warnings: list[str] = []
    revisions: dict[str, tuple[str, Source, dict[str, Any]]] = {}  # id -> (app, source, fields)
    duplicates: dict[Key, tuple[str, ...]] = {}
    cache = FileCache(FRAMEWORK, (__file__, pysource.__file__))
    for directory, files in sorted(dirs.items()):
        app = settings.label_of(directory)
        for source in files:
            if not _FILE.match(source.filename):
                continue
            fields = cache.read(source, functools.partial(_read_file, source))
            warnings += fields["warnings"]
            rev = str(fields["revision"])
            if rev in revisions:
                first = revisions[rev][1].path
                duplicates[(revisions[rev][0], rev)] = duplicates.get((revisions[rev][0], rev), (first,)) + (source.path,)
                continue
            revisions[rev] = (app, source, fields)
    cache.save()
    labels = {label: rev for rev, (_, _, f) in revisions.items() for label in f["branch_labels"]}

    def key_of(ref: str, source: Source, what: str) -> Key:
        rev = labels.get(ref, ref)
        if rev in revisions:
            return (revisions[rev][0], rev)
        matches = [r for r in revisions if r.startswith(ref)] if len(ref) >= 4 else []
        if len(matches) == 1:  # Alembic takes an unambiguous prefix too
            return (revisions[matches[0]][0], matches[0])
        raise ConfigError(f"{source.path}: {what} names revision {ref!r}, which does not exist")

    nodes = []
    for rev, (app, source, f) in sorted(revisions.items()):
        nodes.append(
            Migration(
                app=app,
                name=rev,
                file=source.path,
                parents=tuple(key_of(r, source, "down_revision") for r in f["down"]),
                digest=str(f["digest"]),
                reversible=f["reversible"],
                requires=tuple(key_of(r, source, "depends_on") for r in f["depends_on"]),
            )
        )
    return build(FRAMEWORK, nodes, warnings=warnings, duplicates=duplicates)


def _read_file(source: Source) -> dict[str, object]:
    """What one file says, as plain values (kept by `FileCache`)."""
    tree, problem = pysource.parse(source)
    if tree is None:
        named = _ID_IN_NAME.match(source.filename)
        if not named:
            raise ConfigError(f"{source.path}: does not parse, and its name gives no revision id")
        return {"revision": named.group(1), "down": (), "branch_labels": (), "depends_on": (),
                "reversible": None, "digest": pysource.digest(None, source), "warnings": [problem or source.path]}
    values = pysource.assignments(tree.body)
    revision = pysource.literal(values.get("revision"))
    if "revision" not in values:
        legacy = _LEGACY.match(source.filename)
        if not legacy:
            raise ConfigError(f"{source.path}: declares no `revision` (Alembic cannot tell its revision id either)")
        revision = legacy.group(1)
    if not isinstance(revision, str) or not revision:
        raise ConfigError(f"{source.path}: revision must be a string written out, not {ast.unparse(values['revision'])[:60]}")
    found: dict[str, object] = {"revision": revision, "warnings": []}
    for name, key in (("down_revision", "down"), ("branch_labels", "branch_labels"), ("depends_on", "depends_on")):
        value = pysource.literal(values.get(name)) if name in values else None
        if value is ...:
            raise ConfigError(f"{source.path}: {name} must be written out (None, a string or a tuple of them)")
        try:
            found[key] = pysource.strings(value) or ()
        except ValueError as exc:
            raise ConfigError(f"{source.path}: {name}: {exc}") from None
    upgrade = pysource.function(tree.body, "upgrade")
    downgrade = pysource.function(tree.body, "downgrade")
    empty_both = pysource.does_nothing(upgrade) and pysource.does_nothing(downgrade) and not pysource.raises(downgrade)
    found["reversible"] = empty_both or not (pysource.does_nothing(downgrade) or pysource.raises(downgrade))
    found["digest"] = pysource.digest(tree, source)
    return found


class AlembicReader(MigrationReader):
    framework = "alembic"

    def read(self, settings: MigrationSettings, dirs: Mapping[str, Sequence[Source]]) -> Graph:
        return read(settings, dirs)


READER = AlembicReader()
