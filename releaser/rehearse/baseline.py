"""Where a rehearsal starts: the previous RC, the baseline release, or nothing to revert to.

A project that adopts releaser mid-life has releases made before it: `[migrations]
baseline = "<git ref>"` names the last one. Until the first RC is recorded, that ref
is rehearsed exactly as a previous RC would be: its tree in a git worktree, its
requirements (the files release.toml names, as they were in that tree) locked as of
its commit date by releaser's dated resolution, installed hash-verified, migrated and
seeded; the revert goes back to its heads, and so does revert.sh.

Without a previous RC and without a baseline there is no earlier release to go back
to: the first RC records the forward figures and says that no revert was rehearsed
(`NO_REVERT`), whatever old irreversible migrations its history holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from releaser.core.config import CONFIG_NAME, ReleaseConfig
from releaser.core.errors import ConfigError, ReleaserError
from releaser.ecosystems.python.buildenv import activated_env
from releaser.ecosystems.python.keptvenv import pinned_venv
from releaser.migrations.graph import Graph
from releaser.migrations.loader import read_graph_at
from releaser.plumbing import gitrepo
from releaser.record.records import Record
from releaser.rehearse.environments import Place, previous_place, worktree
from releaser.rehearse.revertplan import recorded_graph

Log = Callable[[str], None]


def no_revert(rc: str) -> str:
    """Why the first RC of a line without a baseline rehearses no revert; one line."""
    return (
        f"no revert was rehearsed: {rc} is the first RC of its line and [migrations] baseline is not set, "
        "so there is no earlier release to go back to (set baseline to the last release's tag to rehearse the way back to it)"
    )


@dataclass(frozen=True)
class Start:
    """The release a rehearsal upgrades from: its name, commit and heads, and how to build its database."""

    name: str  # the previous RC's id, or the baseline ref
    kind: str  # "rc" | "baseline"
    commit: str
    graph: Graph  # its migrations: the revert goes back to its heads
    place: Callable[[Path, Place, Log], AbstractContextManager[Place]]  # (work, this RC's place, say)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "commit": self.commit}


def find_start(config: ReleaseConfig, previous: Record | None, lock_bytes: bytes) -> Start | None:
    """The previous RC; else the baseline ref; else None (the first RC of a line, no baseline)."""
    settings = config.migrations
    assert settings is not None
    if previous is not None:
        graph = recorded_graph(settings, config.root, previous)

        def rc_place(work: Path, current: Place, say: Log) -> AbstractContextManager[Place]:
            return previous_place(config, previous, work, lock_bytes=lock_bytes, current=current, say=say)

        return Start(previous.rc, "rc", str(previous.manifest.get("commit")), graph, rc_place)
    ref = settings.baseline
    if ref is None:
        return None
    commit = _commit_of(config.root, ref)
    graph = read_graph_at(settings, config.root, commit)

    def baseline(work: Path, current: Place, say: Log) -> AbstractContextManager[Place]:
        return baseline_place(config, ref, commit, work, say)

    return Start(ref, "baseline", commit, graph, baseline)


def _commit_of(root: Path, ref: str) -> str:
    done = gitrepo.run(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
    if done.returncode != 0:
        raise ConfigError(
            f"[migrations] baseline = {ref!r} names no commit of this repository (a tag or branch of the last "
            "release made before releaser; git fetch --tags?)"
        )
    return done.stdout.strip()


@contextmanager
def baseline_place(config: ReleaseConfig, ref: str, commit: str, work: Path, say: Log) -> Iterator[Place]:
    """The baseline's tree, and a venv of its requirements locked as of its commit date."""
    from releaser.ecosystems import load_config
    from releaser.lock.locking import lock

    when = datetime.fromtimestamp(gitrepo.commit_time(config.root, commit), tz=UTC)
    with worktree(config.root, commit, work / "baseline-tree") as root:
        # This release.toml, read in the baseline's tree: its inputs are the files it names, as they were then.
        (root / CONFIG_NAME).write_bytes(config.path.read_bytes())
        try:
            there = load_config(root / CONFIG_NAME)
            say(f"  baseline {ref} ({commit[:12]}): its requirements locked as of its commit, {when.isoformat()}")
            locked = lock(there, as_of=when)
        except ReleaserError as exc:
            raise type(exc)(f"[migrations] baseline {ref}: {str(exc).replace(str(root), ref)}") from None
        yield Place(ref, root, activated_env(pinned_venv(there, locked.lock)))
