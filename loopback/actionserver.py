"""A fake GitHub for actions: a folder of bare repositories `owner/repo.git`.

Each action is written in a working repository (`GitRepo`) and published to the
server's bare repository by a forced push of its branches and tags, so a test can
move a tag upstream (`publish` again) exactly as a maintainer does. releaser
reads the server by its file:// URL (`[actions] server`, with allow-local).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from loopback.gitrepo import GitRepo

COMPOSITE = "name: {name}\nruns:\n  using: composite\n  steps:\n{steps}"
NODE = "name: {name}\nruns:\n  using: node20\n  main: index.js\n"


def composite(name: str, *uses: str) -> str:
    """An action.yml of a composite action whose steps use `uses` (each `owner/repo@ref`)."""
    steps = "".join(f"    - uses: {u}\n" for u in uses) or "    - run: echo hi\n      shell: bash\n"
    return COMPOSITE.format(name=name, steps=steps)


def node(name: str) -> str:
    """An action.yml of a plain JavaScript action (it uses nothing)."""
    return NODE.format(name=name)


class ActionServer:
    """Bare repositories under `root/owner/repo.git`; their working copies under `work/`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "server"
        self.work = Path(root) / "work"
        self.root.mkdir(parents=True, exist_ok=True)
        self.repos: dict[str, GitRepo] = {}

    @property
    def url(self) -> str:
        return self.root.resolve().as_uri()

    def repo(self, name: str) -> GitRepo:
        """The working repository of `owner/repo` (created, with its bare twin, on first use)."""
        if name not in self.repos:
            self.repos[name] = GitRepo(self.work / name)
            bare = self.root / f"{name}.git"
            bare.mkdir(parents=True)
            self.repos[name].git("init", "--quiet", "--bare", str(bare))
            # GitHub answers for owner/repo and owner/repo.git alike; git over HTTP asks for the path as given
            (self.root / name).symlink_to(bare.name)
        return self.repos[name]

    def release(self, name: str, files: Mapping[str, str], *, tag: str, when: datetime, message: str = "release") -> str:
        """Commit `files` to `owner/repo`, tag it (moving the tag if it exists) and publish; the commit id."""
        repo = self.repo(name)
        sha = repo.commit(files, when=when, message=message)
        repo.git("tag", "--force", tag, sha)
        self.publish(name)
        return sha

    def publish(self, name: str) -> None:
        """Push every branch and tag of the working repository to the server, moved tags included."""
        bare = str(self.root / f"{name}.git")
        self.repos[name].git("push", "--quiet", "--force", bare, "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")
