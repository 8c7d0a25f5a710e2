"""release.toml: load, validate every key, and give typed inputs to the sources.

Every problem is a `ConfigError` naming the file, the key and, where it can be
found, the line. Nothing here touches the network or writes a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from releaser.core import documents
from releaser.core.attest_config import AttestSettings
from releaser.core.attest_config import parse as parse_attest
from releaser.core.errors import ConfigError
from releaser.core.kinds import KINDS, TABLES
from releaser.core.migration_config import MigrationSettings
from releaser.core.migration_config import parse as parse_migrations
from releaser.core.paths import inside
from releaser.core.redact import expand_references, remember_secrets, strip_credentials
from releaser.core.tomlreader import TableReader

CONFIG_NAME = "release.toml"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
_URL_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class ReleaseSettings:
    name: str
    version: str
    lockfile: str = "release.lock"
    records: str = "releases"
    build: tuple[str, ...] = ()
    gates: tuple[tuple[str, ...], ...] = ()
    templates: str | None = None  # a project folder with its own MANIFEST.md.j2
    tag: str = "v{rc}"  # the name of the git tag of an RC; {rc} is its id
    site: bool = False  # `releaser site` after every cut: dist/site/ refreshed from the records


class KindInputs(ABC):
    """One kind's tables of release.toml, as its ecosystem parsed them (`releaser.ecosystems.<kind>.settings`)."""

    @abstractmethod
    def urls(self) -> tuple[str, ...]:
        """Every URL the tables name, credentials and all (for `releaser.plumbing.credentials`)."""


# How a kind reads its tables: from the whole document (the kind finds its own), None when it has none.
InputsParser = Callable[["ConfigReader", dict[str, Any]], KindInputs | None]


@dataclass(frozen=True)
class ReleaseConfig:
    path: Path
    release: ReleaseSettings
    inputs: Mapping[str, KindInputs] = field(default_factory=dict)  # kind -> its tables, in the registry's order
    migrations: MigrationSettings | None = None  # [migrations]: not a dependency, not in the digest
    attest: AttestSettings | None = None  # [attest]: who signs the provenance of an RC
    dependency_digest: str = field(default="", compare=False)
    # One error per `${VAR}` a URL names that is not set. Offline commands (`check`,
    # `export`) never use the URLs and run without the secrets; the others call
    # `require_environment` before they use one.
    unset: tuple[str, ...] = field(default=(), compare=False)

    def require_environment(self) -> None:
        """Raise the ConfigError naming the first `${VAR}` of a URL that is not set."""
        if self.unset:
            raise ConfigError(self.unset[0])

    def inputs_of(self, kind: str) -> KindInputs | None:
        """`kind`'s tables of release.toml; None when it has none."""
        return self.inputs.get(kind)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def lockfile(self) -> Path:
        return self.root / self.release.lockfile


def load(path: Path, kinds: Mapping[str, InputsParser]) -> ReleaseConfig:
    """Read and validate `path`, each kind's tables with its parser (`kinds`, by kind: see
    `releaser.ecosystems.load_config`); raise ConfigError for anything wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; releaser reads its inputs from {CONFIG_NAME} at the project root "
            "(found from the current folder upwards, or -C DIR); write one with: releaser init"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse(text, path, kinds)


def parse(text: str, path: Path, kinds: Mapping[str, InputsParser]) -> ReleaseConfig:
    """Validate `text` as the release.toml at `path` (files it names are looked up beside `path`)."""
    data = documents.toml(text, path)
    return ConfigReader(path, text).config(data, kinds)


def expand_variables(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with each `${VAR}` set in the environment replaced by its value (a credential in a
    URL's userinfo percent-encoded, as `redact.expand_references` does; an unset one stays as
    written), and the names of those not set."""
    unset: list[str] = []

    def value(name: str) -> str | None:
        if name not in os.environ:
            unset.append(name)
            return None
        return os.environ[name]

    return expand_references(text, value), tuple(unset)


def dependency_digest(data: dict[str, Any]) -> str:
    """Digest of the dependency sections as written (not [release], not expanded secrets)."""
    sections = {TABLES[k]: data[TABLES[k]] for k in KINDS if TABLES[k] in data}
    blob = json.dumps(sections, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


class ConfigReader(TableReader):
    """Walks release.toml; knows where each key is so errors can point at it.

    `[release]` and `[migrations]` are read here; every other table belongs to a kind,
    whose parser reads it with this reader's getters (`url`, `expand`, `name`, ...).
    """

    def __init__(self, path: Path, text: str) -> None:
        super().__init__(path, text)
        self.unset: list[str] = []

    # -- the document -----------------------------------------------------

    def config(self, data: dict[str, Any], kinds: Mapping[str, InputsParser]) -> ReleaseConfig:
        self._no_unknown(data, {"release", *(TABLES.get(k, k) for k in kinds), "migrations", "attest"}, "", None)
        release = self._table(data, "release", required=True)
        migrations = self._table(data, "migrations", required=False)
        attest = self._table(data, "attest", required=False)
        settings = self._release(release)
        inputs = {kind: found for kind, parse in kinds.items() if TABLES.get(kind, kind) in data and (found := parse(self, data)) is not None}
        gate = parse_migrations(self, migrations, self.path.parent) if migrations is not None else None
        if gate is not None and gate.database is not None:
            # Expanded only when a rehearsal runs, but its secret is known from now on: every
            # output of every command is scrubbed of it, whatever prints it.
            expanded, unset = expand_variables(gate.database)
            if not unset:
                remember_secrets(expanded)
        return ReleaseConfig(
            path=self.path,
            release=settings,
            inputs=inputs,
            migrations=gate,
            attest=parse_attest(self, attest, self.path.parent) if attest is not None else None,
            dependency_digest=dependency_digest(data),
            unset=tuple(dict.fromkeys(self.unset)),
        )

    def _release(self, t: dict[str, Any]) -> ReleaseSettings:
        where = "[release]"
        self._no_unknown(
            t, {"name", "version", "lockfile", "records", "build", "gates", "templates", "tag", "site"}, where, "release"
        )
        name = self._get(t, "name", str, where, "release")
        version = self._get(t, "version", str, where, "release")
        try:
            Version(version)
        except InvalidVersion:
            self._fail(where, "version", f"{version!r} is not a PEP 440 version", "release")
        gates = self._get(t, "gates", list, where, "release", default=[])
        return ReleaseSettings(
            name=name,
            version=version,
            lockfile=self.relative_path(t, "lockfile", "release.lock", where, "release"),
            records=self.relative_path(t, "records", "releases", where, "release"),
            build=self._argv(t.get("build", []), where, "build", "release"),
            gates=tuple(self._argv(g, where, f"gates[{i}]", "release") for i, g in enumerate(gates)),
            templates=self.relative_path(t, "templates", "", where, "release") if "templates" in t else None,
            tag=self._tag_template(t, where),
            site=self._get(t, "site", bool, where, "release", default=False),
        )

    def _tag_template(self, t: dict[str, Any], where: str) -> str:
        tag = self._get(t, "tag", str, where, "release", default="v{rc}")
        if tag.count("{rc}") != 1 or "{" in tag.replace("{rc}", "") or "}" in tag.replace("{rc}", ""):
            self._fail(where, "tag", f"{tag!r} must name the RC once as {{rc}}, e.g. \"v{{rc}}\"", "release")
        if _BAD_TAG.search(tag.replace("{rc}", "1.0rc1")):  # git check-ref-format's rules, and no leading '-'
            self._fail(where, "tag", f"{tag[:60]!r} does not make a git tag name (no leading '-' or '.', no spaces, ..)", "release")
        return tag

    # -- typed getters of release.toml's own (the generic ones: TableReader) -------------

    def relative_path(self, t: dict[str, Any], key: str, default: str, where: str, section: Any) -> str:
        value = self._get(t, key, str, where, section, default=default)
        if not value or Path(value).is_absolute() or ".." in Path(value).parts or not inside(self.path.parent, self.path.parent / value):
            self._fail(where, key, f"{value!r} must be a path inside the project", section)
        return value

    def name(self, t: dict[str, Any], where: str, section: Any) -> str:
        name = self._get(t, "name", str, where, section)
        if not _SAFE_NAME.match(name) or ".." in name:
            self._fail(where, "name", f"{name!r} must be a plain name (letters, digits, . _ -)", section)
        return name

    def url(self, url: str, where: str, key: str, section: Any) -> str:
        url = self.expand(url, where, key, section)
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES or not parts.hostname:
            self._fail(where, key, f"{strip_credentials(url)!r} is not an http(s) URL", section)
        return url

    def expand(self, url: str, where: str, key: str, section: Any) -> str:
        """Substitute `${VAR}` from the environment: how credentials reach a URL; its secret is
        remembered for scrubbing.

        An unset one stays as written (no secret: its name stays in messages), its error
        kept for `require_environment`.
        """
        unset_before = len(self.unset)

        def value(name: str) -> str | None:
            if name not in os.environ:
                self.unset.append(self._message(where, key, f"refers to ${{{name}}}, which is not set in the environment", section))
                return None
            return os.environ[name]

        expanded = expand_references(url, value)
        if len(self.unset) == unset_before:
            remember_secrets(expanded)
        return expanded

    def unique(self, items: Any) -> tuple[Any, ...]:
        seen: dict[str, Any] = {}
        for item in items:
            if item.name in seen:
                self._fail("dependencies", "name", f"{item.name!r} is used twice", None)
            seen[item.name] = item
        return tuple(seen.values())

_BAD_TAG = re.compile(r"^[-.]|/\.|\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|//|[/.]$|\.lock(/|$)|^@$")
