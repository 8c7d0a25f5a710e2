"""An RC's bundle: every pinned file of its record, so it can be reproduced offline.

`releaser bundle RC` (and `releaser cut --bundle`) writes `dist/<rc>/bundle/`:

    python/       every recorded Python file, for every platform, the sdists too
    maven/        a Maven repository's layout
    artifacts/    URL artifacts
    git/<name>.bundle   a git bundle of each git pin's commit and its history
    bundle.json   the index: the RC, its lock digest, the sha256 of every file

The index is written last, so a bundle without one is incomplete. A re-run keeps
what is there and right. `releaser reproduce RC --from-bundle DIR` reads a bundle
only after `open_bundle` found it to be one of that very record. Fetching a
record's files, from upstream or from a bundle, is `record_fetcher`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core import documents
from releaser.core.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Pin
from releaser.core.paths import confined_output
from releaser.ecosystems.git.checkouts import bundle_has, make_git_bundle
from releaser.install.layout import BUNDLE, DIST, checkout_of, every_file, folder_of, of_role
from releaser.plumbing.credentials import configured_userinfo
from releaser.plumbing.fetch import Fetcher, PinnedFile, other_bytes, raise_failures, session
from releaser.plumbing.fsutil import sha256_of, write_atomic
from releaser.record import records

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig
    from releaser.plumbing.http import Http

BUNDLE_INDEX = "bundle.json"
BUNDLE_SCHEMA = 1


@dataclass
class Bundled:
    rc: str
    root: Path
    files: dict[str, str]  # rel path -> sha256
    placed: dict[str, list[PinnedFile]]
    git: dict[str, str]  # name -> status


def bundle_root(config: ReleaseConfig, rc: str) -> Path:
    return config.root / DIST / rc / BUNDLE


def bundle_hint(rc: str) -> str:
    return f"if upstream is gone or changed it, reproduce from a bundle made earlier: releaser reproduce {rc} --from-bundle dist/{rc}/bundle"


def record_fetcher(
    rc: str, *, http: Http | None = None, bundle: Path | None = None, hint: bool = True, userinfo: Mapping[str, str] | None = None
) -> Fetcher:
    """Fetches `rc`'s recorded files from upstream (`http`) or from a `bundle`.

    Other bytes upstream are an UpstreamError, in a bundle a refusal; from upstream,
    with `hint`, the error points at reproducing from a bundle. `userinfo`: release.toml's
    credentials by host (`credentials.configured_userinfo`), as `cut` uses them.
    """
    tail = f"; {bundle_hint(rc)}" if hint and bundle is None else ""

    def mismatch(item: PinnedFile, origin: str, sha256: str, size: int) -> ReleaserError:
        error = Refused if bundle is not None else UpstreamError
        told = other_bytes(item, origin, sha256, size, stated_by=f"{rc}'s record")
        return error(f"{told}; refused, nothing was put in its place{tail}")

    return Fetcher(rc=rc, mismatch=mismatch, http=http, bundle=bundle, hint=tail, userinfo=userinfo)


def make_bundle(config: ReleaseConfig, rc: str, *, into: Path | None = None, http: Http | None = None) -> Bundled:
    """Store every pinned file of `rc`'s record (and a git bundle per repository) under dist/<rc>/bundle/."""
    from releaser.plumbing.projectlock import hold

    with hold(config, "bundle"):
        return _make_bundle(config, rc, into=into, http=http)


def _make_bundle(config: ReleaseConfig, rc: str, *, into: Path | None, http: Http | None) -> Bundled:
    import tempfile

    from releaser.plumbing.http import concurrently

    rec = records.read(records.records_dir(config), rc)
    items = every_file(rec.lock)
    config.require_environment()
    root = (into or bundle_root(config, rc)).absolute()
    index = root / BUNDLE_INDEX
    targets = [(item, root / Path(*item.rel.parts)) for item in items]
    gits = sorted(of_role(rec.lock, "checkout"), key=lambda p: p.name)
    # Nothing is written through a symlink leading out of the bundle (or out of the project).
    clones = [root / folder_of(p) / f"{checkout_of(p)}.bundle" for p in gits]
    confined_output(config.root, root, [index, *(path for _, path in targets), *clones])
    root.mkdir(parents=True, exist_ok=True)
    previous = read_index(index)
    if previous and previous.get("lock_digest") != rec.manifest.get("lock_digest"):
        raise Refused(f"{root} is a bundle of another lock of {previous.get('rc')}; delete it to bundle {rc}")
    userinfo = configured_userinfo(config)
    with session(http) as web:
        placed = record_fetcher(rc, http=web, hint=False, userinfo=userinfo).fetch_all(targets, doing="bundled")
    files = {str(item.rel): item.artifact.sha256 for item in items}

    git_status: dict[str, str] = {}
    known = (previous or {}).get("files", {})
    if gits:
        for folder in {folder_of(pin) for pin in gits}:
            (root / folder).mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="releaser-bundle-") as tmp:
            def one(pin: Pin) -> tuple[str, str] | ReleaserError:
                rel = f"{folder_of(pin)}/{checkout_of(pin)}.bundle"
                path = root / rel
                try:
                    if path.is_file() and known.get(rel) == sha256_of(path)[0] and bundle_has(path, pin):
                        return rel, "kept"
                    make_git_bundle(pin, path, Path(tmp), userinfo)
                    if not bundle_has(path, pin):
                        path.unlink(missing_ok=True)
                        raise UpstreamError(f"git {pin.name}: the bundle made of {pin.source} lacks commit {pin.version}")
                    return rel, "bundled"
                except ReleaserError as exc:
                    return exc

            outcome = concurrently(one, gits)
        raise_failures([(p.name, e) for p, e in zip(gits, outcome)], doing="bundled")
        for (rel, status), pin in zip(outcome, gits):  # type: ignore[misc]
            files[rel] = sha256_of(root / rel)[0]
            git_status[pin.name] = status

    files.update(bundle_own_kinds(config, rec.lock.pins, root, http))
    document = {
        "schema": BUNDLE_SCHEMA,
        "rc": rc,
        "lock_digest": rec.manifest.get("lock_digest"),
        "files": dict(sorted(files.items())),
    }
    write_atomic(index, json.dumps(document, indent=2, sort_keys=True) + "\n")  # last: the bundle is complete
    return Bundled(rc, root, dict(sorted(files.items())), placed, git_status)


def bundle_own_kinds(config: ReleaseConfig, pins: tuple[Pin, ...], root: Path, http: Http | None) -> dict[str, str]:
    """What the kinds that store their own bytes (container images) wrote into the bundle: rel path -> sha256."""
    from releaser.core.kinds import KINDS
    from releaser.ecosystems import ecosystem

    files: dict[str, str] = {}
    for kind in KINDS:
        mine = tuple(p for p in pins if p.kind == kind)
        if mine and ecosystem(kind).role == "own":
            with session(http) as web:
                files.update(ecosystem(kind).bundle_pins(config, mine, root, web))
    return files


def read_index(path: Path) -> dict[str, Any] | None:
    """A bundle's index, or None where there is none; anything else there is a ConfigError."""
    try:
        document = documents.json_document(path.read_bytes(), path, ConfigError)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), dict):
        raise ConfigError(f"{path}: not a releaser bundle index")
    return document


def open_bundle(path: Path, rec: records.Record) -> Path:
    """The bundle root for `rec`: `path` or `path/bundle`; refused when it is not a complete bundle of it."""
    root = path if (path / BUNDLE_INDEX).is_file() else path / "bundle"
    document = read_index(root / BUNDLE_INDEX)
    if document is None:
        raise ConfigError(f"{path}: no {BUNDLE_INDEX} there, so not a complete bundle; run `releaser bundle {rec.rc}`")
    if document.get("rc") != rec.rc or document.get("lock_digest") != rec.manifest.get("lock_digest"):
        raise Refused(f"{root} is a bundle of {document.get('rc')} ({document.get('lock_digest')}), not of {rec.rc} as recorded")
    return root


def check_bundle_file(root: Path, path: Path, pin: Pin) -> None:
    """The git bundle at `path` is the one the bundle's index names, byte for byte."""
    rel = path.relative_to(root).as_posix()
    expected = (read_index(root / BUNDLE_INDEX) or {}).get("files", {}).get(rel)
    if not path.is_file() or expected is None:
        raise Refused(f"git {pin.name}: the bundle {root} has no {rel}")
    actual = sha256_of(path)[0]
    if actual != expected:
        raise Refused(f"git {pin.name}: {path} has sha256 {actual}, but {BUNDLE_INDEX} says {expected}; the bundle was altered")


def describe_bundle(result: Bundled) -> list[str]:
    placed = result.placed
    fetched = len(placed.get("downloaded", []))
    kept = len(placed.get("kept", []))
    gits = ", ".join(f"{name} ({status})" for name, status in sorted(result.git.items()))
    return [
        f"bundled {result.rc} in {result.root}: {len(result.files)} files ({fetched} downloaded, "
        f"{kept} already there and verified){'; git: ' + gits if gits else ''}",
        f"  index: {result.root / BUNDLE_INDEX}",
        f"  offline: releaser reproduce {result.rc} --from-bundle {result.root}",
    ]
