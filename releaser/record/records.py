"""The record of a cut RC: `releases/<rc>/`, written once, never overwritten.

    releases/<rc>/manifest.json   machine-readable (schema below, docs/records.md)
    releases/<rc>/MANIFEST.md     for people, rendered from a Jinja2 template
    releases/<rc>/release.lock    a byte copy of the lock the RC was built from

A record is written into a temporary sibling folder and renamed into place in one
step, so an interrupted cut leaves no partial record, and a name that exists is
refused rather than replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core import documents, lockfile
from releaser.core.errors import ConfigError, Refused
from releaser.core.paths import confined
from releaser.plumbing.fsutil import fault_point, write_synced
from releaser.core.lockfile import Lock

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig

MANIFEST = "manifest.json"
MANIFEST_MD = "MANIFEST.md"
LOCK_COPY = "release.lock"
SCHEMA = 1
_RC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")


@dataclass(frozen=True)
class Record:
    rc: str
    path: Path
    manifest: dict[str, Any]
    lock: Lock


def is_rc_name(name: str) -> bool:
    """Whether `name` can be an RC id (and so a record's folder): no path separators, no leading dot."""
    return bool(_RC_NAME.match(name))


def records_dir(config: ReleaseConfig) -> Path:
    """The folder holding the project's records, `[release] records` under its root (never a symlink out of it)."""
    return confined(config.root, config.root / config.release.records)


def lock_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def recorded(records_dir: Path) -> list[str]:
    """The RC ids recorded under `records_dir`, oldest first by name order of PEP 440."""
    # A hidden name is a record being written (`.<rc>.*.partial`), or one a killed cut left: never an RC.
    names = [p.name for p in records_dir.iterdir() if _RC_NAME.match(p.name) and (p / MANIFEST).is_file()] if records_dir.is_dir() else []
    return oldest_first(names)


def oldest_first(rcs: Iterable[str]) -> list[str]:
    """RC ids in PEP 440 order (0.9.0rc2 before 0.9.0rc10); a name that is no version after them all, by name."""
    from packaging.version import InvalidVersion, Version

    def order(name: str) -> tuple[int, Any]:
        try:
            return (0, Version(name))
        except InvalidVersion:
            return (1, name)

    return sorted(rcs, key=order)


def read(records_dir: Path, rc: str) -> Record:
    """The record of `rc`, verified: a manifest that does not match its lock copy is refused."""
    if not _RC_NAME.match(rc):
        raise ConfigError(f"{rc!r} is not an RC id")
    path = records_dir / rc
    for name in (MANIFEST, LOCK_COPY):
        confined(records_dir, path / name)  # a record is read from the project, never through a link out of it
    if not (path / MANIFEST).is_file():
        known = ", ".join(recorded(records_dir)) or "none yet"
        raise ConfigError(f"{rc}: no such RC in {records_dir} (recorded: {known})")
    try:
        manifest_bytes = (path / MANIFEST).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path / MANIFEST}: cannot be read: {str(exc)[:120]}") from None
    data = (path / LOCK_COPY).read_bytes() if (path / LOCK_COPY).is_file() else b""
    return parse(rc, path, manifest_bytes, data)


def parse(rc: str, path: Path, manifest_bytes: bytes, data: bytes) -> Record:
    """The record of `rc` from the bytes of its manifest and lock copy (read from disk, or from a tag), verified."""
    manifest = verified_manifest(rc, path, manifest_bytes, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path / LOCK_COPY}: is not UTF-8 text") from None
    return Record(rc, path, manifest, lockfile.loads(text, path / LOCK_COPY))


def verified_manifest(rc: str, path: Path, manifest_bytes: bytes, data: bytes) -> dict[str, Any]:
    """The manifest of `rc`, checked against the bytes of its lock copy (`data`), the lock left unparsed:
    what a reader of many records needs (its `pins` are the lock's pins, as cut)."""
    manifest = documents.json_document(manifest_bytes, path / MANIFEST, ConfigError)
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA or manifest.get("lock_digest") != lock_digest(data):
        raise Refused(
            f"{path}: the manifest does not match its copy of the lock (edited by hand?); "
            "a record is only trusted as it was cut"
        )
    problem = _malformed(manifest, rc)
    if problem:
        raise Refused(f"{path / MANIFEST}: {problem}; a record is only trusted as it was cut")
    return manifest


def _malformed(manifest: dict[str, Any], rc: str) -> str | None:
    """What is wrong with the shape of a manifest whose digest matches, or None: `show` and `cut` read these fields."""
    if manifest.get("rc") != rc:
        return f"names RC {str(manifest.get('rc'))[:40]!r}, not {rc}"
    for key, fields in (("pins", {"kind": str, "name": str, "version": str}), ("built", {"name": str, "sha256": str, "size": int})):
        items = manifest.get(key, [])
        if not isinstance(items, list):
            return f"{key} is not a list"
        for item in items:
            if not isinstance(item, dict) or not all(isinstance(item.get(k), t) for k, t in fields.items()):
                return f"an entry of {key} lacks {', '.join(fields)}"
            if not isinstance(item.get("artifacts", []), list):
                return f"an entry of {key} has artifacts that are not a list"
    gates = manifest.get("gates", [])
    if not isinstance(gates, list) or not all(isinstance(g, list) and all(isinstance(a, str) for a in g) for g in gates):
        return "gates is not a list of commands"
    if not isinstance(manifest.get("builder", {}), dict):
        return "builder is not a table"
    return None


def write(records_dir: Path, rc: str, files: dict[str, bytes], *, executable: set[str] | frozenset[str] = frozenset()) -> Path:
    """Create `records_dir/rc` holding `files` (those named in `executable` executable), all at once; refuse if it exists."""
    target = records_dir / rc
    if target.exists():
        raise Refused(f"{target}: {rc} is already recorded; a record is never overwritten (cut the next RC)")
    records_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{rc}.", suffix=".partial", dir=records_dir))
    try:
        for name, data in files.items():
            write_synced(staging / name, data)
            if name in executable:
                os.chmod(staging / name, 0o755)
        os.chmod(staging, 0o755)
        fault_point("record:staged")
        # rename(2) onto a missing name is atomic; onto an existing non-empty folder it fails.
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
