"""release.toml: load, validate every key, and give typed inputs to the sources.

Every problem is a `ConfigError` naming the file, the key and, where it can be
found, the line. Nothing here touches the network or writes a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from packaging.version import InvalidVersion, Version

from releaser.core import documents
from releaser.core.attest_config import AttestSettings
from releaser.core.attest_config import parse as parse_attest
from releaser.core.container_config import ContainerInputs
from releaser.core.container_config import parse as parse_containers
from releaser.core.errors import ConfigError
from releaser.core.maven_coordinate import MavenCoordinate
from releaser.core.migration_config import MigrationSettings
from releaser.core.migration_config import parse as parse_migrations
from releaser.core.paths import inside
from releaser.core.redact import expand_references, remember_secrets, strip_credentials
from releaser.core.tomlreader import TableReader

CONFIG_NAME = "release.toml"
DEFAULT_INDEX = "https://pypi.org/simple"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
_URL_SCHEMES = ("http", "https")
MAVEN_SCOPES = ("compile", "runtime", "provided", "test")  # system: a file on disk, not in a repository


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


@dataclass(frozen=True)
class PythonInputs:
    requirements: tuple[Path, ...]
    pyproject: bool
    index_url: str
    extra_index_urls: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()  # [project.optional-dependencies] of pyproject.toml to lock too
    groups: tuple[str, ...] = ()  # PEP 735 [dependency-groups] of pyproject.toml to lock too
    allow_local: bool = False  # `pkg @ git+file://...` direct references may name a local repository
    resolver: str = "pip-tools"  # or "uv" (releaser.ecosystems.python.resolve)
    environments: tuple[str, ...] = ()  # targets, as markers (releaser.core.targets); uv only

    @property
    def index_urls(self) -> tuple[str, ...]:
        """Every index, in the order pip consults them; may carry credentials."""
        return (self.index_url, *self.extra_index_urls)


@dataclass(frozen=True)
class MavenInputs:
    repository: str
    dependencies: tuple[MavenCoordinate, ...]
    pom: Path | None = None  # a Maven project whose dependencies (and its modules') are inputs
    scopes: tuple[str, ...] = ("compile", "runtime")  # of the project's dependencies, pinned


@dataclass(frozen=True)
class GitInput:
    name: str
    url: str
    ref: str


@dataclass(frozen=True)
class UrlInput:
    name: str
    url: str
    sha256: str | None = None


@dataclass(frozen=True)
class ReleaseConfig:
    path: Path
    release: ReleaseSettings
    python: PythonInputs | None = None
    maven: tuple[MavenInputs, ...] = ()
    git: tuple[GitInput, ...] = ()
    artifacts: tuple[UrlInput, ...] = ()
    migrations: MigrationSettings | None = None  # [migrations]: not a dependency, not in the digest
    containers: ContainerInputs | None = None  # [containers]: the images of Dockerfiles and compose files
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

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def lockfile(self) -> Path:
        return self.root / self.release.lockfile


def load(path: Path) -> ReleaseConfig:
    """Read and validate `path`; raise ConfigError for anything wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: not found; releaser reads its inputs from {CONFIG_NAME} at the project root "
            "(found from the current folder upwards, or -C DIR); write one with: releaser init"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    return parse(text, path)


def parse(text: str, path: Path) -> ReleaseConfig:
    """Validate `text` as the release.toml at `path` (files it names are looked up beside `path`)."""
    data = documents.toml(text, path)
    return _Parser(path, text).config(data)


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
    sections = {k: data[k] for k in ("python", "maven", "git", "artifact", "containers") if k in data}
    blob = json.dumps(sections, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


class _Parser(TableReader):
    """Walks release.toml; knows where each key is so errors can point at it."""

    def __init__(self, path: Path, text: str) -> None:
        super().__init__(path, text)
        self.unset: list[str] = []

    # -- the document -----------------------------------------------------

    def config(self, data: dict[str, Any]) -> ReleaseConfig:
        self._no_unknown(data, {"release", "python", "maven", "git", "artifact", "migrations", "containers", "attest"}, "", None)
        release = self._table(data, "release", required=True)
        python = self._table(data, "python", required=False)
        migrations = self._table(data, "migrations", required=False)
        containers = self._table(data, "containers", required=False)
        attest = self._table(data, "attest", required=False)
        settings = parse_migrations(self, migrations, self.path.parent) if migrations is not None else None
        if settings is not None and settings.database is not None:
            # Expanded only when a rehearsal runs, but its secret is known from now on: every
            # output of every command is scrubbed of it, whatever prints it.
            expanded, unset = expand_variables(settings.database)
            if not unset:
                remember_secrets(expanded)
        return ReleaseConfig(
            path=self.path,
            release=self._release(release),
            python=self._python(python) if python is not None else None,
            maven=tuple(self._maven(t, i) for i, t in enumerate(self._array(data, "maven"))),
            git=self._unique(self._git(t, i) for i, t in enumerate(self._array(data, "git"))),
            artifacts=self._unique(
                self._artifact(t, i) for i, t in enumerate(self._array(data, "artifact"))
            ),
            migrations=settings,
            containers=parse_containers(self, containers, self.path.parent) if containers is not None else None,
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
            lockfile=self._relative_path(t, "lockfile", "release.lock", where, "release"),
            records=self._relative_path(t, "records", "releases", where, "release"),
            build=self._argv(t.get("build", []), where, "build", "release"),
            gates=tuple(self._argv(g, where, f"gates[{i}]", "release") for i, g in enumerate(gates)),
            templates=self._relative_path(t, "templates", "", where, "release") if "templates" in t else None,
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

    def _python(self, t: dict[str, Any]) -> PythonInputs:
        where = "[python]"
        keys = {"requirements", "pyproject", "index-url", "extra-index-urls", "extras", "groups", "allow-local", "resolver", "environments"}
        self._no_unknown(t, keys, where, "python")
        reqs = self._strings(t, "requirements", where, "python")
        pyproject = self._get(t, "pyproject", bool, where, "python", default=False)
        extras, groups = (tuple(self._strings(t, key, where, "python")) for key in ("extras", "groups"))
        if not reqs and not pyproject and not extras and not groups:
            self._fail(where, "requirements", "names no requirements: set requirements = [...] or pyproject = true", "python")
        for key, names in (("extras", extras), ("groups", groups)):
            if names and not (self.path.parent / "pyproject.toml").is_file():
                self._fail(where, key, "are read from pyproject.toml, but there is none beside release.toml", "python")
        paths = []
        for req in reqs:
            p = self.path.parent / req
            if not inside(self.path.parent, p):
                self._fail(where, "requirements", f"{req[:60]!r} leads outside the project; refused", "python")
            if not p.is_file():
                self._fail(where, "requirements", f"{req} does not exist", "python")
            paths.append(p)
        if pyproject and not (self.path.parent / "pyproject.toml").is_file():
            self._fail(where, "pyproject", "is true but there is no pyproject.toml beside release.toml", "python")
        index = self._url(self._get(t, "index-url", str, where, "python", default=DEFAULT_INDEX), where, "index-url", "python")
        extra_urls = tuple(self._url(u, where, "extra-index-urls", "python") for u in self._strings(t, "extra-index-urls", where, "python"))
        local = self._get(t, "allow-local", bool, where, "python", default=False)
        resolver, environments = self._targets(t, where)
        return PythonInputs(tuple(paths), pyproject, index, extra_urls, extras, groups, local, resolver, environments)

    def _targets(self, t: dict[str, Any], where: str) -> tuple[str, tuple[str, ...]]:
        """[python] resolver and environments (each a target marker, normalized)."""
        from releaser.core import targets

        resolver = self._get(t, "resolver", str, where, "python", default="pip-tools")
        if resolver not in ("pip-tools", "uv"):
            self._fail(where, "resolver", f"{resolver!r} is not a resolver (expected \"pip-tools\" or \"uv\")", "python")
        try:
            listed = self._strings(t, "environments", where, "python") if "environments" in t else None
            return resolver, targets.configured(listed, resolver)
        except ValueError as exc:
            self._fail(where, "environments", str(exc), "python")
            raise  # unreachable: _fail raises

    def _maven(self, t: dict[str, Any], i: int) -> MavenInputs:
        where = f"[[maven]] #{i + 1}"
        self._no_unknown(t, {"repository", "dependencies", "pom", "scopes"}, where, "maven", i)
        repo = self._url(self._get(t, "repository", str, where, ("maven", i)), where, "repository", ("maven", i))
        pom = self._relative_path(t, "pom", "", where, ("maven", i)) if "pom" in t else None
        if pom is not None and not (self.path.parent / pom).is_file():
            self._fail(where, "pom", f"{pom} does not exist", ("maven", i))
        scopes = tuple(self._strings(t, "scopes", where, ("maven", i))) or ("compile", "runtime")
        if "scopes" in t and pom is None:
            self._fail(where, "scopes", "applies to a Maven project's dependencies: set pom = \"path/pom.xml\"", ("maven", i))
        for scope in scopes:
            if scope not in MAVEN_SCOPES:
                self._fail(where, "scopes", f"{scope!r} is not one of {', '.join(MAVEN_SCOPES)}", ("maven", i))
        coords = []
        for text in self._strings(t, "dependencies", where, ("maven", i)):
            try:
                coords.append(MavenCoordinate.parse(text))
            except ValueError as exc:
                self._fail(where, "dependencies", str(exc), ("maven", i))
        return MavenInputs(repo, tuple(coords), self.path.parent / pom if pom else None, scopes)

    def _git(self, t: dict[str, Any], i: int) -> GitInput:
        where = f"[[git]] #{i + 1}"
        self._no_unknown(t, {"name", "url", "ref", "allow-local"}, where, "git", i)
        name = self._name(t, where, ("git", i))
        url = self._expand(self._get(t, "url", str, where, ("git", i)), where, "url", ("git", i))
        local = self._get(t, "allow-local", bool, where, ("git", i), default=False)
        kind = git_url_kind(url)
        if kind == "helper" or (kind == "local" and not local):
            self._fail(
                where, "url", f"{strip_credentials(url)[:80]!r}: " + (
                    "a git remote helper (`X::`) runs a command of the input's choosing; refused"
                    if kind == "helper" else "a local repository (file:// or a path) is refused unless allow-local = true"
                ), ("git", i),
            )
        ref = self._get(t, "ref", str, where, ("git", i))
        if not ref.strip() or ref.startswith("-"):
            self._fail(where, "ref", f"{ref!r} is not a branch, tag or commit", ("git", i))
        return GitInput(name, url, ref)

    def _artifact(self, t: dict[str, Any], i: int) -> UrlInput:
        where = f"[[artifact]] #{i + 1}"
        self._no_unknown(t, {"name", "url", "sha256"}, where, "artifact", i)
        name = self._name(t, where, ("artifact", i))
        url = self._url(self._get(t, "url", str, where, ("artifact", i)), where, "url", ("artifact", i))
        sha = self._get(t, "sha256", str, where, ("artifact", i), default=None)
        if sha is not None and not re.fullmatch(r"[0-9a-f]{64}", sha):
            self._fail(where, "sha256", "must be 64 lowercase hex digits", ("artifact", i))
        return UrlInput(name, url, sha)

    # -- typed getters of release.toml's own (the generic ones: TableReader) -------------

    def _relative_path(self, t: dict[str, Any], key: str, default: str, where: str, section: Any) -> str:
        value = self._get(t, key, str, where, section, default=default)
        if not value or Path(value).is_absolute() or ".." in Path(value).parts or not inside(self.path.parent, self.path.parent / value):
            self._fail(where, key, f"{value!r} must be a path inside the project", section)
        return value

    def _name(self, t: dict[str, Any], where: str, section: Any) -> str:
        name = self._get(t, "name", str, where, section)
        if not _SAFE_NAME.match(name) or ".." in name:
            self._fail(where, "name", f"{name!r} must be a plain name (letters, digits, . _ -)", section)
        return name

    def _url(self, url: str, where: str, key: str, section: Any) -> str:
        url = self._expand(url, where, key, section)
        parts = urlsplit(url)
        if parts.scheme not in _URL_SCHEMES or not parts.hostname:
            self._fail(where, key, f"{strip_credentials(url)!r} is not an http(s) URL", section)
        return url

    def _expand(self, url: str, where: str, key: str, section: Any) -> str:
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

    def _unique(self, items: Any) -> tuple[Any, ...]:
        seen: dict[str, Any] = {}
        for item in items:
            if item.name in seen:
                self._fail("dependencies", "name", f"{item.name!r} is used twice", None)
            seen[item.name] = item
        return tuple(seen.values())

_BAD_TAG = re.compile(r"^[-.]|/\.|\.\.|[\x00-\x20\x7f~^:?*\[\\]|@\{|//|[/.]$|\.lock(/|$)|^@$")


def git_url_kind(url: str) -> str:
    """'remote' (http(s), ssh, git, scp-like user@host:path), 'local' (file://, a path) or 'helper' (ext::...)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*::", url):
        return "helper"
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("http", "https", "ssh", "git", "git+ssh", "ssh+git"):
        return "remote"
    if not scheme and re.match(r"^[^/:]+:", url) and not url.startswith("."):
        return "remote"  # scp-like: [user@]host:path
    return "local"
