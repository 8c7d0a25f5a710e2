"""RC ids and their tags: `{version}rc{N}`, the next free N, the tag's name.

An RC id is the PEP 440 release candidate of `[release] version`; its number is
the one asked for, or one more than any RC of that version recorded or tagged, so
a number is never used twice, not even after a record was deleted. The tag's name
is `[release] tag` with `{rc}` replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

from packaging.version import InvalidVersion, Version

from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError
from releaser.plumbing import gitrepo
from releaser.record import records


def rc_id(config: ReleaseConfig, root: Path, number: int | None) -> str:
    """`{version}rc{N}`: N is `number`, or one more than any RC recorded or tagged."""
    version = config.release.version
    if number is None:
        taken = [*_rc_numbers(config, records.recorded(root / config.release.records)), *_rc_numbers(config, tagged_rcs(config, root))]
        number = max(taken, default=0) + 1
    if number < 1:
        raise ConfigError(f"--rc {number}: RC numbers start at 1")
    rc = f"{version}rc{number}"
    try:
        parsed = Version(rc)
    except InvalidVersion:
        parsed = None
    if parsed is None or parsed.pre != ("rc", number) or parsed.dev is not None or parsed.post is not None:
        raise ConfigError(
            f"[release] version {version!r} gives the RC id {rc!r}, which is not a PEP 440 release candidate; "
            "set version to the final release, e.g. \"1.0.0\""
        )
    return rc


def tagged_rcs(config: ReleaseConfig, root: Path) -> list[str]:
    """The RC ids of this version that have a tag named by `[release] tag`."""
    prefix, _, suffix = config.release.tag.partition("{rc}")
    pattern = re.compile(re.escape(prefix) + "(" + re.escape(config.release.version) + r"rc\d+)" + re.escape(suffix) + "$")
    return [match.group(1) for match in map(pattern.match, gitrepo.tags(root)) if match]


def tag_name_of(config: ReleaseConfig, rc: str) -> str:
    return config.release.tag.replace("{rc}", rc)


def _rc_numbers(config: ReleaseConfig, ids: list[str]) -> list[int]:
    pattern = re.compile(re.escape(config.release.version) + r"rc(\d+)$")
    return [int(m.group(1)) for m in map(pattern.match, ids) if m]
