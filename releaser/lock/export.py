"""`releaser export`: the lock in the formats other tools read.

Each kind offers its own (`Ecosystem.exports`: Python's `pylock` and `requirements`,
Maven's `maven` BOM); `cyclonedx`, the SBOM of every pin of every kind
(`releaser.lock.sbom`), is the lock's own. All are written from release.lock alone:
no network, no resolver.
"""

from __future__ import annotations

from pathlib import Path

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused
from releaser.core.kinds import KINDS, TABLES
from releaser.core.lockfile import Lock
from releaser.ecosystems import ecosystem
from releaser.ecosystems.base import Export

SBOM = "cyclonedx"
SBOM_OUTPUT = "sbom.cdx.json"


def exports() -> dict[str, Export]:
    """Every format a kind offers, by name, in the registry's order."""
    return {name: found for kind in KINDS for name, found in ecosystem(kind).exports().items()}


def file_formats() -> dict[str, str]:
    """Every format that writes a kind's own input files with their pins (`Ecosystem.file_formats`): name -> kind."""
    return {name: kind for kind in KINDS for name in ecosystem(kind).file_formats}


def formats() -> tuple[str, ...]:
    """Every --format name: the kinds' own, then the SBOM, then the kinds' pinned input files."""
    return (*exports(), SBOM, *file_formats())


def pinned_files(config: ReleaseConfig, lock: Lock, fmt: str) -> dict[Path, str]:
    """`--format fmt` of `file_formats`: each input file, as text, with the lock's pins written in."""
    kind = file_formats()[fmt]
    texts = ecosystem(kind).pinned_files(config, fmt, lock.pins)  # a file may name other kinds' pins
    if not texts:
        raise ConfigError(f"--format {fmt}: release.toml's [{TABLES[kind]}] names no {fmt} file to pin")
    return texts


def default_output(fmt: str) -> str:
    """The file an export writes without --output."""
    return SBOM_OUTPUT if fmt == SBOM else exports()[fmt].default_output


def current_lock(config: ReleaseConfig) -> Lock:
    """The lock to export from; refused (exit 1) when there is none yet, it was edited, or names other sources."""
    from releaser.core import lockfile

    found = lockfile.read_recorded(config.lockfile)
    if found is None:
        raise Refused(f"{config.lockfile}: no lockfile yet; run `releaser lock` first")
    lock, recorded = found
    if recorded != lock.content_digest:
        raise Refused(f"{config.lockfile}: was edited by hand (its content-digest does not match); run `releaser lock`")
    for kind in KINDS:
        ecosystem(kind).insist_sources(config, lock)
    return lock


def render(lock: Lock, fmt: str, config: ReleaseConfig | None = None) -> str:
    """`lock` in format `fmt`; the SBOM names the project of `config`."""
    if fmt == SBOM:
        from releaser.lock.sbom import to_cyclonedx

        if config is None:
            raise ValueError("the SBOM names the project: render it with the project's config")
        return to_cyclonedx(lock, name=config.release.name, version=config.release.version)
    found = exports().get(fmt)
    if found is None:
        raise ConfigError(f"--format {fmt}: unknown export format (expected one of: {', '.join(formats())})")
    return found.render(lock)


def write(lock: Lock, fmt: str, output: Path, config: ReleaseConfig | None = None) -> None:
    from releaser.plumbing.fsutil import write_atomic

    write_atomic(output, render(lock, fmt, config))
