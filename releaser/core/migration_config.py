"""`[migrations]` in release.toml: the database half of an RC (docs/migrations.md, docs/rehearsal.md; every key: docs/config.md).

Parsed by `releaser.core.config` with its own typed getters, so every error names
the file, the key and its line. The gate (`releaser.migrations`) and the rehearsal
read the result, `MigrationSettings`; neither parses TOML.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

FRAMEWORKS = ("django", "alembic", "south", "flyway")
KEYS = {
    "framework", "paths", "trunk", "upgrade-from", "allow", "labels",
    "database", "seed", "max-slowdown", "upgrade", "revert", "baseline", "lock-budget", "scale", "lock-lint",
}
LOCK_LINT = ("warn", "refuse", "off")
WHERE = "[migrations]"
SECTION = "migrations"


@dataclass(frozen=True)
class MigrationSettings:
    framework: str  # "django" | "alembic" | "south" | "flyway"
    paths: tuple[str, ...]  # globs relative to the project root: migration dirs / version locations
    trunk: str | None = None  # a git ref every migration here must be on
    upgrade_from: tuple[str, ...] = ()  # git refs of releases that must upgrade to this tree
    allow: tuple[str, ...] = ()  # finding names accepted
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # dir -> app label
    # the rehearsal (docs/rehearsal.md)
    database: str | None = None  # "sqlite" or a URL, raw: ${VAR} is expanded only when a rehearsal runs
    seed: tuple[tuple[str, ...], ...] = ()
    max_slowdown: float = 2.0
    upgrade: tuple[str, ...] | None = None  # argv: the framework's "migrate everything", overridden
    revert: tuple[str, ...] | None = None  # argv template: "migrate back to {target}" ({app}, {target})
    baseline: str | None = None  # a git ref: the last release made before releaser, the first RC's previous release
    lock_budget: float | None = None  # seconds a blocking lock on a table may be held (PostgreSQL); None: no limit
    scale: int = 1  # the seeded rows of every table, multiplied this many times before the upgrade
    lock_lint: str = "warn"  # what a lock-taking statement in this RC's SQL is: LOCK_LINT

    def label_of(self, directory: str) -> str:
        """The app a migrations directory belongs to: configured, or its parent folder's name."""
        return self.labels.get(directory) or Path(directory).parent.name or Path(directory).name


def parse(p: Any, t: dict[str, Any], root: Path) -> MigrationSettings:
    """`[migrations]` as read by `p`, a `releaser.core.config._Parser` (its getters raise ConfigError)."""
    p._no_unknown(t, KEYS, WHERE, SECTION)
    framework = p._get(t, "framework", str, WHERE, SECTION)
    if framework not in FRAMEWORKS:
        p._fail(WHERE, "framework", f"{framework!r} is not one of: {', '.join(FRAMEWORKS)}", SECTION)
    paths = p._strings(t, "paths", WHERE, SECTION)
    if not paths:
        p._fail(WHERE, "paths", "names no migration directories, e.g. paths = [\"src/*/migrations\"]", SECTION)
    paths = [pattern.rstrip("/") for pattern in paths]
    for pattern in paths:
        if pattern.startswith("/") or any(part in ("", ".", "..") for part in pattern.split("/")):
            p._fail(WHERE, "paths", f"{pattern!r} must be a glob inside the project, such as \"src/*/migrations\"", SECTION)
        if not matching_dirs(root, pattern):
            p._fail(WHERE, "paths", f"{pattern!r} matches no directory under {root}", SECTION)
    trunk = p._get(t, "trunk", str, WHERE, SECTION, default=None)
    refs = p._strings(t, "upgrade-from", WHERE, SECTION)
    baseline = p._get(t, "baseline", str, WHERE, SECTION, default=None)
    for key, ref in [("trunk", trunk), ("baseline", baseline)] + [("upgrade-from", r) for r in refs]:
        if ref is not None and (not ref.strip() or ref.startswith("-")):
            p._fail(WHERE, key, f"{ref!r} is not a git ref", SECTION)
    labels = p._get(t, "labels", dict, WHERE, SECTION, default={})
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in labels.items()):
        p._fail(WHERE, "labels", "must map migration directories to app labels (strings)", SECTION)
    slowdown = t.get("max-slowdown", 2.0)
    if isinstance(slowdown, bool) or not isinstance(slowdown, (int, float)) or not slowdown >= 1.0:  # refuses nan
        p._fail(WHERE, "max-slowdown", f"{slowdown} must be a number >= 1 (2.0: at most twice as slow)", SECTION)
    database = p._get(t, "database", str, WHERE, SECTION, default=None)
    if database is not None and not database.strip():
        p._fail(WHERE, "database", "must be \"sqlite\" or a database URL", SECTION)
    seed = p._get(t, "seed", list, WHERE, SECTION, default=[])
    budget = t.get("lock-budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget < float("inf")):
        p._fail(WHERE, "lock-budget", f"{budget!r} must be a positive number of seconds (0.5: half a second)", SECTION)
    scale = t.get("scale", 1)
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 10_000:
        p._fail(WHERE, "scale", f"{scale!r} must be a whole number from 1 to 10000 (how many times the seed's rows)", SECTION)
    lint = p._get(t, "lock-lint", str, WHERE, SECTION, default="warn")
    if lint not in LOCK_LINT:
        p._fail(WHERE, "lock-lint", f"{lint!r} is not one of: {', '.join(LOCK_LINT)}", SECTION)
    return MigrationSettings(
        framework=framework,
        paths=tuple(paths),
        trunk=trunk,
        upgrade_from=tuple(refs),
        allow=tuple(p._strings(t, "allow", WHERE, SECTION)),
        labels=MappingProxyType({k.strip("/"): v for k, v in labels.items()}),
        database=database,
        seed=tuple(_command(p, c, f"seed[{i}]") for i, c in enumerate(seed)),
        max_slowdown=float(slowdown),
        upgrade=_command(p, t["upgrade"], "upgrade") if "upgrade" in t else None,
        revert=_command(p, t["revert"], "revert") if "revert" in t else None,
        baseline=baseline,
        lock_budget=float(budget) if budget is not None else None,
        scale=scale,
        lock_lint=lint,
    )


def _command(p: Any, value: Any, key: str) -> tuple[str, ...]:
    argv: tuple[str, ...] = p._argv(value, WHERE, key, SECTION)
    if not argv:
        p._fail(WHERE, key, "is an empty command", SECTION)
    return argv


def matching_dirs(root: Path, pattern: str) -> list[str]:
    """The directories under `root` that `pattern` matches, as sorted posix paths relative to it."""
    found = glob.glob(pattern, root_dir=root, recursive=True)
    return sorted({Path(f).as_posix().rstrip("/") for f in found if (root / f).is_dir()})
