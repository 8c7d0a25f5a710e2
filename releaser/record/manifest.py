"""What a record says about its RC: manifest.json, MANIFEST.md and the tag's message.

`manifest.json` (schema 1, docs/records.md), a `Manifest`, is deterministic JSON: the RC, the
commit, the lock's digests, every pin with its files, every built file, the
build and gate commands (scrubbed) and who built it. `MANIFEST.md` is rendered
from it with the Jinja2 template `MANIFEST.md.j2`: the project's own, in
`[release] templates`, or releaser's. Writing them down is `releaser.record.records`'s.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from releaser import __version__
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.escaping import markdown_text, template_environment
from releaser.core.kinds import KINDS
from releaser.core.lockfile import Lock, Pin
from releaser.core.redact import scrub, shown_command
from releaser.lock.sbom import SBOM_NAME
from releaser.record import records

TEMPLATE = "MANIFEST.md.j2"


def kind_titles() -> dict[str, str]:
    """Each kind's heading in a record, by kind (`Ecosystem.title`)."""
    from releaser.ecosystems import ecosystem

    return {kind: ecosystem(kind).title for kind in KINDS}


@dataclass(frozen=True)
class Subject:
    """What a record is about: an RC, the commit that was built, the lock it was built on."""

    config: ReleaseConfig
    rc: str
    commit: str
    tag: str | None
    lock: Lock
    lock_bytes: bytes
    migrations: dict[str, Any] | None = None  # the migration gate's record, with [migrations]


class JsonPart(Protocol):
    """A part of the record a later stage makes (the rehearsal), which says itself as JSON."""

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class BuiltFile:
    """A file the build wrote under dist/<rc>/."""

    name: str  # relative to dist/<rc>/, posix
    sha256: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class Builder:
    """Who built the RC: the interpreter, the machine, releaser, and what made the lock."""

    python: str
    implementation: str
    platform: str
    releaser: str
    resolver: str
    locked_by: str  # the releaser that wrote the lock

    @classmethod
    def here(cls, lock: Lock) -> Builder:
        return cls(
            platform.python_version(), platform.python_implementation(), sysconfig.get_platform(),
            __version__, lock.resolver, lock.releaser,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "python": self.python, "implementation": self.implementation, "platform": self.platform,
            "releaser": self.releaser, "resolver": self.resolver, "locked_by": self.locked_by,
        }


@dataclass(frozen=True)
class Manifest:
    """manifest.json, schema 1 (docs/records.md): what one RC is made of, as `cut` records it."""

    rc: str
    name: str
    version: str
    commit: str
    tag: str | None
    cut_at: datetime
    as_of: datetime
    lock_digest: str  # of the lock's bytes, as copied into the record
    lock_content_digest: str
    pins: tuple[Pin, ...]
    built: tuple[BuiltFile, ...]
    build: tuple[str, ...]  # as release.toml has it: {dist} and {rc} not filled in
    gates: tuple[tuple[str, ...], ...]
    builder: Builder
    migrations: Mapping[str, Any] | None = None  # the migration gate's record, with [migrations]
    dist: str | None = None  # where the build wrote, relative to the project (what `{dist}` stood for)
    sbom_sha256: str | None = None  # of the record's sbom.cdx.json
    rehearsal: JsonPart | None = None  # the rehearsal's figures, or why none ran

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schema": records.SCHEMA,
            "rc": self.rc,
            "name": self.name,
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "cut_at": iso(self.cut_at),
            "as_of": iso(self.as_of),
            "lock_digest": self.lock_digest,
            "lock_content_digest": self.lock_content_digest,
            "pins": [pin_entry(p) for p in sorted(self.pins, key=lambda p: (KINDS.index(p.kind), p.name.lower(), p.version))],
            "built": [f.to_json() for f in self.built],
            "build": [scrub(a) for a in self.build],
            "gates": [[scrub(a) for a in gate] for gate in self.gates],
            "builder": self.builder.to_json(),
        }
        if self.migrations is not None:
            document["migrations"] = dict(self.migrations)
        if self.dist is not None:
            document["dist"] = self.dist
        if self.sbom_sha256 is not None:
            document["sbom"] = {"file": SBOM_NAME, "format": "CycloneDX 1.6 JSON", "sha256": self.sbom_sha256}
        if self.rehearsal is not None:
            document["rehearsal"] = self.rehearsal.to_json()
        return document

    def dump(self) -> bytes:
        """Deterministic JSON: sorted keys, two-space indent, a final newline."""
        return (json.dumps(self.to_json(), sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def make_manifest(
    plan: Subject, built: Sequence[BuiltFile], *, sbom: bytes | None = None, dist: str | None = None,
    rehearsal: JsonPart | None = None,
) -> Manifest:
    """The manifest of `plan`'s RC, cut now; `sbom`: the record's sbom.cdx.json, named with its
    digest; `dist`: where the build wrote, relative to the project (what `{dist}` stood for)."""
    config, lock = plan.config, plan.lock
    return Manifest(
        rc=plan.rc,
        name=config.release.name,
        version=config.release.version,
        commit=plan.commit,
        tag=plan.tag,
        cut_at=datetime.now(UTC).replace(microsecond=0),
        as_of=lock.as_of,
        lock_digest=records.lock_digest(plan.lock_bytes),
        lock_content_digest=lock.content_digest,
        pins=tuple(lock.pins),
        built=tuple(built),
        build=config.release.build,
        gates=config.release.gates,
        builder=Builder.here(lock),
        migrations=plan.migrations,
        dist=dist,
        sbom_sha256="sha256:" + hashlib.sha256(sbom).hexdigest() if sbom is not None else None,
        rehearsal=rehearsal,
    )


def render_markdown(config: ReleaseConfig, manifest: Mapping[str, Any]) -> str:
    """MANIFEST.md from `MANIFEST.md.j2` (the project's `[release] templates` folder or releaser's
    own), given manifest.json's document (`Manifest.to_json`)."""
    import jinja2

    folder, text = template_source(config)
    loader = jinja2.FileSystemLoader(str(folder)) if folder is not None else jinja2.DictLoader({TEMPLATE: text or ""})
    # Every value is escaped as Markdown text unless a filter writes it for the page (`code`).
    env = template_environment("markdown", loader=loader)
    env.filters["short"] = _short
    env.filters["cell"] = markdown_text
    env.filters["shell"] = lambda argv: shown_step(argv, manifest)
    pins_by_kind: dict[str, list[dict[str, Any]]] = {}
    for pin in manifest["pins"]:
        pins_by_kind.setdefault(pin["kind"], []).append(pin)
    try:
        page = env.get_template(TEMPLATE).render(manifest=manifest, pins_by_kind=pins_by_kind, kinds=kind_titles())
    except jinja2.TemplateError as exc:
        where = f"{folder / TEMPLATE}" if folder is not None else TEMPLATE
        raise ConfigError(f"{where}: {type(exc).__name__}: {exc}") from None
    page = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in page.splitlines())).strip("\n")
    return page + "\n"


def template_source(config: ReleaseConfig) -> tuple[Path | None, str | None]:
    """(the project's template folder, None) or (None, releaser's own template text)."""
    if config.release.templates is not None:
        folder = config.root / config.release.templates
        if not (folder / TEMPLATE).is_file():
            raise ConfigError(f"{config.path}: [release] templates: {folder} has no {TEMPLATE}")
        return folder, None
    return None, default_template()


def default_template(name: str = TEMPLATE) -> str:
    """releaser's own template `name`: packaged as `releaser.templates` in a wheel, `templates/` in a checkout."""
    from importlib import resources

    try:
        packaged = resources.files("releaser.templates") / name
        if packaged.is_file():
            return packaged.read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    checkout = Path(__file__).resolve().parent.parent.parent / "templates" / name
    try:
        return checkout.read_text(encoding="utf-8")
    except OSError:
        raise UpstreamError(f"releaser's {name} is missing from its installation; reinstall releaser") from None


def tag_message(plan: Subject, manifest: dict[str, Any]) -> str:
    return (
        f"Release candidate {plan.rc} of {plan.config.release.name}\n\n"
        f"Built from {plan.commit}\n"
        f"Lock {manifest['lock_digest']} (as of {manifest['as_of']})\n"
        f"Record {plan.config.release.records}/{plan.rc}/\n"
    )


def pin_entry(pin: Pin) -> dict[str, Any]:
    """A pin as manifest.json records it."""
    scope = {"scope": pin.scope} if pin.scope is not None else {}  # a Maven pin's scope
    marker = {"marker": pin.marker} if pin.marker else {}  # a Python pin needed on only some targets
    return {
        **scope,
        **marker,
        "kind": pin.kind,
        "name": pin.name,
        "version": pin.version,
        "requested": pin.requested,
        "source": pin.source,
        "date": iso(pin.date),
        "artifacts": [
            {
                "name": a.name,
                "url": a.url,
                "sha256": a.sha256,
                "size": a.size,
                "date": iso(a.date),
                "upstream": dict(sorted(a.upstream)),
            }
            for a in sorted(pin.artifacts, key=lambda a: (a.name, a.url))
        ],
    }


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def shown_step(argv: Sequence[str], manifest: Mapping[str, Any]) -> str:
    """A recorded build or gate command as it ran, pasteable in the project root: quoted,
    `{rc}` and `{dist}` filled in (`{dist}` relative, as `dist` in the manifest says)."""
    fill = {"{rc}": manifest["rc"], **({"{dist}": manifest["dist"]} if manifest.get("dist") else {})}
    filled = []
    for arg in argv:
        for placeholder, value in fill.items():
            arg = arg.replace(placeholder, value)
        filled.append(arg)
    return shown_command(filled)


def _short(value: Any, n: int = 12) -> str:
    text = str(value or "")
    return text if len(text) <= n else text[:n] + "…"

