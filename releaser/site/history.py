"""The line of RCs a site shows: every record in `releases/`, and every RC found only through its tag.

Each record is read through the verified reader (`releaser.record.records`). A record
that cannot be read is not dropped: it stays in the line with what is wrong with it,
so its page can say so and every other page still renders. An RC whose record is not
in the working tree (a branch that never merged it, a deleted folder) is read from
its tag: `git show <tag>:releases/<rc>/...`, the record as it was committed with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ReleaserError
from releaser.lock.sbom import SBOM_NAME
from releaser.plumbing import gitrepo
from releaser.record import records

REVERT = "revert.sh"
# The files of a record a reader may open, in the order the page lists them.
FILES = (records.MANIFEST_MD, SBOM_NAME, REVERT, records.LOCK_COPY)


@dataclass(frozen=True)
class Entry:
    """One RC of the line: its record when it could be read, else what is wrong with it."""

    rc: str
    source: str  # where it was read: "releases/<rc>/" or "tag v<rc>"
    manifest: dict[str, Any] | None = None  # verified against its lock copy; its `pins` are the lock's
    files: dict[str, bytes] = field(default_factory=dict)  # the record's files a reader may open, as recorded
    problems: tuple[str, ...] = ()  # what is missing or wrong, for its page

    @property
    def ok(self) -> bool:
        return self.manifest is not None

    @property
    def pins(self) -> list[dict[str, Any]]:
        return list((self.manifest or {}).get("pins", []))


def line_of_rcs(config: ReleaseConfig) -> list[Entry]:
    """Every RC, oldest first (PEP 440 order, as `releaser list`)."""
    folder = records.records_dir(config)
    found = {rc: _from_folder(folder, rc) for rc in _candidates(folder)}
    for rc, tag in _tagged(config).items():
        if rc not in found:
            found[rc] = _from_tag(config, rc, tag)
    return [found[rc] for rc in records.oldest_first(found)]


def _candidates(folder: Path) -> list[str]:
    """Record folders, those without a readable manifest.json too (so their page can say so)."""
    if not folder.is_dir():
        return []
    return [p.name for p in folder.iterdir() if p.is_dir() and not p.is_symlink() and records.is_rc_name(p.name)]


def _from_folder(folder: Path, rc: str) -> Entry:
    """A record in the working tree; its lock is checked by digest, not parsed (the manifest lists its pins)."""
    where, path = f"{folder.name}/{rc}/", folder / rc
    files = {name: (path / name).read_bytes() for name in (records.MANIFEST, *FILES) if _plain_file(path / name)}
    if records.MANIFEST not in files:
        return Entry(rc, where, problems=(f"{path / records.MANIFEST}: missing, or not a file",))
    return _verified(rc, where, path, files)


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()  # a symlink in a record could point anywhere


def _tagged(config: ReleaseConfig) -> dict[str, str]:
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


def _from_tag(config: ReleaseConfig, rc: str, tag: str) -> Entry:
    where = f"tag {tag}"
    top = (gitrepo.toplevel(config.root) or config.root).resolve()
    folder = records.records_dir(config).resolve()
    inside = (folder / rc).relative_to(top).as_posix() if folder.is_relative_to(top) else None
    if inside is None:
        return Entry(rc, where, problems=(f"{tag}: the records folder is outside the git repository",))

    def show(name: str) -> bytes | None:
        return gitrepo.show_bytes(top, f"{tag}:{inside}/{name}")

    files = {name: data for name in (records.MANIFEST, *FILES) if (data := show(name)) is not None}
    if records.MANIFEST not in files:
        return Entry(rc, where, problems=(f"{tag} holds no {inside}/{records.MANIFEST} (cut with --no-commit?)",))
    return _verified(rc, where, Path(f"{tag}:{inside}"), files)


def _verified(rc: str, where: str, path: Path, files: dict[str, bytes]) -> Entry:
    """The entry of a record whose files were read: verified, naming each file it should hold and does not."""
    try:
        manifest = records.verified_manifest(rc, path, files.pop(records.MANIFEST), files.get(records.LOCK_COPY, b""))
    except ReleaserError as exc:
        return Entry(rc, where, problems=(f"the record cannot be read: {exc}",))
    expected = [records.MANIFEST_MD, records.LOCK_COPY]
    if isinstance(manifest.get("sbom"), dict):
        expected.append(SBOM_NAME)
    if isinstance(manifest.get("rehearsal"), dict) and manifest["rehearsal"].get("ran"):
        expected.append(REVERT)
    missing = tuple(f"{name} is missing from the record" for name in expected if name not in files)
    return Entry(rc, where, manifest, files, missing)
