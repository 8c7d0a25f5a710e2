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

`pinned_venv` gives the kept venv itself (the rehearsal runs the previous RC's
commands in it); `build_venv` gives `cut` a copy of it in the cut's own work folder
(`clone`), each file hashed as it is copied and the venv's own path rewritten where a
venv holds it (the scripts' shebangs, bin/activate*, pyvenv.cfg). One process at a
time checks, copies or makes a kept venv (a lock file beside it).
"""

from __future__ import annotations

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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from releaser.core.lockfile import Lock, Pin
from releaser.plumbing.fsutil import write_atomic
from releaser.plumbing.piprun import cache_dir
from releaser.plumbing.venvs import create_venv, venv_python

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig
    from releaser.core.progress import Progress

KEEP = 4  # kept venvs, the ones used last: a venv of Django and a database driver is ~100 MB
FORMAT = 2  # of the manifest; a marker of any other format (1 held only the installed names) is not kept
CHUNK = 1 << 20
# Where a shebang may be one line (distlib's rule, which pip follows when it writes a script).
SHEBANG_MAX = 512 if sys.platform == "darwin" else 127


class Changed(Exception):
    """A kept venv's files are no longer the ones installed: the first difference."""


@dataclass(frozen=True)
class Manifest:
    """Every file of a kept venv as installed: relative path -> sha256, and each symlink's target."""

    files: dict[str, str]
    links: dict[str, str]

    def dump(self) -> str:
        return json.dumps({"format": FORMAT, "files": self.files, "links": self.links}, sort_keys=True)

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
        return cls(files, links)


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
    for rel, path, st in _entries(venv):
        if stat.S_ISLNK(st.st_mode):
            links[rel] = os.readlink(path)
        else:
            files[rel] = _hashed(path, None)
    return Manifest(files, links)


def walk(venv: Path, manifest: Manifest, into: Path | None = None) -> None:
    """Check every file of `venv` against `manifest` (Changed at the first difference), copying each
    to `into` as it is hashed when given: symlinks as symlinks, modes and mtimes kept (so the
    installed .pyc files stay valid for their sources)."""
    seen = 0
    for rel, path, st in _entries(venv, into):
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(path)
            if manifest.links.get(rel) != target:
                raise Changed(f"{rel}: {'not installed there' if rel not in manifest.links else 'links elsewhere'}")
            if into is not None:
                os.symlink(_moved(target, venv, into), into / rel)
        else:
            wanted = manifest.files.get(rel)
            if wanted is None:
                raise Changed(f"{rel}: not installed there")
            if _hashed(path, None if into is None else into / rel, rehome=_rehome(rel, venv, into)) != wanted:
                raise Changed(f"{rel}: changed since it was installed")
            if into is not None:
                os.chmod(into / rel, stat.S_IMODE(st.st_mode))
                os.utime(into / rel, ns=(st.st_atime_ns, st.st_mtime_ns))
        seen += 1
    if seen != len(manifest.files) + len(manifest.links):
        found = {rel for rel, _, _ in _entries(venv)}
        missing = sorted((set(manifest.files) | set(manifest.links)) - found)
        raise Changed(f"{missing[0] if missing else 'a file'}: installed, but no longer there")


def clone(kept: Path, into: Path, manifest: Manifest) -> None:
    """A copy of the venv `kept` at `into` (which must not exist), its files checked against `manifest`."""
    into.mkdir(parents=True)
    try:
        walk(kept, manifest, into)
    except OSError as exc:  # unreadable, or gone while copied: as good as changed
        shutil.rmtree(into, ignore_errors=True)
        raise Changed(f"cannot be copied: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(into, ignore_errors=True)
        raise


def _entries(root: Path, into: Path | None = None) -> Iterator[tuple[str, Path, os.stat_result]]:
    """(relative path, path, lstat) of every file and symlink under `root`, never following a link;
    each folder made under `into` first when given."""
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as listing:
            for entry in sorted(listing, key=lambda e: e.name):
                path = Path(entry.path)
                st = entry.stat(follow_symlinks=False)
                rel = path.relative_to(root).as_posix()
                if stat.S_ISDIR(st.st_mode):
                    if into is not None:
                        (into / rel).mkdir()
                    stack.append(path)
                else:
                    yield rel, path, st


def _hashed(path: Path, to: Path | None, *, rehome: tuple[bytes, bytes] | None = None) -> str:
    """The sha256 of `path`'s bytes, read once; copied to `to` as read (its venv path moved by `rehome`)."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as source:
        if rehome is not None and to is not None:
            data = source.read()
            digest.update(data)
            to.write_bytes(rehomed(data, *rehome))
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


def _rehome(rel: str, venv: Path, into: Path | None) -> tuple[bytes, bytes] | None:
    """(old, new) venv path for a file that holds the venv's own path: bin/* and pyvenv.cfg."""
    if into is None:
        return None
    scripts = venv_python(venv).parent.name
    if rel == "pyvenv.cfg" or (rel.startswith(scripts + "/") and rel.count("/") == 1):
        return os.fsencode(str(venv)), os.fsencode(str(into))
    return None


def _moved(target: str, venv: Path, into: Path) -> str:
    """A symlink's target, moved with the venv when it points into it by its absolute path."""
    old = str(venv)
    return str(into) + target[len(old) :] if target == old or target.startswith(old + "/") else target


def rehomed(data: bytes, old: bytes, new: bytes) -> bytes:
    """A script or file of the venv at `old` as the venv at `new` holds it: a shebang naming `old`'s
    interpreter rewritten in the form pip would write for `new` (one line, or the `/bin/sh` form when
    the path is long or has a space), any other mention of `old` (bin/activate*, pyvenv.cfg) replaced."""
    head, python, rest = shebang_of(data)
    if python is not None and python.startswith(old + b"/"):
        return shebang_for(new + python[len(old) :], rest) + data[len(head) :].replace(old, new)
    return data.replace(old, new)


def shebang_of(data: bytes) -> tuple[bytes, bytes | None, bytes]:
    """(the shebang's bytes, the interpreter it names, what follows the interpreter) in either form."""
    if data.startswith(b"#!/bin/sh\n'''exec' "):
        lines = data.split(b"\n", 3)
        tail = b' "$0" "$@"'
        if len(lines) > 3 and lines[2] == b"' '''" and lines[1].endswith(tail):
            named = lines[1][len(b"'''exec' ") : -len(tail)]
            python, _, rest = named[1:].partition(b'"') if named.startswith(b'"') else named.partition(b" ")
            return b"\n".join(lines[:3]) + b"\n", python, (b" " + rest.lstrip() if rest.strip() else b"")
    elif data.startswith(b"#!"):
        line = data.split(b"\n", 1)[0]
        python, _, rest = line[2:].partition(b" ")
        return line + b"\n", python, (b" " + rest if rest else b"")
    return b"", None, b""


def shebang_for(python: bytes, rest: bytes) -> bytes:
    if b" " not in python and len(python) + len(rest) + 3 <= SHEBANG_MAX:
        return b"#!" + python + rest + b"\n"
    quoted = b'"' + python + b'"' if b" " in python else python
    return b"#!/bin/sh\n'''exec' " + quoted + rest + b' "$0" "$@"\n' + b"' '''\n"
