"""Where the rehearsal's commands run: a tree and its pinned environment, for each of two RCs.

This RC's commands run in the project's own tree (the commit `cut` builds) and its
pinned venv (the one `cut` builds in, or one made the same way for `releaser
rehearse`). The previous RC's run in a git worktree at the commit its record names
and a venv holding exactly its recorded lock, installed the way `cut` and
`reproduce` install one (`releaser.ecosystems.python.buildenv`, hash-verified): the database
is built as a real install of that RC had it. When both locks are the same bytes,
the one venv serves both. That venv is kept in the user's cache, one per locked set,
and checked file by file against its install on every use (`pinned_venv`,
`releaser.ecosystems.python.keptvenv`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from releaser.core.config import ReleaseConfig
from releaser.core.errors import Refused, ReleaserError, UpstreamError
from releaser.ecosystems.python.buildenv import activated_env
from releaser.ecosystems.python.keptvenv import pinned_venv
from releaser.plumbing import gitrepo
from releaser.record.records import Record


@dataclass(frozen=True)
class Place:
    """A tree and the environment its commands run in."""

    rc: str  # the RC id, or "this RC"
    root: Path
    env: dict[str, str]


@contextmanager
def previous_place(
    config: ReleaseConfig, previous: Record, work: Path, *, lock_bytes: bytes, current: Place,
    say: Callable[[str], None],
) -> Iterator[Place]:
    """The previous RC's tree (a detached git worktree at its commit) and pinned environment."""
    commit = previous.manifest.get("commit")
    if not isinstance(commit, str) or not gitrepo.ok(config.root, "cat-file", "-e", f"{commit}^{{commit}}"):
        raise Refused(
            f"{previous.rc}'s record names commit {str(commit)[:12]}, which this repository does not have: "
            "fetch it (git fetch --tags) to rehearse the upgrade from it"
        )
    with worktree(config.root, commit, work / "previous-tree") as root:
        if (previous.path / "release.lock").read_bytes() == lock_bytes:
            say(f"  {previous.rc} had the same lock: its schema is built in this RC's environment")
            env = current.env
        else:
            say(f"  {previous.rc} had another lock: its schema is built in its own pinned environment (its recorded lock)")
            try:
                env = activated_env(pinned_venv(config, previous.lock))
            except ReleaserError as exc:  # the index dropped a file, a pin no longer installs here
                raise UpstreamError(
                    f"{previous.rc}'s environment (its recorded lock) can no longer be built, so its schema and its "
                    f"gates cannot be rehearsed: {exc}"
                ) from None
        yield Place(previous.rc, root, env)


@contextmanager
def worktree(root: Path, commit: str, tree: Path) -> Iterator[Path]:
    """A detached git worktree of `root`'s repository at `commit`, removed afterwards; yields the
    project root's place in it (the project may sit below the repository's top: a monorepo)."""
    gitrepo.git(root, "worktree", "add", "--detach", "--force", str(tree), commit)
    try:
        top = gitrepo.toplevel(root) or root
        yield tree / root.resolve().relative_to(top.resolve())
    finally:
        gitrepo.run(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(tree, ignore_errors=True)
        gitrepo.run(root, "worktree", "prune")
