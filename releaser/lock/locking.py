"""`releaser lock`: every source's inputs pinned, one lockfile written atomically."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from releaser import __version__
from releaser.core import lockfile
from releaser.core.config import CONFIG_NAME, ReleaseConfig
from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import InputRecord, Lock, Pin
from releaser.core.progress import Event, Progress, silent
from releaser.core.redact import strip_credentials
from releaser.sources import LockRequest, Source, sources_for

if TYPE_CHECKING:  # `releaser check` imports this module and must not pay for requests
    from releaser.core.http import Http


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    previous: Lock | None
    written: bool  # False when the file already held exactly these bytes
    warnings: tuple[str, ...] = ()  # pinned, but worth a word: a yanked release

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


def input_records(config: ReleaseConfig, sources: list[Source]) -> dict[str, InputRecord]:
    """Every input's digest and normalized entries, as the lock header records them.

    Offline and fast: `releaser check` calls it on every run and compares the result
    with the header, entry by entry, to say what changed.
    """
    records = {CONFIG_NAME: InputRecord(config.dependency_digest, config_entries(config))}
    for source in sources:
        records.update(source.input_records())
    return records


def config_entries(config: ReleaseConfig) -> dict[str, dict[str, Any]]:
    """release.toml's dependency sections, normalized, credentials removed."""
    entries: dict[str, dict[str, Any]] = {}
    if config.python is not None:
        py = config.python
        settings = {"index-url": strip_credentials(py.index_url)}
        if py.extra_index_urls:
            settings["extra-index-urls"] = " ".join(strip_credentials(u) for u in py.extra_index_urls)
        if py.requirements:
            settings["requirements"] = " ".join(_relative(config.root, p) for p in py.requirements)
        if py.pyproject:
            settings["pyproject"] = "true"
        entries["python"] = settings
    maven = {
        c.key: {"version": c.version, "repository": strip_credentials(block.repository)}
        for block in config.maven
        for c in block.dependencies
    }
    git = {g.name: {"url": strip_credentials(g.url), "ref": g.ref} for g in config.git}
    artifact = {
        a.name: {"url": strip_credentials(a.url), **({"sha256": a.sha256} if a.sha256 else {})}
        for a in config.artifacts
    }
    for group, found in (("maven", maven), ("git", git), ("artifact", artifact)):
        if found:
            entries[group] = found
    return entries


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def lock(
    config: ReleaseConfig,
    *,
    as_of: datetime | None = None,
    upgrade_all: bool = False,
    upgrade: tuple[str, ...] = (),
    http: Http | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> LockResult:
    """Resolve every input and write the lockfile; the previous one stays intact on failure.

    `progress` hears of each source's resolution and of the index pages read (N/M).
    A yanked release is pinned with a warning; with `strict`, refused and nothing written.
    """
    previous = lockfile.read(config.lockfile)
    sources = sources_for(config)
    records = input_records(config, sources)  # validates every input before any network
    wanted = _upgrade_names(previous, upgrade)
    cutoff = (as_of or datetime.now(timezone.utc)).astimezone(timezone.utc)

    pins: list[Pin] = []
    warnings: list[str] = []
    import tempfile  # here, not at the top: `releaser check` imports this module

    from releaser.core.fsutil import write_atomic
    from releaser.core.http import Http

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
                progress=progress,
                warnings=warnings,
            )
            (progress or silent)(Event("resolve", f"resolving the {source.kind} inputs"))
            pins.extend(source.lock(request))

    new = Lock(
        as_of=cutoff,
        releaser=__version__,
        resolver=", ".join(r for r in (s.resolver() for s in sources) if r) or "none",
        inputs=records,
        sources={s.kind: s.source_urls() for s in sources if s.source_urls()},
        pins=tuple(pins),
    )
    if as_of is None and previous is not None and new.same_pins(previous):
        # Nothing moved: keep the recorded cut-off and who resolved these pins (a newer
        # pip-tools that picks the same pins is no change), so the file does not churn.
        new = replace(new, as_of=previous.as_of, releaser=previous.releaser, resolver=previous.resolver)
    if strict and warnings:
        raise Refused(f"{'; '.join(warnings)} (--strict): require another version, then lock again")
    written = write_atomic(config.lockfile, lockfile.dumps(new))
    return LockResult(new, previous, written, tuple(warnings))


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
