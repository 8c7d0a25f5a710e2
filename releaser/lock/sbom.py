"""`releaser export --format cyclonedx`: every pin of the lock as a CycloneDX 1.6 JSON SBOM.

Built with cyclonedx-python-lib (imported here, lazily: `releaser check` never
pays for it) and written from release.lock alone, deterministically: the same
lock (and RC) gives the same bytes. So the serial number is derived from the
lock's content digest and the BOM's timestamp is the lock's as-of, not the
time of the export. `cut` writes one into every record as `sbom.cdx.json`.

Per pin, one component (docs/sbom.md):
- a package URL: `pkg:pypi/NAME@VERSION`, `pkg:maven/GROUP/ARTIFACT@VERSION`
  (a SNAPSHOT as its timestamped build), `pkg:generic/NAME@COMMIT?vcs_url=...` for
  git, `pkg:generic/NAME@SHA256?download_url=...` for a URL artifact;
- every file as a `distribution` external reference with its URL and SHA-256 (and
  the repository's own checksum, e.g. a Maven sha1), the file's hashes on the
  component itself when it has exactly one file;
- properties `releaser:date`, `releaser:requested`, `releaser:source`, `releaser:kind`.
The BOM's metadata names the project (its RC when the SBOM is a record's), the
as-of (`releaser:as-of`) and the lock's content digest.
"""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import TYPE_CHECKING, Any

from releaser import __version__
from releaser.core.kinds import KINDS
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems import ecosystem

if TYPE_CHECKING:
    from datetime import datetime

    from cyclonedx.model.bom import Bom

SBOM_NAME = "sbom.cdx.json"
_NAMESPACE = uuid.UUID("8f0f5a3e-6a56-4d7e-9b2a-0d6f7c2e1c17")  # releaser's own: serials are uuid5 of the lock
_UPSTREAM_HASHES = {"sha1": "SHA-1", "md5": "MD5", "sha512": "SHA-512"}


def to_cyclonedx(lock: Lock, *, name: str, version: str, rc: str | None = None) -> str:
    """The SBOM as JSON text (CycloneDX 1.6), ending in a newline."""
    from cyclonedx.output.json import JsonV1Dot6

    return JsonV1Dot6(build_bom(lock, name=name, version=version, rc=rc)).output_as_string(indent=2) + "\n"


def build_bom(lock: Lock, *, name: str, version: str, rc: str | None = None) -> Bom:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.dependency import Dependency
    from cyclonedx.model.tool import ToolRepository

    root = Component(
        name=name,
        version=rc or version,
        type=ComponentType.APPLICATION,
        bom_ref=f"{name}@{rc or version}",
    )
    pins = sorted(lock.pins, key=lambda p: (KINDS.index(p.kind), p.name.lower(), p.version))
    components = [_component(pin) for pin in pins]
    properties = [
        Property(name="releaser:as-of", value=_iso(lock.as_of)),
        Property(name="releaser:lock-content-digest", value=lock.content_digest),
        Property(name="releaser:resolver", value=lock.resolver),
    ]
    if rc:
        properties.append(Property(name="releaser:rc", value=rc))
    metadata = BomMetaData(
        tools=ToolRepository(
            components=[Component(name="releaser", version=__version__, type=ComponentType.APPLICATION)]
        ),
        component=root,
        timestamp=lock.as_of,
        properties=properties,
    )
    serial = uuid.uuid5(_NAMESPACE, f"{lock.content_digest} {name} {rc or version}")
    bom = Bom(components=components, metadata=metadata, serial_number=serial)
    # The lock records what the inputs ask for, not the whole graph: the project
    # depends on its requested pins; the rest are listed, reached through them.
    requested = [c.bom_ref for pin, c in zip(pins, components) if pin.requested is not None]
    bom.dependencies.add(Dependency(ref=root.bom_ref, dependencies=[Dependency(ref=r) for r in requested]))
    for component in components:
        bom.dependencies.add(Dependency(ref=component.bom_ref))
    return bom


def purl_of(pin: Pin) -> Any:
    """The package URL of a pin (a `packageurl.PackageURL`), as its kind writes it."""
    return ecosystem(pin.kind).purl(pin)


def _component(pin: Pin) -> Any:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Commit, Component, ComponentType, Pedigree

    purl = purl_of(pin)
    files = sorted(pin.artifacts, key=lambda a: (a.name, a.url))
    properties = [Property(name="releaser:kind", value=pin.kind), Property(name="releaser:source", value=pin.source)]
    if pin.date is not None:
        properties.append(Property(name="releaser:date", value=_iso(pin.date)))
    if pin.requested is not None:
        properties.append(Property(name="releaser:requested", value=pin.requested))
    commit = ecosystem(pin.kind).commit(pin)
    group = ecosystem(pin.kind).sbom_group(pin)
    return Component(
        name=purl.name,
        group=group,
        version=pin.version,
        type=ComponentType.LIBRARY,
        bom_ref=purl.to_string(),
        purl=purl,
        hashes=_hashes(files[0]) if len(files) == 1 else None,
        external_references=[_distribution(a) for a in files] or None,
        pedigree=Pedigree(commits=[Commit(uid=commit)]) if commit else None,
        properties=properties,
    )


def _distribution(artifact: Artifact) -> Any:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri

    return ExternalReference(
        type=ExternalReferenceType.DISTRIBUTION,
        url=XsUri(artifact.url),
        comment=artifact.name,
        hashes=_hashes(artifact),
    )


def _hashes(artifact: Artifact) -> list[Any]:
    from cyclonedx.model import HashAlgorithm, HashType

    found = [HashType(alg=HashAlgorithm.SHA_256, content=artifact.sha256)]
    for algo, value in artifact.upstream:
        if algo in _UPSTREAM_HASHES:
            found.append(HashType(alg=HashAlgorithm(_UPSTREAM_HASHES[algo]), content=value))
    return found


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
