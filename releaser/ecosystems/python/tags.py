"""Which wheels a target installs: its wheel tags, as the uv resolver assumes them.

A lock for named targets (`[python] environments`) must know, for each target, whether
a pin installs there from a wheel or is built from its sdist (then its build is pinned
too, `releaser.ecosystems.python.build`). A target names a platform and a Python version, not
a glibc or a macOS release, so this takes what uv takes for `--python-platform` (checked
against uv itself in tests/test_build_targets.py):

- linux: manylinux up to glibc 2.28 (and `linux_<machine>`), no musllinux;
- darwin: macOS up to 13.0 (the oldest release Apple still supports);
- win32: `win_amd64` or `win_arm64`;
- CPython of the target's version: its own ABI, `abi3` of it or older, `none`.

`None` as a target is the running interpreter, with its own tags.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms, sys_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

if TYPE_CHECKING:
    from releaser.core.targets import Target

GLIBC = (2, 28)
MACOS = (13, 0)
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}  # PEP 599, 571, 513


@cache
def tags_of(target: Target | None) -> dict[Tag, int]:
    """Every wheel tag `target` (None: this interpreter) installs, with its rank: 0 is the
    one an installer prefers most."""
    tags = sys_tags() if target is None else _target_tags(target)
    ranks: dict[Tag, int] = {}
    for tag in tags:
        ranks.setdefault(tag, len(ranks))
    return ranks


def wheel_fits(filename: str, target: Target | None = None) -> bool:
    """True when the wheel `filename` installs on `target` (None: this interpreter)."""
    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    fits = tags_of(target)
    return any(tag in fits for tag in tags)


def _target_tags(target: Target) -> list[Tag]:
    arch = target.wheel_arch
    if target.platform == "linux":
        platforms = []
        for minor in range(GLIBC[1], 4, -1):
            platforms.append(f"manylinux_2_{minor}_{arch}")
            if minor in _LEGACY and (arch == "x86_64" or minor == 17):
                platforms.append(f"{_LEGACY[minor]}_{arch}")
        platforms.append(f"linux_{arch}")
    elif target.platform == "darwin":
        platforms = list(mac_platforms(MACOS, arch))
    else:
        platforms = [f"win_{arch}"]
    version = tuple(int(part) for part in target.python.split("."))
    interpreter = f"cp{version[0]}{version[1]}"
    return [*cpython_tags(version, [interpreter], platforms), *compatible_tags(version, interpreter, platforms)]
