"""Image references pinned to digests and asked about again: the one way releaser pins an image.

`[containers]` pins its Dockerfiles' and compose files' images with it, and a kind whose
inputs name images of their own (a workflow's `docker://` step) asks it for theirs, so an
image is resolved, kept, dated (`--as-of`, the witness log) and verified the same way
whichever file names it, with `[containers]`' platforms, insecure registries and logins.

Each tag is pinned to the digest it names now (an index, or a single manifest), with each
wanted platform's manifest digest and `created` as the pin's files; a reference that
already carries a digest is verified, not re-resolved. A relock keeps a pin whose digest
the registry still has. With `--as-of`, a tag whose image was created after the cut-off
falls back to the newest digest seen for it (the previous lock, the witness log) that was
created at or before it; with none, the lock is refused, naming the image.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core import lockfile
from releaser.core.errors import Refused, ReleaserError
from releaser.core.lockfile import Pin
from releaser.ecosystems.base import LockRequest
from releaser.ecosystems.containers.reference import ImageRef, parse
from releaser.ecosystems.containers.resolve import IMAGES_AT_ONCE, KIND, Registries, Resolved, resolve
from releaser.ecosystems.containers.settings import ContainerInputs

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.plumbing.http import Http


class ImagePinner:
    """Pins images for the project at `root`, with `[containers]`' settings (none: every default)."""

    def __init__(self, root: Path, inputs: ContainerInputs | None, lockfile_path: Path | None = None) -> None:
        self.root, self.inputs = root, inputs or ContainerInputs()
        self.lockfile_path = lockfile_path

    def platforms(self, asked: str | None = None) -> tuple[str, ...]:
        """The platforms to pin of an image a file asks for on `asked` (or on none): the configured
        ones, plus `asked`; () for every platform the index offers."""
        configured = self.inputs.platforms
        if asked and configured and asked not in configured:
            return (*configured, asked)
        return configured

    def lock(self, wanted: Mapping[str, tuple[str, ...]], request: LockRequest, where: Mapping[str, str] | None = None) -> list[Pin]:
        """Each written reference of `wanted` (-> its platforms) pinned; `request.previous`'s image pins kept
        when they may stand. A failure names the reference's `where` (file:line) when it is given."""
        from releaser.ecosystems.containers import witness

        registries = Registries(request.http, self.inputs)
        previous = {p.name: p for p in request.previous if p.kind == KIND}
        earlier = self._earlier() if request.dated else []
        now = datetime.now(UTC)
        sightings: list[witness.Sighting] = []

        def pin(written: str) -> Pin:
            ref = parse(written)
            kept = previous.get(written)
            if kept is not None and _keeps(kept, ref, wanted[written], request, registries):
                return kept
            current = resolve(registries, ref, wanted[written])
            if current.created is not None and ref.digest is None:
                sightings.append(witness.Sighting(ref.locator, current.digest, current.created, now))
            if not request.dated or ref.digest is not None or (current.created and current.created <= request.as_of):
                return current.pin()
            return _as_of(registries, current, wanted[written], earlier, request.as_of)

        def named(written: str) -> Pin:
            try:
                return pin(written)
            except ReleaserError as exc:
                at = (where or {}).get(written)
                if at is None:
                    raise
                raise type(exc)(f"{at}: {exc}") from None

        from releaser.plumbing.http import concurrently

        try:
            return concurrently(named, list(wanted), workers=IMAGES_AT_ONCE)
        finally:
            witness.record(self.root, sightings)

    def _earlier(self) -> list[tuple[str, str, datetime]]:
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

    def verify(self, pins: tuple[Pin, ...], http: Http) -> list[Finding]:
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

    def insist_unmoved(self, pins: tuple[Pin, ...], http: Http) -> None:
        """Refused when a tag names another digest than the lock's, or a pinned digest is gone (before a cut)."""
        moved = [f.message for f in self.verify(pins, http) if f.code in ("newer", "gone")]
        if moved:
            raise Refused(
                f"{len(moved)} image(s) are not what the lock pins any more ({'; '.join(moved[:3])}); the RC is built "
                "from the lock: relock (releaser lock --upgrade NAME) or find out why"
            )


def _keeps(kept: Pin, ref: ImageRef, wanted: tuple[str, ...], request: LockRequest, registries: Registries) -> bool:
    """May the previous pin stand? Same reference and registry, its platforms still the wanted
    ones, not upgraded, and its digest still served."""
    if request.upgrade_all or kept.name in request.upgrade or kept.requested != ref.written:
        return False
    if kept.source != registries.base(ref.api_host) or not set(wanted) <= {a.name for a in kept.artifacts}:
        return False
    registry = registries(ref.api_host)
    return registry.digest_of(ref.repository, kept.version, what=f"image {ref.written}") == kept.version


def _as_of(
    registries: Registries, current: Resolved, wanted: tuple[str, ...],
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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
