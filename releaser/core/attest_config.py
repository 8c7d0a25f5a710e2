"""`[attest]` in release.toml: who signs an RC's provenance, and whose signature `check` trusts.

    [attest]
    key = "${RELEASE_SIGNING_KEY}"      # a PEM private key: in a variable, or a file (outside the repo)
    passphrase = "${RELEASE_KEY_PASS}"  # only for a passphrase-protected key; only as ${VAR}
    public-key = "keys/release.pub"     # the PEM public key `check` and `verify` trust (committed)
    builder-id = "https://ci.example.org/release"   # who ran the cut, for the provenance

Values are kept as written: a `${VAR}` is read only when a key is used, so offline
commands never need the secret, and the key's bytes never sit in the config object.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from releaser.core.errors import ConfigError

KEYS = {"key", "passphrase", "public-key", "builder-id"}
WHERE = "[attest]"
SECTION = "attest"
_VAR = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
DEFAULT_BUILDER = "urn:releaser:builder:local"


@dataclass(frozen=True)
class AttestSettings:
    key: str | None = None  # "${VAR}" holding a PEM, or a path to a PEM file
    passphrase: str | None = None  # "${VAR}"
    public_key: str | None = None  # "${VAR}" or a path inside the project
    builder_id: str = DEFAULT_BUILDER


def parse(p: Any, t: dict[str, Any], root: Path) -> AttestSettings:
    """`[attest]` as read by `p`, a `releaser.core.config._Parser` (its getters raise ConfigError)."""
    p._no_unknown(t, KEYS, WHERE, SECTION)
    key = p._get(t, "key", str, WHERE, SECTION, default=None)
    passphrase = p._get(t, "passphrase", str, WHERE, SECTION, default=None)
    public_key = p._get(t, "public-key", str, WHERE, SECTION, default=None)
    builder = p._get(t, "builder-id", str, WHERE, SECTION, default=DEFAULT_BUILDER)
    for name, value in (("key", key), ("public-key", public_key)):
        if value is not None and not value.strip():
            p._fail(WHERE, name, "must be a path to a PEM file or \"${VAR}\"", SECTION)
    if passphrase is not None and not _VAR.match(passphrase):
        p._fail(WHERE, "passphrase", "must be \"${VAR}\": a passphrase never lives in release.toml", SECTION)
    if passphrase is not None and key is None:
        p._fail(WHERE, "passphrase", "is set, but no key is", SECTION)
    if public_key is not None and not _VAR.match(public_key):
        from releaser.core.paths import inside

        if Path(public_key).is_absolute() or not inside(root, root / public_key):
            p._fail(WHERE, "public-key", f"{public_key!r} must be a path inside the project (commit the public key)", SECTION)
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", builder):
        p._fail(WHERE, "builder-id", f"{builder!r} is not a URI", SECTION)
    return AttestSettings(key, passphrase, public_key, builder)


def read_pem(value: str, root: Path, what: str, warnings: list[str] | None = None) -> bytes:
    """The PEM bytes `value` names: the variable's value for "${VAR}", else the file's.

    A private key file that others can read is worth a warning (appended to `warnings`).
    """
    match = _VAR.match(value)
    if match:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{what}: refers to ${{{name}}}, which is not set in the environment")
        return os.environ[name].encode("utf-8")
    path = (root / Path(value).expanduser()).absolute()
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{what}: {value} is not a file")
        if info.st_size > 1 << 16:
            raise ConfigError(f"{what}: {value} is larger than any PEM key")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{what}: {value} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{what}: {value} cannot be read ({exc.strerror})") from None
    if warnings is not None and info.st_mode & 0o077:
        warnings.append(f"{what}: {value} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}); chmod 600 it")
    return data


def passphrase_of(settings: AttestSettings) -> str | None:
    if settings.passphrase is None:
        return None
    name = _VAR.match(settings.passphrase).group(1)  # type: ignore[union-attr]  # parse() checked the form
    if name not in os.environ:
        raise ConfigError(f"{WHERE} passphrase: refers to ${{{name}}}, which is not set in the environment")
    return os.environ[name]
