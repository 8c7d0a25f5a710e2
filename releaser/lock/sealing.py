"""Whether the lock `releaser lock` writes gets a check seal, and the seal itself.

A seal (`releaser.core.seal`) stands for a clean offline verdict, so a lock is sealed
only when `releaser check` would say, there and then, that it is fresh and nothing
floats, is uncovered or was made for another interpreter, and when nothing outside the
sealed files decides that verdict: the default lockfile name, every input file known to
its source, no `[attest] public-key`. Otherwise the lock has no seal and `check` runs in
full, as it always may. With `[migrations]` the seal holds the lock's part only (`1+migrations`):
the gate reads the migrations and the previous record, which this stage does not, so its
part is kept by the plain check that ran it (`releaser.core.gateseal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from releaser import __version__
from releaser.core import depfiles, seal
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ReleaserError
from releaser.core.lockfile import InputRecord, Lock
from releaser.ecosystems import Source
from releaser.lock.soundness import floating, other_target, uncovered, unlisted

Files = list[tuple[str, bytes]]


def snapshot(config: ReleaseConfig, sources: list[Source]) -> Files | None:
    """The bytes of every file the inputs are read from, release.toml first; None when one
    cannot be named or read (a missing file is the input records' error to report)."""
    paths = [config.path]
    for source in sources:
        try:
            found = source.input_paths()
        except ReleaserError:  # the input records report it, in their own words
            return None
        if found is None:
            return None
        paths += found
    names = []
    for path in paths:
        name = _relative(config.root, path)
        if name is None or not seal.safe_name(name):
            return None
        if name not in names:  # a file included twice is read once
            names.append(name)
    # The project's other dependency files decide `unlisted`: a change to one breaks the seal.
    names += [name for name in depfiles.candidates(str(config.root)) if name not in names and seal.safe_name(name)]
    return _read(config.root, names)


def sealed(
    text: str,
    config: ReleaseConfig,
    lock: Lock,
    records: Mapping[str, InputRecord],
    before: Files | None,
) -> str:
    """`text` with a seal, when the lock may have one and the files read are still `before`."""
    mode = _mode(config, lock, records)
    if mode is None or before is None or _read(config.root, [n for n, _ in before]) != before:
        return text
    gated = config.migrations is not None
    return seal.sealed(text, __version__, len(lock.pins), len(records), mode, before, gated=gated)


def kept(text: str, previous: bytes | None) -> str:
    """`text`; or, when it has no seal and the previous lock is the same but for its seal
    line, the previous lock's text: a relock that moves nothing leaves the file as it was."""
    if previous is None or seal.split(text.encode("utf-8")) is not None:
        return text
    found = seal.split(previous)
    if found is not None and found[0] == text.encode("utf-8"):
        return previous.decode("utf-8")
    return text


def sealable(config: ReleaseConfig, lock: Lock, records: Mapping[str, InputRecord]) -> bool:
    """Whether `lock` is one `releaser lock` seals (then a relock without a holding seal writes one)."""
    return _mode(config, lock, records) is not None


def _mode(config: ReleaseConfig, lock: Lock, records: Mapping[str, InputRecord]) -> str | None:
    """The seal's interpreter mode, or None when this lock is not to be sealed."""
    # [attest] public-key: check verifies the newest RC's signature, which no seal can vouch for.
    if config.release.lockfile != seal.LOCKFILE or (config.attest and config.attest.public_key):
        return None
    if floating(lock) or uncovered(config, lock, records) or unlisted(config, lock) or other_target(lock):
        return None
    if lock.environments:
        return "any"  # markers are judged against the lock's own targets, not this interpreter
    markers = any(
        isinstance(text, str) and ";" in text
        for record in records.values()
        for text in record.entries.get("requirements", {}).values()
    )
    return "exact" if markers else "target"


def _read(root: Path, names: list[str]) -> Files | None:
    """Each file's bytes; None when one cannot be read. Read again after the lock is made,
    they show whether an input changed while it was being made (then no seal)."""
    try:
        return [(name, (root / name).read_bytes()) for name in names]
    except OSError:
        return None


def _relative(root: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return None

