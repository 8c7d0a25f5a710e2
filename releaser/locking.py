"""`releaser lock`: every source's inputs pinned, one lockfile written atomically."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from packaging.utils import canonicalize_name

from releaser import __version__, lockfile
from releaser.config import CONFIG_NAME, ReleaseConfig
from releaser.errors import ConfigError
from releaser.fsutil import write_atomic
from releaser.http import Http
from releaser.lockfile import Lock, Pin
from releaser.sources import LockRequest, Source, sources_for


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    previous: Lock | None
    written: bool  # False when the file already held exactly these bytes

    @property
    def changes(self) -> list[str]:
        """One line per pin added, removed or moved, for the summary."""
        before = {(p.kind, p.name): p.version for p in (self.previous.pins if self.previous else ())}
        after = {(p.kind, p.name): p.version for p in self.lock.pins}
        lines = []
        for key in sorted(before.keys() | after.keys()):
            old, new = before.get(key), after.get(key)
            if old != new:
                lines.append(f"{key[0]} {key[1]}: {old or '(new)'} -> {new or '(removed)'}")
        return lines


def input_digests(config: ReleaseConfig, sources: list[Source]) -> dict[str, str]:
    """Digest of every input: release.toml's dependency sections and each source's files."""
    digests = {CONFIG_NAME: config.dependency_digest}
    for source in sources:
        digests.update(source.input_digests())
    return digests


def lock(
    config: ReleaseConfig,
    *,
    as_of: datetime | None = None,
    upgrade_all: bool = False,
    upgrade: tuple[str, ...] = (),
    http: Http | None = None,
) -> LockResult:
    """Resolve every input and write the lockfile; the previous one stays intact on failure."""
    previous = lockfile.read(config.lockfile)
    sources = sources_for(config)
    digests = input_digests(config, sources)  # validates every input before any network
    wanted = _upgrade_names(previous, upgrade)
    cutoff = (as_of or datetime.now(timezone.utc)).astimezone(timezone.utc)

    pins: list[Pin] = []
    with tempfile.TemporaryDirectory(prefix="releaser-lock-") as tmp, (http or Http()) as session:
        for source in sources:
            workdir = Path(tmp) / source.kind
            workdir.mkdir()
            request = LockRequest(
                as_of=cutoff,
                dated=as_of is not None,
                previous=previous.of_kind(source.kind) if previous else (),
                upgrade_all=upgrade_all,
                upgrade=frozenset(n for kind, n in wanted if kind == source.kind),
                http=session,
                workdir=workdir,
            )
            pins.extend(source.lock(request))

    new = Lock(
        as_of=cutoff,
        releaser=__version__,
        resolver=", ".join(r for r in (s.resolver() for s in sources) if r) or "none",
        inputs=digests,
        sources={s.kind: s.source_urls() for s in sources if s.source_urls()},
        pins=tuple(pins),
    )
    if as_of is None and new.same_pins(previous):
        # Nothing moved: keep the recorded cut-off, so the file does not churn.
        new = new.with_as_of(previous.as_of)
    written = write_atomic(config.lockfile, lockfile.dumps(new))
    return LockResult(new, previous, written)


def _upgrade_names(previous: Lock | None, names: tuple[str, ...]) -> set[tuple[str, str]]:
    """(kind, name) of each pin to re-resolve; a name the lock does not pin is an error."""
    if not names or previous is None:
        return {("python", canonicalize_name(n)) for n in names}
    found: set[tuple[str, str]] = set()
    for name in names:
        matches = {(p.kind, p.name) for p in previous.pins if p.name == name}
        matches |= {(p.kind, p.name) for p in previous.of_kind("python") if p.name == canonicalize_name(name)}
        if not matches:
            raise ConfigError(f"--upgrade {name}: release.lock pins no dependency of that name")
        found |= matches
    return found
