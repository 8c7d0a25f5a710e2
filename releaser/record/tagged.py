"""Records found through their tags: the previous RC, wherever the current branch is.

An RC's tag points at the commit that holds its record (`cut` commits the record, then
tags that commit). A release branch forked before that commit, or main while the RC
was cut on a release branch, does not have `releases/<rc>/` in its tree, yet the RC
is the previous release of both. So the records are also read from each RC tag's
commit (`git show <tag>:releases/<rc>/manifest.json`, and its lock), verified exactly
as a record in the tree is. The files are kept under the repository's git folder
(`releaser/records/<rc>/`), written once: what a tag's commit holds never changes.
"""

from __future__ import annotations

import re

from releaser.core.config import ReleaseConfig
from releaser.plumbing import gitrepo
from releaser.plumbing.fsutil import write_atomic
from releaser.record import records


def tagged_records(config: ReleaseConfig) -> dict[str, str]:
    """RC id -> its tag, for every tag `[release] tag` names (any version); none outside git."""
    root = config.root
    if gitrepo.toplevel(root) is None:
        return {}
    prefix, _, suffix = config.release.tag.partition("{rc}")
    pattern = re.compile(re.escape(prefix) + r"(.+)" + re.escape(suffix) + "$")
    found: dict[str, str] = {}
    for tag in gitrepo.tags(root):
        match = pattern.match(tag)
        if match and records.is_rc_name(match.group(1)):
            found[match.group(1)] = tag
    return found


def read_tagged(config: ReleaseConfig, rc: str, tag: str) -> records.Record | None:
    """The record of `rc` as the commit `tag` names holds it; None when that commit has none."""
    root = config.root
    top = gitrepo.toplevel(root)
    common = gitrepo.run(root, "rev-parse", "--git-common-dir")
    if top is None or common.returncode != 0:
        return None
    where = (root.resolve().relative_to(top.resolve()) / config.release.records / rc).as_posix()
    folder = (root / common.stdout.strip()).resolve() / "releaser" / "records"
    if not (folder / rc / records.MANIFEST).is_file():
        files = {}
        for name in (records.MANIFEST, records.LOCK_COPY):
            data = gitrepo.show_bytes(top, f"refs/tags/{tag}:{where}/{name}")
            if data is None:
                return None
            files[name] = data
        for name, text in files.items():
            write_atomic(folder / rc / name, text)
    return records.read(folder, rc)


def newest_before(config: ReleaseConfig, before: str | None, in_tree: list[str]) -> tuple[str, str] | None:
    """(rc, tag) of the newest tagged RC older than `before` (the RC being cut; else this version's final
    release), when it is newer than every RC recorded in the tree."""
    from packaging.version import InvalidVersion, Version

    try:  # only older RCs: on a release branch, main's RCs of the next version are not its previous release
        limit = Version(before) if before is not None else Version(config.release.version)
    except InvalidVersion:
        limit = Version(config.release.version)
    tagged = {}
    for rc, tag in tagged_records(config).items():
        try:
            if rc != before and Version(rc) < limit:
                tagged[rc] = tag
        except InvalidVersion:
            continue
    ordered = records.oldest_first(set(tagged) | set(in_tree))
    if not ordered or ordered[-1] in in_tree:
        return None
    return ordered[-1], tagged[ordered[-1]]
