"""The framework's own commands: migrate everything, migrate one app back to a name.

Django (and South): `python manage.py migrate --noinput` brings every app up, the
framework's own apps included; `python manage.py migrate --noinput APP NAME` takes APP
back to NAME (`zero`: none of it), and `migrate --check APP NAME` exits 1 while the
database is anywhere else. Alembic: `alembic upgrade heads`, `alembic downgrade REV`
(`base`: none). `[migrations] upgrade` and `revert` replace them (`revert` is a
template: `{app}`, `{target}`), which Flyway needs, having no free undo.

The revert plan migrates apps back dependents first, the reverse of the order in
which their migrations depend on each other's, as the notes on proving a revert ask.
"""

from __future__ import annotations

import graphlib
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from releaser.core.errors import ConfigError
from releaser.core.migration_config import MigrationSettings

_DJANGO = ("python", "manage.py", "migrate", "--noinput")
UPGRADE = {"django": _DJANGO, "south": _DJANGO, "alembic": ("alembic", "upgrade", "heads")}
REVERT = {
    "django": (*_DJANGO, "{app}", "{target}"),
    "south": (*_DJANGO, "{app}", "{target}"),
    "alembic": ("alembic", "downgrade", "{target}"),
}
NOTHING = {"django": "zero", "south": "zero", "alembic": "base", "flyway": "0"}  # the target "none of it"


@dataclass(frozen=True)
class Commands:
    framework: str
    upgrade: tuple[str, ...]
    revert: tuple[str, ...]  # a template: {app}, {target}
    custom: bool  # `revert` came from release.toml: releaser knows no check for it

    @classmethod
    def of(cls, settings: MigrationSettings) -> Commands:
        """The commands of `settings` (a MigrationSettings): its overrides, else the framework's own."""
        framework = settings.framework
        upgrade = settings.upgrade or UPGRADE.get(framework)
        revert = settings.revert or REVERT.get(framework)
        if upgrade is None or revert is None:
            missing = " and ".join(k for k, v in (("upgrade", upgrade), ("revert", revert)) if v is None)
            raise ConfigError(
                f"[migrations] framework = {framework!r} has no standard command to migrate a database "
                f"(up and back to a version): set {missing} in [migrations], e.g. revert = [\"flyway\", \"undo\", "
                "\"-target={target}\"]"
            )
        return cls(framework, tuple(upgrade), tuple(revert), settings.revert is not None)

    def revert_argv(self, app: str, target: str) -> tuple[str, ...]:
        return tuple(a.replace("{app}", app).replace("{target}", target) for a in self.revert)


@dataclass(frozen=True)
class RevertStep:
    """One app (Alembic: one script directory) taken back to `target`."""

    app: str
    target: str  # a migration name, or NOTHING[framework]
    argv: tuple[str, ...]
    check: str | None  # a shell line that fails unless the app is at `target`; None for custom commands

    def to_json(self) -> dict[str, Any]:
        return {"app": self.app, "target": self.target, "argv": list(self.argv), "check": self.check}


def revert_steps(
    commands: Commands,
    from_heads: Mapping[str, Iterable[str]],
    to_heads: Mapping[str, Iterable[str]],
    depends: Mapping[str, set[str]],
) -> list[RevertStep]:
    """The ordered steps taking a database at `from_heads` back to `to_heads` (app -> head names)."""
    nothing = NOTHING.get(commands.framework, "0")
    changed = []
    for app in set(from_heads) | set(to_heads):
        now, then = sorted(from_heads.get(app, ())), sorted(to_heads.get(app, ()))
        if now != then and now:  # an app with no migrations now has nothing to take back
            changed.append((app, then or [nothing]))
    order = {app: i for i, app in enumerate(revert_order(depends, [app for app, _ in changed]))}
    steps = []
    for app, targets in sorted(changed, key=lambda pair: order[pair[0]]):
        for target in targets:
            steps.append(RevertStep(app, target, commands.revert_argv(app, target), _check(commands, app, target, targets)))
    return steps


def revert_order(depends: Mapping[str, set[str]], apps: Iterable[str]) -> list[str]:
    """`apps`, dependents before what they depend on; by name where the apps depend on each other in a cycle."""
    wanted = sorted(set(apps))
    sorter = graphlib.TopologicalSorter({app: set(depends.get(app, ())) for app in wanted})
    try:
        forward = [app for app in sorter.static_order() if app in wanted]
    except graphlib.CycleError:
        return wanted
    return list(reversed(forward))


def app_dependencies(edges: Iterable[tuple[str, Iterable[str]]]) -> dict[str, set[str]]:
    """app -> the other apps its migrations depend on, from (app, parent apps) per migration."""
    depends: dict[str, set[str]] = {}
    for app, parents in edges:
        depends.setdefault(app, set()).update(p for p in parents if p != app)
    return depends


def _check(commands: Commands, app: str, target: str, targets: list[str]) -> str | None:
    if commands.custom:
        return None
    if commands.framework in ("django", "south"):
        argv = ("python", "manage.py", "migrate", "--check", app, target)
        return f"{shlex.join(argv)} >/dev/null"
    if commands.framework == "alembic":
        # `alembic current` prints a line per head, `REV (head)` or with other flags: compare the
        # revisions only, both sides sorted alike; every revision stays one quoted word.
        expected = " ".join(shlex.quote(t) for t in sorted(t for t in targets if t != "base"))
        current = "alembic current 2>/dev/null | sed -e 's/\\( ([a-z ]*)\\)*$//' | LC_ALL=C sort"
        return f'test "$({current})" = "$(printf \'%s\\n\' {expected} | LC_ALL=C sort)"'
    return None
