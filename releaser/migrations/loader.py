"""Read the migration graph of the working tree, or of any git ref without checking it out.

The configured globs pick the migration directories; their files go, as bytes, to
the framework's reader. At a git ref the same globs are matched against the
ref's tree (`git ls-tree`) and the files come out of git's object store in one
`git cat-file --batch`, so reading trunk or an old release costs two processes.
"""

from __future__ import annotations

import os
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path

from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.migration_config import MigrationSettings, matching_dirs
from releaser.core.paths import confined, read_input
from releaser.migrations import alembic, django, flyway, south
from releaser.migrations.graph import Graph
from releaser.migrations.pysource import Source
from releaser.migrations.reader import MigrationReader
from releaser.plumbing import gitrepo

READERS: dict[str, MigrationReader] = {r.framework: r for r in (django.READER, alembic.READER, south.READER, flyway.READER)}


def read_graph(settings: MigrationSettings, root: Path) -> Graph:
    """The graph of the working tree under `root`; a glob that matches nothing is a ConfigError."""
    dirs: dict[str, list[Source]] = {}
    for pattern in settings.paths:
        found = matching_dirs(root, pattern)
        if not found:
            raise ConfigError(f"[migrations] paths: {pattern!r} matches no directory under {root}")
        for directory in found:
            dirs[directory] = _files_on_disk(root, directory, READERS[settings.framework].recursive)
    return READERS[settings.framework].read(settings, dirs)


def _files_on_disk(root: Path, directory: str, recursive: bool) -> list[Source]:
    """Every file of `directory` (and below it, `recursive`); plain strings, not Paths: 1,000 files add up."""
    files = []
    base = os.path.join(root, directory)
    confined(root, Path(base))  # a migration folder linked to one outside the project is never read
    for top, subdirs, names in os.walk(base):
        subdirs[:] = sorted(subdirs) if recursive else []
        folder = directory if top == base else f"{directory}/{os.path.relpath(top, base).replace(os.sep, '/')}"
        for name in sorted(names):
            # Inside the project, a regular file, size-capped: never /dev/zero, a FIFO, or a file elsewhere.
            files.append(Source(f"{folder}/{name}", read_input(root, os.path.join(top, name), folder_checked=True)))
    return files


def read_graph_at(settings: MigrationSettings, root: Path, ref: str) -> Graph:
    """The graph as it is at git `ref` (a commit, branch or tag), read from git's objects."""
    if ref.startswith("-") or not gitrepo.ok(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"):
        raise ConfigError(f"{ref!r} is not a commit, branch or tag in the git repository of {root}")
    blobs: dict[str, str] = {}  # path -> object id
    for entry in _git(root, "ls-tree", "-r", "-z", ref, "--", ".").split(b"\0"):
        meta, tab, path = entry.partition(b"\t")
        parts = meta.split()
        if tab and len(parts) == 3 and parts[1] == b"blob":
            blobs[path.decode("utf-8", "surrogateescape")] = parts[2].decode("ascii")
    directories = {p.rsplit("/", 1)[0] if "/" in p else "" for p in blobs}
    every_dir = {"/".join(d.split("/")[: i + 1]) for d in directories if d for i in range(d.count("/") + 1)}
    recursive = READERS[settings.framework].recursive
    chosen: dict[str, list[str]] = {}
    for pattern in settings.paths:
        for directory in sorted(d for d in every_dir if glob_matches(pattern, d)):
            prefix = directory + "/"
            chosen[directory] = sorted(
                p for p in blobs if p.startswith(prefix) and (recursive or "/" not in p[len(prefix):])
            )
    wanted = sorted({p for paths in chosen.values() for p in paths})
    data = dict(zip(wanted, _cat_blobs(root, [blobs[p] for p in wanted])))
    return READERS[settings.framework].read(settings, {d: [Source(p, data[p]) for p in ps] for d, ps in chosen.items()})


def _git(root: Path, *args: str, given: bytes | None = None) -> bytes:
    """`git ARGS` as bytes (file names need not be UTF-8); a failure is an UpstreamError."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, input=given, capture_output=True, timeout=gitrepo.GIT_TIMEOUT,
            env=gitrepo.project_env(), stdin=None if given is not None else subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UpstreamError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise UpstreamError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()[-300:]}")
    return done.stdout


def _cat_blobs(root: Path, oids: list[str]) -> list[bytes]:
    """The bytes of each blob, in order, from one `git cat-file --batch`."""
    if not oids:
        return []
    out, at, found = _git(root, "cat-file", "--batch", given="".join(o + "\n" for o in oids).encode()), 0, []
    for oid in oids:
        end = out.find(b"\n", at)
        header = out[at:end].split() if end != -1 else []
        if len(header) != 3 or not header[2].isdigit():
            raise UpstreamError(f"git cat-file gave no contents for object {oid}")
        size = int(header[2])
        found.append(out[end + 1 : end + 1 + size])
        at = end + 1 + size + 1
    return found


def glob_matches(pattern: str, path: str) -> bool:
    """Whether `glob.glob(pattern, recursive=True)` would find the posix `path`: each folder name
    matched by `fnmatch`, `**` spanning folders, names starting with "." only matched explicitly."""
    wanted = pattern.strip("/").split("/")
    parts = path.split("/")

    def match(w: int, p: int) -> bool:
        if w == len(wanted):
            return p == len(parts)
        if wanted[w] == "**":
            return any(match(w + 1, k) for k in range(p, len(parts) + 1) if not any(x.startswith(".") for x in parts[p:k]))
        if p == len(parts) or (parts[p].startswith(".") and not wanted[w].startswith(".")):
            return False
        return fnmatchcase(parts[p], wanted[w]) and match(w + 1, p + 1)

    return match(0, 0)
