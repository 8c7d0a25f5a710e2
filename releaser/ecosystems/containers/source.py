"""The container images source: every FROM of the Dockerfiles and every `image:` of the compose files.

Each tag is pinned to the digest it names now (an index, or a single manifest), with each
wanted platform's manifest digest and `created` as the pin's files; a reference that
already carries a digest is verified, not re-resolved. A relock keeps a pin whose digest
the registry still has. With `--as-of`, a tag whose image was created after the cut-off
falls back to the newest digest seen for it (the previous lock, the witness log) that was
created at or before it; with none, the lock is refused, naming the image.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core import lockfile
from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import InputRecord, Pin
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.containers import compose, dockerfile
from releaser.ecosystems.containers.dockerfile import ImageUse
from releaser.ecosystems.containers.reference import ImageRef, parse
from releaser.ecosystems.containers.resolve import IMAGES_AT_ONCE, KIND, Registries, Resolved, registry_base, resolve
from releaser.ecosystems.containers.settings import ContainerInputs

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.plumbing.http import Http


class ContainerSource(Source):
    """`[containers]`: the images of Dockerfiles and compose files, pinned by digest."""

    kind = KIND

    def __init__(self, root: Path, inputs: ContainerInputs, lockfile_path: Path | None = None) -> None:
        self.root, self.inputs = root, inputs
        self.lockfile_path = lockfile_path
        self._uses: list[ImageUse] | None = None

    # -- the inputs (offline) -------------------------------------------------

    def uses(self) -> list[ImageUse]:
        """Every image every input file names, in file order; ConfigError naming the file and line."""
        if self._uses is None:
            found: list[ImageUse] = []
            for path in self.inputs.dockerfiles:
                found += dockerfile.images(self._shown(path), _read(path))
            for path in self.inputs.compose:
                found += compose.images(self._shown(path), _read(path))
            self._uses = found
        return self._uses

    def wanted(self) -> dict[str, tuple[str, ...]]:
        """Each written reference -> the platforms to pin (configured, plus any FROM --platform); () for all."""
        found: dict[str, tuple[str, ...]] = {}
        for use in self.uses():
            platforms = found.get(use.ref.written, self.inputs.platforms)
            if use.platform and platforms and use.platform not in platforms:
                platforms = (*platforms, use.platform)
            elif use.platform and not platforms and not self.inputs.platforms:
                platforms = ()  # every platform the index offers includes this one
            found[use.ref.written] = platforms
        return found

    def input_digests(self) -> dict[str, str]:
        """Each file's digest: of the images it names (and their platforms), so that an edit
        elsewhere in a Dockerfile or a compose file leaves the lock fresh."""
        return {name: record.digest for name, record in self.input_records().items()}

    def input_records(self) -> dict[str, InputRecord]:
        entries: dict[str, dict[str, str]] = {self._name(p): {} for p in self.inputs.files}
        for use in self.uses():
            entries[self._name(self.root / use.path)][use.ref.written] = use.platform or "every platform"
        return {
            name: InputRecord(_digest(found), {"image": found} if found else {}) for name, found in entries.items()
        }

    def input_paths(self) -> list[Path]:
        return list(self.inputs.files)

    def source_urls(self) -> tuple[str, ...]:
        hosts = {use.ref.api_host for use in self.uses()}
        return tuple(sorted(registry_base(self.inputs, h) for h in hosts))

    def unpinned(self, pinned: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """(file:line, message) for each image neither pinned by the lock nor by digest."""
        return [
            (use.where, f"image {use.ref.written} is neither pinned in the lock nor by digest")
            for use in self.uses()
            if use.ref.digest is None and (KIND, use.ref.written) not in pinned
        ]

    # -- export and cut: the files with their pins ----------------------------------

    def pinned_files(self, fmt: str, pins: tuple[Pin, ...]) -> dict[Path, str]:
        digests = {p.name: p.version for p in pins}
        paths, rewrite = (self.inputs.dockerfiles, dockerfile.pinned_text) if fmt == "dockerfile" else (self.inputs.compose, compose.pinned_text)
        return {path: rewrite(self._shown(path), _read(path), digests) for path in paths}

    def cut_inputs(self, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, Path]:
        """Refused when a tag names another digest than the lock's; the pinned copies under `folder`.

        `{dockerfile}` and `{compose}` name the copies of the first Dockerfile and compose file.
        """
        from releaser.plumbing.fsutil import write_atomic

        moved = [f.message for f in self.verify(pins, http) if f.code in ("newer", "gone")]
        if moved:
            raise Refused(
                f"{len(moved)} image(s) are not what the lock pins any more ({'; '.join(moved[:3])}); the RC is built "
                "from the lock: relock (releaser lock --upgrade NAME) or find out why"
            )
        placeholders: dict[str, Path] = {}
        for fmt, first in (("dockerfile", "dockerfile"), ("compose", "compose")):
            for path, text in self.pinned_files(fmt, pins).items():
                copy = folder / self._name(path)
                copy.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(copy, text.encode("utf-8"))
                placeholders.setdefault(first, copy)
        return placeholders

    # -- lock -----------------------------------------------------------------------

    def lock(self, request: LockRequest) -> list[Pin]:
        from releaser.ecosystems.containers import witness

        registries = Registries(request.http, self.inputs)
        wanted = self.wanted()
        previous = {p.name: p for p in request.previous}
        earlier = self._earlier(request) if request.dated else []
        now = datetime.now(UTC)
        sightings: list[witness.Sighting] = []

        def pin(written: str) -> Pin:
            ref = parse(written)
            kept = previous.get(written)
            if kept is not None and self._keeps(kept, ref, wanted[written], request, registries):
                return kept
            current = resolve(registries, ref, wanted[written])
            if current.created is not None and ref.digest is None:
                sightings.append(witness.Sighting(ref.locator, current.digest, current.created, now))
            if not request.dated or ref.digest is not None or (current.created and current.created <= request.as_of):
                return current.pin()
            return self._as_of(registries, current, wanted[written], earlier, request.as_of)

        from releaser.plumbing.http import concurrently

        try:
            return concurrently(pin, list(wanted), workers=IMAGES_AT_ONCE)
        finally:
            witness.record(self.root, sightings)

    def _keeps(self, kept: Pin, ref: ImageRef, wanted: tuple[str, ...], request: LockRequest, registries: Registries) -> bool:
        """May the previous pin stand? Same reference and registry, its platforms still the wanted
        ones, not upgraded, and its digest still served."""
        if request.upgrade_all or kept.name in request.upgrade or kept.requested != ref.written:
            return False
        if kept.source != registries.base(ref.api_host) or not set(wanted) <= {a.name for a in kept.artifacts}:
            return False
        registry = registries(ref.api_host)
        return registry.digest_of(ref.repository, kept.version, what=f"image {ref.written}") == kept.version

    def _earlier(self, request: LockRequest) -> list[tuple[str, str, datetime]]:
        """(locator, digest, created) of every digest seen for a tag: the previous lock's pins and the witness log."""
        from releaser.ecosystems.containers import witness

        found = [(s.image, s.digest, s.created) for s in witness.read(self.root)]
        lock = lockfile.read(self.lockfile_path) if self.lockfile_path is not None else None
        for p in lock.of_kind(KIND) if lock is not None else ():
            if p.date is not None and p.requested:
                try:
                    found.append((parse(p.requested).locator, p.version, p.date))
                except ValueError:
                    continue
        return found

    def _as_of(
        self, registries: Registries, current: Resolved, wanted: tuple[str, ...],
        earlier: list[tuple[str, str, datetime]], cutoff: datetime,
    ) -> Pin:
        ref = current.ref
        candidates = sorted(
            {(created, digest) for locator, digest, created in earlier if locator == ref.locator and created <= cutoff},
            reverse=True,
        )
        if not candidates:
            from releaser.ecosystems.containers.witness import WITNESS

            created = f"was created {_iso(current.created)}, after" if current.created else "has no created date before"
            raise Refused(
                f"image {ref.written}: the image it names now ({current.digest}) {created} "
                f"the cut-off {_iso(cutoff)}, and releaser has seen no earlier digest of {ref.locator} (in the "
                f"lock or {WITNESS.as_posix()}); lock without --as-of, or pin the image by digest"
            )
        for _, digest in candidates:  # the log and the lock say when; the registry's config must agree
            found = resolve(registries, ref, wanted, reference=digest)
            if found.created is not None and found.created <= cutoff:
                return found.pin()
        raise Refused(
            f"image {ref.written}: no digest seen for {ref.locator} was created at or before the cut-off "
            f"{_iso(cutoff)} by its registry's own account; lock without --as-of, or pin the image by digest"
        )

    # -- check --online -------------------------------------------------------------

    def verify(self, pins: tuple[Pin, ...], http: Http, targets: tuple[str, ...] = ()) -> list[Finding]:
        """`gone` when a pinned digest is no longer there; `newer` when its tag names another digest now."""
        from releaser.core.verdict import Finding, upgrade

        registries = Registries(http, self.inputs)

        def one(pin: Pin) -> list[Finding]:
            ref = parse(pin.requested or pin.name)
            registry = registries(ref.api_host)
            subject = f"{pin.kind} {pin.name} {pin.version}"
            what = f"image {ref.written}"
            if registry.digest_of(ref.repository, pin.version, what=what) != pin.version:
                return [Finding("gone", subject, f"{pin.version} is gone from {pin.source}", upgrade(pin.name))]
            if ref.digest is not None:
                return []
            now = registry.digest_of(ref.repository, ref.tag_or_latest, what=what)
            if now is None:
                return [Finding("newer", subject, f"tag {ref.tag_or_latest} is gone from {pin.source} (the pinned digest is there)", upgrade(pin.name))]
            if now != pin.version:
                return [Finding("newer", subject, f"tag {ref.tag_or_latest} has moved to {now} (locked {pin.version})", upgrade(pin.name))]
            return []

        return [f for found in http.map(one, pins) for f in found]

    # -- helpers ----------------------------------------------------------------------

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _shown(self, path: Path) -> Path:
        return Path(self._name(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


def _digest(entries: dict[str, str]) -> str:
    blob = json.dumps(sorted(entries.items()), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
