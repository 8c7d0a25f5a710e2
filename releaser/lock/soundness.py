"""What makes a lock sound: every entry exact and hashed, every direct input pinned.

`releaser check` reports a lock that is not (`floating`, `uncovered`); `releaser lock`
asks the same of the lock it is about to write before it seals it
(`releaser.lock.sealing`), so the seal can only ever stand for a verdict `check`
would give.
"""

from __future__ import annotations

from collections.abc import Mapping

from releaser.core.config import ReleaseConfig
from releaser.core.kinds import KINDS
from releaser.core.lockfile import InputRecord, Lock, Pin
from releaser.core.verdict import Finding, upgrade


def floating(lock: Lock) -> list[Finding]:
    """Every entry whose meaning could change without a commit here."""
    found = []
    for pin in lock.pins:
        reason = floats(pin)
        if reason:
            found.append(Finding("floating", f"{pin.kind} {pin.name} {pin.version}", reason, upgrade(pin.name)))
    return found


def floats(pin: Pin) -> str | None:
    """Why `pin` is not exact, or None when it is: each kind says (`Ecosystem.floats`)."""
    from releaser.ecosystems import floats as kind_floats

    return kind_floats(pin)


def other_target(lock: Lock, name: str = "release.lock") -> list[Finding]:
    """Information about how the lock was made, from each kind it pins (Python: made for another
    interpreter, without `environments`). Never a failure."""
    from releaser.ecosystems import ecosystem

    return [f for kind in KINDS if lock.of_kind(kind) for f in ecosystem(kind).notes(lock, name)]


def uncovered(
    config: ReleaseConfig,
    lock: Lock,
    current: Mapping[str, InputRecord],
    name: str = "release.lock",
) -> list[Finding]:
    """Every direct input the lock does not pin.

    Each kind says which of its inputs are direct (`Ecosystem.uncovered`); Python's are
    read from the inputs' records (`current`), so an unchanged input needs no parsing.
    """
    from releaser.ecosystems import ecosystem

    return [f for kind in KINDS if kind in config.inputs for f in ecosystem(kind).uncovered(config, lock, current, name)]


def unlisted(config: ReleaseConfig, lock: Lock, name: str = "release.lock") -> list[Finding]:
    """Every dependency file of the project that release.toml does not list and that names what
    the lock does not pin: it would float, however sound the lock itself is. Each kind says
    which files are its own (`Ecosystem.unlisted`)."""
    from releaser.ecosystems import ecosystem

    return [f for kind in KINDS for f in ecosystem(kind).unlisted(config, lock, name)]
