"""An RC's bundle kept in an artifact store: any OCI registry (ORAS's artifact conventions).

`releaser bundle RC --push oci://HOST[:PORT]/REPO[:TAG]` pushes `dist/<rc>/bundle/` as
one OCI image manifest whose `artifactType` is `application/vnd.releaser.bundle.v1`:
an empty config, one layer per bundle file (its path in `org.opencontainers.image.title`,
as `oras` names files), annotations naming the project and the RC. The record's signed
provenance, when it has one, is attached to it as a second artifact whose `subject` is
the bundle: found through the registry's referrers API, or, on a registry without it
(distribution 2.x), through the OCI 1.1 fallback tag `sha256-<bundle digest>`, an index
of the bundle's referrers (what cosign and oras do).

`releaser reproduce RC --from-bundle oci://…` pulls it into a private folder, every
blob checked against its digest, checks the provenance's signature when a key is given,
and reproduces from that folder with no other network.
"""

from __future__ import annotations

import base64
import json
import re
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core.errors import ConfigError, Refused, UpstreamError
from releaser.plumbing.fsutil import sha256_of

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig
    from releaser.plumbing.http import Http
    from releaser.plumbing.oci import Manifest, Registry
    from releaser.plumbing.signing import Verifier

SCHEME = "oci://"
ARTIFACT_TYPE = "application/vnd.releaser.bundle.v1"
FILE_TYPE = "application/vnd.releaser.bundle.file.v1"
ATTESTATION_TYPE = "application/vnd.in-toto+json"
ENVELOPE_TYPE = "application/vnd.dsse.envelope.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
TITLE = "org.opencontainers.image.title"
RC_ANNOTATION = "org.opencontainers.image.version"
PROJECT_ANNOTATION = "org.opencontainers.image.ref.name"
_TARGET = re.compile(
    r"^oci://(?P<host>[A-Za-z0-9.-]+(?::[0-9]{1,5})?)/(?P<repo>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


@dataclass(frozen=True)
class Target:
    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}/{self.repository}" + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def is_oci(text: str | Path | None) -> bool:
    return isinstance(text, str) and text.startswith(SCHEME)


def parse_target(text: str) -> Target:
    """`oci://HOST[:PORT]/REPO[:TAG][@sha256:…]`, or ConfigError naming what is wrong."""
    found = _TARGET.match(text)
    if not found:
        raise ConfigError(f"{text[:120]!r} is not oci://HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST] (a lowercase repository)")
    return Target(found["host"], found["repo"], found["tag"], found["digest"])


@dataclass(frozen=True)
class Pushed:
    target: Target
    digest: str  # the bundle manifest's
    files: int
    attestation: str | None  # the attestation manifest's digest
    referrers: str  # "api" or "tag": how the attestation is found


def _descriptor(media_type: str, data: bytes, title: str | None = None) -> dict[str, Any]:
    from releaser.plumbing.oci import sha256_digest

    found: dict[str, Any] = {"mediaType": media_type, "digest": sha256_digest(data), "size": len(data)}
    if title is not None:
        found["annotations"] = {TITLE: title}
    return found


def _empty_config() -> dict[str, Any]:
    return {**_descriptor(EMPTY_TYPE, EMPTY), "data": base64.b64encode(EMPTY).decode("ascii")}


def _manifest(doc: dict[str, Any]) -> Manifest:
    from releaser.plumbing.oci import OCI_MANIFEST, Manifest, sha256_digest

    body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return Manifest(body, OCI_MANIFEST, sha256_digest(body))


def bundle_files(root: Path) -> list[tuple[str, Path]]:
    """Every regular file of a bundle folder, by its path in it; a symlink is refused."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            raise Refused(f"{path}: a symlink in the bundle; a bundle holds files only")
        if path.is_file():
            found.append((path.relative_to(root).as_posix(), path))
    return found


def push(
    registry: Registry, target: Target, *, rc: str, project: str, bundle: Path, provenance: bytes | None
) -> Pushed:
    """Push `bundle` (a bundle folder) and its `provenance` (jsonl, or None) to `target`."""
    from releaser.plumbing.oci import OCI_MANIFEST

    what = f"bundle {rc} to {target}"
    repo = target.repository
    layers = []
    registry.push_blob(repo, EMPTY, _descriptor(EMPTY_TYPE, EMPTY)["digest"], what=what)
    files = bundle_files(bundle)
    for name, path in files:
        digest, size = sha256_of(path)
        layers.append({"mediaType": FILE_TYPE, "digest": f"sha256:{digest}", "size": size, "annotations": {TITLE: name}})
        if not registry.has_blob(repo, f"sha256:{digest}", what=what):
            registry.push_blob(repo, path, f"sha256:{digest}", what=what)
    annotations = {RC_ANNOTATION: rc, PROJECT_ANNOTATION: project}
    manifest = _manifest({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
        "config": _empty_config(), "layers": layers, "annotations": annotations,
    })
    registry.push_manifest(repo, target.tag or rc, manifest, what=what)
    attestation, how = None, "none"
    if provenance is not None:
        envelopes = [line for line in provenance.splitlines() if line.strip()]
        for line in envelopes:
            registry.push_blob(repo, line, _descriptor(ENVELOPE_TYPE, line)["digest"], what=what)
        subject = {"mediaType": OCI_MANIFEST, "digest": manifest.digest, "size": manifest.size}
        signed = _manifest({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ATTESTATION_TYPE,
            "config": _empty_config(), "layers": [_descriptor(ENVELOPE_TYPE, line) for line in envelopes],
            "subject": subject, "annotations": annotations,
        })
        answered = registry.push_manifest(repo, signed.digest, signed, what=what)
        attestation = signed.digest
        how = "api" if answered == manifest.digest else "tag"
        if how == "tag":
            _add_to_fallback_index(registry, repo, manifest.digest, signed, what)
    return Pushed(target, manifest.digest, len(files), attestation, how)


def fallback_tag(digest: str) -> str:
    """The OCI 1.1 referrers tag schema: `sha256-<hex>`."""
    return digest.replace(":", "-")


def _add_to_fallback_index(registry: Registry, repo: str, subject: str, attestation: Manifest, what: str) -> None:
    from releaser.core.errors import UpstreamMissing
    from releaser.plumbing.oci import OCI_INDEX, OCI_MANIFEST, Manifest, sha256_digest

    try:
        index = registry.manifest(repo, fallback_tag(subject), what=what).json()
    except UpstreamMissing:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    entry = {"mediaType": OCI_MANIFEST, "digest": attestation.digest, "size": attestation.size, "artifactType": ATTESTATION_TYPE}
    kept = [m for m in index.get("manifests", []) if isinstance(m, dict) and m.get("digest") != attestation.digest]
    body = json.dumps({**index, "manifests": [*kept, entry]}, sort_keys=True, separators=(",", ":")).encode("utf-8")
    registry.push_manifest(repo, fallback_tag(subject), Manifest(body, OCI_INDEX, sha256_digest(body)), what=what)


def pull(registry: Registry, target: Target, rc: str, into: Path) -> tuple[str, bytes | None]:
    """Pull the bundle `target` names into the empty folder `into`, every blob checked against its
    digest; (the bundle manifest's digest, the attached provenance jsonl or None)."""
    what = f"the bundle {target}"
    repo = target.repository
    manifest = registry.manifest(repo, target.digest or target.tag or rc, what=what)
    doc = manifest.json()
    if doc.get("artifactType") != ARTIFACT_TYPE:
        raise UpstreamError(f"{what}: not a releaser bundle (artifactType {str(doc.get('artifactType'))[:60]!r})")
    named = (doc.get("annotations") or {}).get(RC_ANNOTATION) if isinstance(doc.get("annotations"), dict) else None
    if named != rc:
        raise Refused(f"{what} is the bundle of {str(named)[:40]!r}, not {rc}")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise UpstreamError(f"{what}: its manifest has no layers")
    for layer in layers:
        title = (layer.get("annotations") or {}).get(TITLE) if isinstance(layer, dict) else None
        digest = layer.get("digest") if isinstance(layer, dict) else None
        if not isinstance(title, str) or not isinstance(digest, str) or not _safe(title):
            raise UpstreamError(f"{what}: a layer without a safe file name ({str(title)[:60]!r})")
        dest = into / title
        dest.parent.mkdir(parents=True, exist_ok=True)
        registry.download_blob(repo, digest, dest, what=f"{what}: {title}")
    return manifest.digest, _provenance_of(registry, repo, manifest.digest, what)


def _safe(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not name.startswith("/") and all(p not in ("", ".", "..") for p in parts) and "\\" not in name and "\0" not in name


def _provenance_of(registry: Registry, repo: str, subject: str, what: str) -> bytes | None:
    """The provenance attached to `subject`: referrers API first, the fallback tag after."""
    from releaser.core.errors import UpstreamMissing

    found = registry.referrers(repo, subject, what=what)
    if found is None:
        try:
            found = registry.manifest(repo, fallback_tag(subject), what=what).json().get("manifests", [])
        except UpstreamMissing:
            return None
    for entry in found if isinstance(found, list) else []:
        if isinstance(entry, dict) and entry.get("artifactType") == ATTESTATION_TYPE and isinstance(entry.get("digest"), str):
            attestation = registry.manifest(repo, entry["digest"], what=what).json()
            lines = [registry.blob(repo, str(layer.get("digest")), what=what) for layer in attestation.get("layers", []) if isinstance(layer, dict)]
            return b"".join(line.rstrip(b"\n") + b"\n" for line in lines)
    return None


def check_provenance(config: ReleaseConfig, rc: str, pulled: bytes | None, verifier: Verifier | None) -> str | None:
    """With a key: the pulled provenance must verify (signature, the record's files, its lock); a note."""
    if verifier is None:
        return None if pulled is None else "the bundle's provenance was not checked: pass --key or set [attest] public-key"
    if pulled is None:
        raise Refused(f"the bundle of {rc} carries no signed provenance, and a key to check one was given")
    from releaser.record.verifying import verify_envelopes

    verify_envelopes(config, rc, pulled, verifier)
    return None


def registry_for(config: ReleaseConfig, http: Http, host: str) -> Registry:
    """A client for `host`, with `[containers]`'s `insecure` and `registries` credentials (docs/containers.md)."""
    from releaser.ecosystems.containers.ecosystem import ECOSYSTEM as containers
    from releaser.ecosystems.containers.resolve import Registries

    return Registries(http, containers.settings(config))(host)


def push_bundle(config: ReleaseConfig, rc: str, target: str, bundle: Path, *, http: Http | None = None) -> Pushed:
    """`releaser bundle RC --push oci://…`: `bundle` (the folder `make_bundle` wrote) and the record's provenance, pushed."""
    from releaser.plumbing.http import Http as Session
    from releaser.record import provenance, records

    parsed = parse_target(target)
    if parsed.digest is not None:
        raise ConfigError(f"{target}: push to a tag (oci://HOST/REPO[:TAG]), not a digest: the digest is what the push gives")
    record = records.read(records.records_dir(config), rc)
    signed = record.path / provenance.FILE
    data = signed.read_bytes() if signed.is_file() and not signed.is_symlink() else None
    with Session() if http is None else nullcontext(http) as session:  # a caller's session is not closed here
        return push(registry_for(config, session, parsed.host), parsed, rc=rc, project=config.release.name, bundle=bundle, provenance=data)

