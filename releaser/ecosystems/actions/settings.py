"""release.toml's `[actions]` table: which workflow files to pin, and the server their actions live on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releaser.core.config import ConfigReader, KindInputs
from releaser.core.paths import inside
from releaser.ecosystems.git.settings import git_url_kind, refuse_unsafe_remote

KIND = "actions"
DEFAULT_WORKFLOWS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
DEFAULT_SERVER = "https://github.com"


@dataclass(frozen=True)
class ActionsInputs(KindInputs):
    root: Path  # the project: workflow globs are matched inside it
    workflows: tuple[str, ...]  # globs, relative to the project
    server: str  # where `owner/repo` lives: `{server}/owner/repo`; may carry credentials
    allow_local: bool = False

    def urls(self) -> tuple[str, ...]:
        return (self.server,)

    def files(self) -> list[Path]:
        """The workflow files the globs match, sorted; never one outside the project."""
        found: set[Path] = set()
        for pattern in self.workflows:
            found.update(p for p in self.root.glob(pattern) if p.is_file() and inside(self.root, p))
        return sorted(found)

    def remote(self, repository: str) -> str:
        """The git URL of `owner/repo` on the server."""
        return f"{self.server.rstrip('/')}/{repository}"


def parse(r: ConfigReader, data: dict[str, Any]) -> ActionsInputs | None:
    """`[actions]`, every key checked; None when release.toml has none."""
    t = r._table(data, KIND, required=False)
    if t is None:
        return None
    where, root = "[actions]", r.path.parent
    r._no_unknown(t, {"workflows", "server", "allow-local"}, where, KIND)
    workflows = tuple(r._strings(t, "workflows", where, KIND)) if "workflows" in t else DEFAULT_WORKFLOWS
    if not workflows:
        r._fail(where, "workflows", "names no workflow files", KIND)
    for pattern in workflows:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            r._fail(where, "workflows", f"{pattern[:60]!r} leads outside the project; refused", KIND)
    server = r.expand(r._get(t, "server", str, where, KIND, default=DEFAULT_SERVER), where, "server", KIND)
    local = r._get(t, "allow-local", bool, where, KIND, default=False)
    refuse_unsafe_remote(r, server, local, where, "server", KIND)
    if git_url_kind(server) == "local" and "://" not in server:
        server = (root / server).resolve().as_uri()  # a path is the project's, whatever folder releaser runs in
    return ActionsInputs(root, workflows, server, local)
