"""Where the rehearsal's commands run: a tree and its pinned environment, for each of two RCs.

This RC's commands run in the project's own tree (the commit `cut` builds) and its
pinned venv (the one `cut` builds in, or one made the same way for `releaser
rehearse`). The previous RC's run in a git worktree at the commit its record names
and a venv holding exactly its recorded lock, installed the way `cut` and
`reproduce` install one (`releaser.install.buildenv`, hash-verified): the database
is built as a real install of that RC had it. When both locks are the same bytes,
the one venv serves both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from releaser.core import gitrepo
from releaser.core.config import ReleaseConfig
from releaser.core.errors import Refused
from releaser.core.lockfile import Lock
from releaser.install.buildenv import activated_env, create_venv, install_python
from releaser.record.records import Record


@dataclass(frozen=True)
class Place:
    """A tree and the environment its commands run in."""

    rc: str  # the RC id, or "this RC"
    root: Path
    env: dict[str, str]


def pinned_venv(config: ReleaseConfig, lock: Lock, path: Path, *, what: str) -> Path:
    """A fresh venv at `path` holding exactly `lock`'s Python set, every file hash-verified."""
    venv = create_venv(path, what=what)
    work = path.parent / f"{path.name}-work"
    work.mkdir()
    try:
        install_python(config, lock, venv, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return venv


@contextmanager
def previous_place(
    config: ReleaseConfig, previous: Record, work: Path, *, lock_bytes: bytes, current: Place
) -> Iterator[Place]:
    """The previous RC's tree (a detached git worktree at its commit) and pinned environment."""
    commit = previous.manifest.get("commit")
    root = config.root
    if not isinstance(commit, str) or not gitrepo.ok(root, "cat-file", "-e", f"{commit}^{{commit}}"):
        raise Refused(
            f"{previous.rc}'s record names commit {str(commit)[:12]}, which this repository does not have: "
            "fetch it (git fetch --tags) to rehearse the upgrade from it"
        )
    tree = work / "previous-tree"
    gitrepo.git(root, "worktree", "add", "--detach", "--force", str(tree), commit)
    try:
        if (previous.path / "release.lock").read_bytes() == lock_bytes:
            env = current.env
        else:
            venv = pinned_venv(config, previous.lock, work / "previous-venv", what=f"{previous.rc}'s environment")
            env = activated_env(venv)
        # The project's root may sit below the repository's top (a monorepo): the same place in the tree.
        top = gitrepo.toplevel(root) or root
        yield Place(previous.rc, tree / root.resolve().relative_to(top.resolve()), env)
    finally:
        gitrepo.run(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tree, ignore_errors=True)
        gitrepo.run(root, "worktree", "prune")
