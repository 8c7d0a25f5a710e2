"""The ecosystems releaser pins: one package per kind, reached through the registry.

`releaser.core.kinds` names each kind and the module holding its `Ecosystem`
(`releaser.ecosystems.base`); `ecosystem(kind)` imports that module the first time a
stage asks for it, so `releaser check` loads only the kinds its lock and inputs hold.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from releaser.core import config as release_toml
from releaser.core.config import ConfigReader, KindInputs, ReleaseConfig
from releaser.core.kinds import ECOSYSTEMS, KINDS
from releaser.core.lockfile import Pin
from releaser.ecosystems.base import Ecosystem, LockRequest, Source

__all__ = [
    "KINDS", "Ecosystem", "LockRequest", "Source", "ecosystem", "floats", "load_config", "parse_config", "sources_for",
]

_SHA256_HEX = frozenset("0123456789abcdef")


@cache
def ecosystem(kind: str) -> Ecosystem:
    """The ecosystem of `kind` (a name of `releaser.core.kinds`); KeyError for any other name."""
    found = import_module(ECOSYSTEMS[kind]).ECOSYSTEM
    assert isinstance(found, Ecosystem) and found.kind == kind, f"{ECOSYSTEMS[kind]} is not the ecosystem of {kind}"
    return found


def sources_for(config: ReleaseConfig) -> list[Source]:
    """The sources release.toml configures, in the lock's order."""
    return [source for kind in KINDS if kind in config.inputs and (source := ecosystem(kind).source(config)) is not None]


def floats(pin: Pin) -> str | None:
    """Why `pin` is not exact, or None when it is: every file needs a valid sha256, and then
    what its kind asks (`Ecosystem.floats`)."""
    unhashed = sorted(a.name for a in pin.artifacts if len(a.sha256) != 64 or not set(a.sha256) <= _SHA256_HEX)
    if unhashed:
        return f"file {unhashed[0]} has no valid sha256"
    return ecosystem(pin.kind).floats(pin)


def _inputs_parser(kind: str) -> release_toml.InputsParser:
    def parse(reader: ConfigReader, data: dict[str, Any]) -> KindInputs | None:
        return ecosystem(kind).parse_inputs(reader, data)

    return parse


# Each kind reads its own tables of release.toml; its module is imported only when the file has them.
INPUT_PARSERS: dict[str, release_toml.InputsParser] = {kind: _inputs_parser(kind) for kind in KINDS}


def load_config(path: Path) -> ReleaseConfig:
    """release.toml at `path`, read and validated: `[release]`, `[migrations]` and every kind's tables."""
    return release_toml.load(path, INPUT_PARSERS)


def parse_config(text: str, path: Path) -> ReleaseConfig:
    """`text` validated as the release.toml at `path` (files it names are looked up beside `path`)."""
    return release_toml.parse(text, path, INPUT_PARSERS)
