"""What a record says about its RC: manifest.json, MANIFEST.md and the tag's message.

`manifest.json` (schema 1, docs/records.md) is deterministic JSON: the RC, the
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
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from releaser import __version__
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import KINDS, Lock, Pin
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


def make_manifest(
    plan: Subject, built: list[dict[str, Any]], sbom: bytes | None = None, dist: str | None = None
) -> dict[str, Any]:
    """manifest.json, schema 1 (docs/records.md); `sbom`: the record's sbom.cdx.json, named with its
    digest; `dist`: where the build wrote, relative to the project (what `{dist}` stood for)."""
    config, lock = plan.config, plan.lock
    manifest = {
        "schema": records.SCHEMA,
        "rc": plan.rc,
        "name": config.release.name,
        "version": config.release.version,
        "commit": plan.commit,
        "tag": plan.tag,
        "cut_at": iso(datetime.now(timezone.utc).replace(microsecond=0)),
        "as_of": iso(lock.as_of),
        "lock_digest": records.lock_digest(plan.lock_bytes),
        "lock_content_digest": lock.content_digest,
        "pins": [_pin(p) for p in sorted(lock.pins, key=lambda p: (KINDS.index(p.kind), p.name.lower(), p.version))],
        "built": built,
        "build": [scrub(a) for a in config.release.build],
        "gates": [[scrub(a) for a in gate] for gate in config.release.gates],
        "builder": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": sysconfig.get_platform(),
            "releaser": __version__,
            "resolver": lock.resolver,
            "locked_by": lock.releaser,
        },
    }
    if plan.migrations is not None:
        manifest["migrations"] = plan.migrations
    if dist is not None:
        manifest["dist"] = dist
    if sbom is not None:
        manifest["sbom"] = {"file": SBOM_NAME, "format": "CycloneDX 1.6 JSON", "sha256": "sha256:" + hashlib.sha256(sbom).hexdigest()}
    return manifest


def dump_manifest(manifest: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, two-space indent, a final newline."""
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def render_markdown(config: ReleaseConfig, manifest: dict[str, Any]) -> str:
    """MANIFEST.md from `MANIFEST.md.j2`: the project's `[release] templates` folder or releaser's own."""
    import jinja2

    folder, text = template_source(config)
    loader = jinja2.FileSystemLoader(str(folder)) if folder is not None else jinja2.DictLoader({TEMPLATE: text or ""})
    env = jinja2.Environment(
        loader=loader,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["short"] = _short
    env.filters["cell"] = _cell
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


def _pin(pin: Pin) -> dict[str, Any]:
    scope = {"scope": pin.scope} if pin.scope is not None else {}  # a Maven pin's scope
    return {
        **scope,
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
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def shown_step(argv: list[str], manifest: dict[str, Any]) -> str:
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


def _cell(value: Any) -> str:
    return str(value if value is not None else "").replace("|", "\\|").replace("\n", " ")
