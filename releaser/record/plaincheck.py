"""The plain `releaser check`, as the console entry point and the command line both run it.

The lock's verdict and, with `[migrations]`, the gate's, judged against the previous RC
(`releaser.record.baseline`); with `[attest] public-key`, the newest RC's provenance.
When that verdict passes offline and the lock's seal holds its part (`1+migrations`,
`releaser.core.seal`), the gate's part is kept (`releaser.core.gateseal`): the next plain
check with the same migrations, records and tags answers from it without reading them.

What the verdict was read from is digested before the previous RC is chosen, again once
it is chosen, and both again after the verdict: an RC cut or a migration edited meanwhile,
and nothing is kept.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from releaser import __version__
from releaser.check.checking import check
from releaser.core import gateseal, seal
from releaser.core.config import ReleaseConfig
from releaser.core.console import shown
from releaser.core.verdict import Verdict
from releaser.record.baseline import as_previous, previous_record

KEEP = 64  # entries kept in the cache, the newest: one per project and lock a user checks


@dataclass(frozen=True)
class GateInputs:
    """What `gateseal.inputs` digests for a project: its `paths` globs, expanded as the gate expands them."""

    root: Path
    recursive: bool
    records: str
    patterns: tuple[str, ...]

    def digest(self, previous: str) -> str | None:
        if not gateseal.sealable(self.patterns, self.records, previous):
            return None
        return gateseal.inputs(str(self.root), self.recursive, self.records, previous, self.patterns)


def run(config: ReleaseConfig, *, online: bool = False) -> Verdict:
    """The verdict `releaser check` prints; a passing one with `[migrations]` kept for the next."""
    gate = None if online else gate_inputs(config)
    held = seal.holding(str(config.root), __version__) if gate is not None else None
    lock_seal = held[2] if held is not None else ""
    before = gate.digest("") if gate is not None and lock_seal else None
    record = previous_record(config) if config.migrations is not None else None
    folder = _shown_path(config.root, record.path) if record is not None else ""
    chosen = gate.digest(folder) if gate is not None and before is not None else None
    verdict = check(config, online=online, previous=as_previous(record))
    if config.attest is not None:  # imported only then: check stays lean
        from releaser.record.verifying import with_provenance

        verdict = with_provenance(config, verdict)
    if gate is not None and before is not None and chosen is not None and verdict.ok:
        unmoved = gate.digest("") == before and gate.digest(folder) == chosen
        still = seal.holding(str(config.root), __version__)
        if unmoved and still is not None and still[2] == lock_seal:
            keep(config.root, lock_seal, gateseal.entry(chosen, gate.recursive, gate.records, folder, gate.patterns, shown(verdict)))
    return verdict


def gate_inputs(config: ReleaseConfig) -> GateInputs | None:
    """The gate's inputs, when its verdict depends on nothing else: not on trunk or an
    `upgrade-from` ref (branches move with every commit; those checks always run in full)."""
    settings = config.migrations
    if settings is None or settings.trunk is not None or settings.upgrade_from:
        return None
    from releaser.migrations.loader import READERS

    return GateInputs(config.root, READERS[settings.framework].recursive, config.release.records, settings.paths)


def keep(root: Path, lock_seal: str, text: str) -> None:
    """Write the entry; the oldest beyond KEEP go. A cache that cannot be written is no error."""
    from releaser.plumbing.fsutil import write_atomic

    path = Path(gateseal.entry_path(str(root), lock_seal))
    try:
        write_atomic(path, text)
        entries = sorted(path.parent.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _shown_path(root: Path, folder: Path) -> str:
    """A record's folder as the entry names it: relative to the project when inside it (read
    there as confined as the gate reads it), else absolute (a tag's record, kept in the git folder)."""
    real_root, real = os.path.realpath(root), os.path.realpath(folder)
    if real.startswith(real_root.rstrip(os.sep) + os.sep):
        return os.path.relpath(os.path.abspath(folder), os.path.abspath(root)).replace(os.sep, "/")
    return real
