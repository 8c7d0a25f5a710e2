"""The kinds of dependency releaser pins: the registry, as data.

Each kind's name is its table in release.lock (`[[maven]]`) and, unless `TABLES` says otherwise, in release.toml,
and names the module of its ecosystem package that holds its `Ecosystem`
(`releaser.ecosystems.base`). The order is the lock's order. Only names live here,
so that `core` (the lock's reader) knows which tables a lock may hold without
importing any ecosystem: `releaser.ecosystems.ecosystem(kind)` imports one when a
stage first asks for it. Adding a kind: its package, and a line here.
"""

from __future__ import annotations

ECOSYSTEMS: dict[str, str] = {
    "python": "releaser.ecosystems.python.ecosystem",
    "maven": "releaser.ecosystems.maven.ecosystem",
    "git": "releaser.ecosystems.git.ecosystem",
    "artifact": "releaser.ecosystems.url.ecosystem",
    "image": "releaser.ecosystems.containers.ecosystem",
    "actions": "releaser.ecosystems.actions.ecosystem",
}
KINDS: tuple[str, ...] = tuple(ECOSYSTEMS)
# A kind's table in release.toml, where it is not the kind's own name: images are read from `[containers]`.
TABLES: dict[str, str] = {kind: {"image": "containers"}.get(kind, kind) for kind in KINDS}
