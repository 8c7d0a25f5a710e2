"""A venv per locked Python set, installed once and kept in the user's cache, every file checked on use.

Installing a locked set (`releaser.ecosystems.python.install`) takes seconds that an
unchanged lock need not pay again: `cut` after `cut` of one lock, the rehearsal of an
earlier RC. So the set is installed, hash-verified, into a venv kept under the user's
cache (`~/.cache/releaser/venvs/<key>/`, the key covering the interpreter, the
platform and every Python pin with its files' sha256 and size), and a manifest of
every file it then holds (its sha256; a symlink, its target) is written beside it,
last. A kept venv is used only while its files are exactly that manifest: one
changed, added or removed since (a `.pth` dropped into site-packages) and it is
installed again. The cache holds the `KEEP` venvs used last (a cut and its rehearsal
need two: this RC's set and the previous RC's); installing another removes the rest,
but never one another releaser is using.

A file is checked as git checks its index: the manifest holds what its `lstat` said when
it was hashed (size, mtime, ctime, inode), and a file still saying exactly that is not
read again. Any write, `chmod` or `utime` sets the ctime to the clock's now, which only
root can set back; a file changed in the tick the hashing began, or whose `lstat`
differs, is hashed.

`pinned_venv` gives the kept venv itself (the rehearsal runs the previous RC's commands
in it); `build_venv` gives `cut` a copy in its work folder (`clone`), each file checked
before and after it is copied, the venv's own path rewritten where a venv holds it
(`rehome`). One process at a time checks, copies or makes a kept venv (a lock file).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from releaser.core.errors import UpstreamError
from releaser.core.lockfile import Lock, Pin
from releaser.ecosystems.python.rehome import rehomed
from releaser.plumbing.fsutil import copy_file, write_atomic
from releaser.plumbing.piprun import cache_dir
from releaser.plumbing.venvs import create_venv, venv_python

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig
    from releaser.core.progress import Progress

KEEP = 4  # kept venvs, the ones used last: a venv of Django and a database driver is ~100 MB
FORMAT = 3  # of the manifest; one of any other format is not kept (1 held only the names, 2 no lstat)
CHUNK = 1 << 20
FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}  # a copy that cannot be written


class Changed(Exception):
    """A kept venv's files are no longer the ones installed: the first difference."""


@dataclass(frozen=True)
class Manifest:
    """Every file of a kept venv as installed: relative path -> sha256, and each symlink's target;
    what each file's lstat said when it was hashed, and the filesystem's time when hashing began."""

    files: dict[str, str]
    links: dict[str, str]
    seen: dict[str, list[int]] = field(default_factory=dict)  # relative path -> seen_of(its lstat when hashed)
    since: int = 0  # ctime_ns of a file made just before the hashing: a ctime not older is racy

    def dump(self) -> str:
        doc = {"format": FORMAT, "files": self.files, "links": self.links, "seen": self.seen, "since": self.since}
        return json.dumps(doc, sort_keys=True)

    def unchanged(self, rel: str, st: os.stat_result) -> bool:
        """Whether the file at `rel` is as hashed without reading it: its lstat as then, and then not racy."""
        seen = self.seen.get(rel)
        return seen is not None and seen == seen_of(st) and st.st_ctime_ns < self.since

    @classmethod
    def read(cls, path: Path) -> Manifest | None:
        """The manifest at `path`; None when there is none, or one this releaser did not write."""
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            return None
        files, links = doc.get("files"), doc.get("links")
        if not isinstance(files, dict) or not isinstance(links, dict):
            return None
        if not all(isinstance(v, str) for v in (*files.values(), *links.values())):
            return None
        seen, since = doc.get("seen"), doc.get("since")
        if not isinstance(seen, dict) or type(since) is not int:
            return None
        if not all(isinstance(v, list) and len(v) == 4 and all(type(n) is int for n in v) for v in seen.values()):
            return None
        return cls(files, links, seen, since)


@dataclass(frozen=True)
class Kept:
    """Where the kept venv of one locked set lives: the venv, its manifest beside it, its lock file."""

    venv: Path

    @property
    def manifest(self) -> Path:
        return self.venv.with_name(self.venv.name + ".json")

    @property
    def held(self) -> Path:
        return self.venv.with_name(self.venv.name + ".lock")

    @classmethod
    def of(cls, lock: Lock) -> Kept:
        folder = cache_dir().parent / "venvs"
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / set_key(lock))


@dataclass(frozen=True)
class BuildVenv:
    """The venv `build_venv` made, and how: "kept" (a checked copy), "installed" (the kept venv made
    now, then copied) or "reinstalled" (the kept one had changed: `changed` says how; a fresh install)."""

    venv: Path
    how: Literal["kept", "installed", "reinstalled"]
    changed: str | None = None


def set_key(lock: Lock) -> str:
    """What a kept venv is kept for: the interpreter, the platform and every Python pin exactly as the
    install verifies it (its files' names, sha256 and sizes; a git pin's commit), with the lock's indexes."""

    def pin(p: Pin) -> list[object]:
        files = sorted([a.name, a.url, a.sha256, a.size] for a in p.artifacts)
        return [p.name, p.version, p.source, p.commit, p.marker, files, [pin(b) for b in p.build]]

    from releaser import __version__

    described = {
        "python": sys.version, "platform": sysconfig.get_platform(), "releaser": __version__,
        "indexes": list(lock.sources.get("python", ())), "targets": list(lock.targets),
        "pins": sorted((pin(p) for p in lock.of_kind("python")), key=repr),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:24]


@contextmanager
def holding(kept: Kept) -> Iterator[None]:
    """The kept venv to this process alone while it is checked, copied or made."""
    import fcntl

    with open(kept.held, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


def pinned_venv(config: ReleaseConfig, lock: Lock) -> Path:
    """The kept venv holding exactly `lock`'s Python set, every file hash-verified when it was installed
    and checked against that install now; installed (again) when it was not kept or has changed."""
    from releaser.ecosystems.python.install import installable

    installable(config, lock)  # refused as an install refuses, kept or not
    kept = Kept.of(lock)
    with holding(kept):
        manifest = Manifest.read(kept.manifest)
        try:
            if manifest is not None:
                walk(kept.venv, manifest)
                used(kept)
                return kept.venv
        except (Changed, OSError):  # OSError: a file unreadable, the venv gone
            pass
        install_kept(config, lock, kept, what="the rehearsal's environment")
    return kept.venv


def build_venv(config: ReleaseConfig, lock: Lock, into: Path, work: Path, *, progress: Progress | None = None) -> BuildVenv:
    """`lock`'s Python set in a venv at `into`: a copy of the kept venv, each file checked as it is copied;
    the kept venv is installed first when there is none. When the copy finds a file other than installed,
    it is abandoned: `into` gets a fresh hash-verified install and the kept venv is made again next time."""
    from releaser.ecosystems.python.install import install_python, installable

    installable(config, lock)
    kept = Kept.of(lock)
    with holding(kept):
        manifest = Manifest.read(kept.manifest)
        made = manifest is None
        if manifest is None:
            manifest = install_kept(config, lock, kept, what="the kept build environment", progress=progress)
        try:
            clone(kept.venv, into, manifest)
            used(kept)
            return BuildVenv(into, "installed" if made else "kept")
        except Changed as exc:
            kept.manifest.unlink(missing_ok=True)  # never used again as it is
            changed = str(exc)
    shutil.rmtree(into, ignore_errors=True)
    create_venv(into, what="the build environment")
    install_python(config, lock, into, work, progress=progress)
    return BuildVenv(into, "reinstalled", changed)


def install_kept(
    config: ReleaseConfig, lock: Lock, kept: Kept, *, what: str, progress: Progress | None = None
) -> Manifest:
    """Install `lock`'s set into the kept venv afresh (the caller holds it), then write its manifest, last."""
    from releaser.ecosystems.python.install import install_python

    kept.manifest.unlink(missing_ok=True)  # not kept until the install is whole
    create_venv(kept.venv, what=what)
    with tempfile.TemporaryDirectory(prefix="releaser-venv-") as work:
        install_python(config, lock, kept.venv, Path(work), progress=progress)
    manifest = record(kept.venv)
    write_atomic(kept.manifest, manifest.dump())
    prune(kept.venv.parent, but=kept)
    return manifest


def used(kept: Kept) -> None:
    """Mark `kept` as used now (its manifest's time): `prune` removes the venvs used longest ago."""
    try:
        os.utime(kept.manifest)
    except OSError:
        pass


def prune(folder: Path, *, but: Kept, keep: int = KEEP) -> None:
    """Remove the kept venvs in `folder` past the `keep` used last (`but` always stays), and any left
    without a manifest (an install that was stopped, a format no longer read), skipping one that
    another releaser holds. The lock files stay: one removed while another process waits on it
    would let a third take it at the same time."""
    import fcntl

    def last_used(venv: Path) -> float:
        try:
            return Kept(venv).manifest.stat().st_mtime
        except OSError:
            return float("-inf")  # no manifest: never kept, or kept by an older releaser

    venvs = sorted((p for p in folder.iterdir() if p.is_dir() and p != but.venv), key=last_used, reverse=True)
    for venv in venvs[keep - 1 :]:
        other = Kept(venv)
        with open(other.held, "w") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # in use: the next install prunes it
            other.manifest.unlink(missing_ok=True)  # first: a venv half removed is never taken as kept
            shutil.rmtree(venv, ignore_errors=True)


def record(venv: Path) -> Manifest:
    """The manifest of `venv` as it is now."""
    files: dict[str, str] = {}
    links: dict[str, str] = {}
    seen: dict[str, list[int]] = {}
    since = _fs_now(venv.parent)
    for rel, path, st in _entries(str(venv)):
        if stat.S_ISLNK(st.st_mode):
            links[rel] = os.readlink(path)
        else:
            files[rel] = _hashed(path, None)
            seen[rel] = seen_of(st)  # taken before the hash: a write while hashing leaves another ctime
    return Manifest(files, links, seen, since)


def seen_of(st: os.stat_result) -> list[int]:
    """What a file's lstat says of its bytes: any write, chmod or utime changes at least the ctime."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _fs_now(folder: Path) -> int:
    """The filesystem's own clock now (a new file's ctime): it may lag the system's by a tick."""
    with tempfile.TemporaryFile(dir=folder) as probe:
        return os.fstat(probe.fileno()).st_ctime_ns


def walk(venv: Path, manifest: Manifest, into: Path | None = None) -> None:
    """Check every file of `venv` against `manifest` (Changed at the first difference), copying each
    to `into` when given: symlinks as symlinks, modes and mtimes kept (so the installed .pyc files
    stay valid for their sources). A file whose lstat is as when it was hashed is not read again."""
    old, new = str(venv), None if into is None else str(into)
    scripts = venv_python(venv).parent.name + "/"
    seen = 0
    for rel, path, st in _entries(old, new):
        to = None if new is None else f"{new}/{rel}"
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(path)
            if manifest.links.get(rel) != target:
                raise Changed(f"{rel}: {'not installed there' if rel not in manifest.links else 'links elsewhere'}")
            if to is not None and new is not None:
                os.symlink(_moved(target, old, new), to)
            seen += 1
            continue
        wanted = manifest.files.get(rel)
        if wanted is None:
            raise Changed(f"{rel}: not installed there")
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the read; a device is no installed file
            raise Changed(f"{rel}: no longer a plain file")
        # The files naming the venv itself (bin/*, pyvenv.cfg) are read whole: they are rewritten.
        holds_path = to is not None and (rel == "pyvenv.cfg" or (rel.startswith(scripts) and rel.count("/") == 1))
        if not holds_path and manifest.unchanged(rel, st):
            if to is not None and not manifest.unchanged(rel, copy_file(path, to, st)):
                raise Changed(f"{rel}: changed since it was installed")  # written to while it was copied
        else:
            rehome = (os.fsencode(old), os.fsencode(new)) if holds_path and new is not None else None
            if _hashed(path, to, rehome=rehome) != wanted:
                raise Changed(f"{rel}: changed since it was installed")
            if to is not None:
                os.chmod(to, stat.S_IMODE(st.st_mode))
                os.utime(to, ns=(st.st_atime_ns, st.st_mtime_ns))
        seen += 1
    if seen != len(manifest.files) + len(manifest.links):
        found = {rel for rel, _, _ in _entries(old)}
        missing = sorted((set(manifest.files) | set(manifest.links)) - found)
        raise Changed(f"{missing[0] if missing else 'a file'}: installed, but no longer there")


def clone(kept: Path, into: Path, manifest: Manifest) -> None:
    """A copy of the venv `kept` at `into` (which must not exist), its files checked against `manifest`."""
    into.mkdir(parents=True)
    try:
        walk(kept, manifest, into)
    except OSError as exc:
        shutil.rmtree(into, ignore_errors=True)
        if exc.errno in FULL or str(exc.filename or "").startswith(str(into)):  # the copy's side: kept is sound
            raise UpstreamError(f"the build environment cannot be written in {into.parent}: {exc.strerror or exc}") from None
        raise Changed(f"cannot be copied: {exc.strerror or exc}") from None  # unreadable, or gone: as changed
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise


def _entries(root: str, into: str | None = None) -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative path, path, lstat) of every file and symlink under `root`, never following a link;
    each folder made under `into` first when given. Plain strings: a venv has thousands of files."""
    stack = [root]
    cut = len(root) + 1
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as listing:
            for entry in sorted(listing, key=lambda e: e.name):
                st = entry.stat(follow_symlinks=False)
                rel = entry.path[cut:]
                if stat.S_ISDIR(st.st_mode):
                    if into is not None:
                        os.mkdir(f"{into}/{rel}")
                    stack.append(entry.path)
                else:
                    yield rel, entry.path, st


def _hashed(path: str | Path, to: str | Path | None, *, rehome: tuple[bytes, bytes] | None = None) -> str:
    """The sha256 of `path`'s bytes, read once; copied to `to` as read (its venv path moved by `rehome`)."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as source:
        if rehome is not None and to is not None:
            data = source.read()
            digest.update(data)
            Path(to).write_bytes(rehomed(data, *rehome))
            return digest.hexdigest()
        sink = open(to, "xb") if to is not None else None
        try:
            while block := source.read(CHUNK):
                digest.update(block)
                if sink is not None:
                    sink.write(block)
        finally:
            if sink is not None:
                sink.close()
    return digest.hexdigest()


def _moved(target: str, old: str, new: str) -> str:
    """A symlink's target, moved with the venv (from `old` to `new`) when it points into it by its absolute path."""
    return new + target[len(old) :] if target == old or target.startswith(old + "/") else target
