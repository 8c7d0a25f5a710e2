"""The running interpreter as a lock target sees it, read with nothing but `os` and `sys`.

One reading for `releaser.core.targets.here` (what a lock was made for, what `check`
compares) and for the check seal (`releaser.core.seal`), which runs before anything
heavier is imported: the two must never disagree on where they run.
"""

from __future__ import annotations

import os
import sys


def target() -> tuple[str, str, str]:
    """(sys_platform, python_version as MAJOR.MINOR, platform_machine; "" when unknown)."""
    machine = os.uname().machine if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE", "")
    return sys.platform, f"{sys.version_info[0]}.{sys.version_info[1]}", machine
