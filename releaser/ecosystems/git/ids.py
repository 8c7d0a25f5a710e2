"""What a git commit id looks like: light, so `releaser check` can judge a pin without git."""

from __future__ import annotations

import re

from releaser.core.errors import ConfigError
from releaser.core.lockfile import Pin

FULL_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories; use fullmatch


def commit_of(pin: Pin) -> str:
    """A git pin's recorded commit, which must be a full commit id."""
    if not FULL_COMMIT_ID.fullmatch(pin.version):
        raise ConfigError(f"git {pin.name}: the record's version {pin.version[:80]!r} is not a full commit id")
    return pin.version
