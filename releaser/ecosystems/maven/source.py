"""The Maven source: every floating Maven version pinned to one exact, hashed, dated file.

A `-SNAPSHOT` becomes its timestamped build (1.0-SNAPSHOT -> 1.0-20071115.230503-12)
read from the version's maven-metadata.xml; a range, LATEST or RELEASE becomes a
release version read from the artifact's maven-metadata.xml and Maven's version
order. Several repositories are consulted as Maven consults them: every one, and
for a snapshot, LATEST or RELEASE the metadata updated last wins. Each pinned
file and its pom are downloaded, hashed and checked against every checksum the
repository publishes. Coordinates resolve concurrently on the shared HTTP pool,
and each one fetches its files and checksums concurrently too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core.errors import ConfigError
from releaser.core.lockfile import Pin
from releaser.core.redact import strip_credentials
from releaser.core.verdict import Finding, upgrade
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.settings import MavenInputs
from releaser.ecosystems.maven.version import VersionRange

if TYPE_CHECKING:
    from releaser.ecosystems.maven.resolve import Resolver
    from releaser.plumbing.http import Http


class MavenSource(Source):
    kind = "maven"

    def __init__(self, config_path: Path, inputs: tuple[MavenInputs, ...]) -> None:
        self.config_path = config_path
        self.inputs = inputs
        # One source for every [[maven]] table: every repository, in order, for every dependency.
        self.repositories = tuple(dict.fromkeys(i.repository.rstrip("/") for i in inputs))

    @property
    def coordinates(self) -> list[MavenCoordinate]:
        """Every dependency once; the same key with two versions is a ConfigError."""
        seen: dict[str, MavenCoordinate] = {}
        for coord in (c for i in self.inputs for c in i.dependencies):
            known = seen.setdefault(coord.key, coord)
            if known.version != coord.version:
                raise ConfigError(
                    f"{self.config_path}: [[maven]] dependencies: {coord.key} is asked for twice, "
                    f"as {known.version} and {coord.version}"
                )
            if VersionRange.is_range(coord.version):
                try:
                    VersionRange.parse(coord.version)
                except ValueError as exc:
                    raise ConfigError(f"{self.config_path}: [[maven]] dependencies: {coord}: {exc}") from None
        return sorted(seen.values(), key=lambda c: c.key)

    def input_digests(self) -> dict[str, str]:
        """The project's POM files (`pom = ...`: itself, its modules, local parents); the rest is release.toml."""
        _ = self.coordinates  # validated before any network
        found: dict[str, str] = {}
        for block in self.inputs:
            if block.pom is not None:
                from releaser.ecosystems.maven.project import digests

                found.update(digests(block.pom, self.config_path.parent))
        return found

    def input_paths(self) -> list[Path] | None:
        # A project's POMs (its modules, its local parents) are not listed here: not sealed.
        return None if any(block.pom is not None for block in self.inputs) else []

    def source_urls(self) -> tuple[str, ...]:
        return tuple(strip_credentials(r) for r in self.repositories)

    def lock(self, request: LockRequest) -> list[Pin]:
        coordinates = self.coordinates
        if not coordinates and not any(block.pom for block in self.inputs):
            return []
        from releaser.ecosystems.maven.walk import Walk, pin_graph

        with self._resolver(request) as resolver:
            walk = Walk(resolver, request, self.config_path.parent)
            return pin_graph(walk, coordinates, self.inputs, request.http.map)

    def verify(self, pins: tuple[Pin, ...], http: Http, targets: tuple[str, ...] = ()) -> list[Finding]:
        """Every file still served with its sha256; a newer build or release is news."""
        from releaser.ecosystems.upstream import verify_generic
        from releaser.plumbing.credentials import userinfo_of

        found = verify_generic(pins, http, userinfo=userinfo_of(self.repositories))
        floating = {c.key: c for c in self.coordinates if c.floats}
        floating.update((p.name, c) for p in pins if p.name not in floating and (c := _asked(p)) is not None and c.floats)
        pinned = [p for p in pins if p.name in floating]
        with tempfile.TemporaryDirectory(prefix="releaser-check-") as tmp:
            request = LockRequest(datetime.now(UTC), False, (), True, frozenset(), http, Path(tmp))
            with self._resolver(request) as resolver:
                newest = http.map(lambda pin: resolver.resolve(floating[pin.name]).version, pinned)
        for pin, version in zip(pinned, newest):
            if version != pin.version:
                message = f"{floating[pin.name].version} is now {version} (locked {pin.version})"
                found.append(Finding("newer", f"maven {pin.name} {pin.version}", message, upgrade(pin.name)))
        return found

    @contextmanager
    def _resolver(self, request: LockRequest) -> Iterator[Resolver]:
        from releaser.ecosystems.maven.resolve import Resolver, widen_pool

        widen_pool(request.http, self.repositories)
        # Coordinates resolve on the shared pool; each one's own concurrent fetches
        # (its file and pom, a metadata file per repository, checksum sidecars) go
        # to a second pool of the same size, created once for the whole run.
        with ThreadPoolExecutor(max_workers=request.http.workers, thread_name_prefix="maven") as helper:
            yield Resolver(self.repositories, request, helper)


def _asked(pin: Pin) -> MavenCoordinate | None:
    """What a transitive pin's `requested` asked for (`[1.0,2.0) via g:a` -> g:a...:[1.0,2.0)), if it reads."""
    spec = (pin.requested or "").split(" via ")[0].split(" (")[0]
    try:
        return MavenCoordinate.parse(f"{pin.name}:{spec}") if "@" not in pin.name and spec else None
    except ValueError:
        return None
