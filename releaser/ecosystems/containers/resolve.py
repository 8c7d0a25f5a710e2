"""One image reference to exact digests: its index (or single manifest), each platform's manifest and `created`.

What `lock` pins and `check --online`, `cut` and `bundle` read again. Other kinds that
name images (a workflow's `docker://` step) pin them through `Registries` and `resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.ecosystems.containers.reference import ImageRef
from releaser.ecosystems.containers.settings import ContainerInputs

if TYPE_CHECKING:
    from releaser.plumbing.http import Http
    from releaser.plumbing.oci import Manifest, Registry

KIND = "image"


@dataclass(frozen=True)
class PlatformImage:
    platform: str  # os/arch[/variant]
    digest: str  # the platform manifest's sha256:...
    size: int
    created: datetime | None  # the config's `created`


@dataclass(frozen=True)
class Resolved:
    ref: ImageRef
    source: str  # the registry's base URL (http:// for an insecure one)
    digest: str  # what the tag names: the index's digest, or the single manifest's
    platforms: tuple[PlatformImage, ...]

    @property
    def created(self) -> datetime | None:
        dates = [p.created for p in self.platforms if p.created is not None]
        return max(dates) if dates else None

    def pin(self) -> Pin:
        base = f"{self.source}/v2/{self.ref.repository}/manifests/"
        artifacts = tuple(
            Artifact(p.platform, base + p.digest, p.digest.removeprefix("sha256:"), p.size, p.created)
            for p in self.platforms
        )
        return Pin(KIND, self.ref.written, self.digest, source=self.source, requested=self.ref.written,
                   date=self.created, artifacts=artifacts)


class Registries:
    """One `Registry` client per host (its tokens kept), with release.toml's `insecure` and credentials."""

    def __init__(self, http: Http, inputs: ContainerInputs | None) -> None:
        import threading

        self.http, self.inputs = http, inputs or ContainerInputs()
        self._clients: dict[str, Registry] = {}
        self._guard = threading.Lock()

    def base(self, host: str) -> str:
        return registry_base(self.inputs, host)

    def __call__(self, host: str) -> Registry:
        from releaser.plumbing.oci import Registry

        with self._guard:
            if host not in self._clients:
                login = self.inputs.login_for(host) or _netrc(self.base(host))
                self._clients[host] = Registry(self.http, host, insecure=host in self.inputs.insecure, login=login)
            return self._clients[host]


def registry_base(inputs: ContainerInputs, host: str) -> str:
    """The registry's base URL: plain http for a host release.toml lists as `insecure`."""
    return f"{'http' if host in inputs.insecure else 'https'}://{host}"


def _netrc(url: str) -> tuple[str, str] | None:
    """`~/.netrc`'s login for the registry, as requests would find it for any other URL."""
    from requests.utils import get_netrc_auth

    found = get_netrc_auth(url)
    return (found[0], found[1]) if found else None


def resolve(registries: Registries, ref: ImageRef, wanted: tuple[str, ...], *, reference: str | None = None) -> Resolved:
    """`ref` (or `reference`: a digest it once named) to its digest and each wanted platform's image.

    `wanted` empty: every platform the index offers. A wanted platform the index lacks is
    a ConfigError (the fix is in release.toml or the Dockerfile).
    """
    registry = registries(ref.api_host)
    what = f"image {ref.written}"
    top = registry.manifest(ref.repository, reference or ref.digest or ref.tag_or_latest, what=what)
    if not top.is_index:
        config = _config(registry, ref, top, what)
        platform = _platform_of(config)
        if wanted and platform not in wanted:
            raise ConfigError(f"{what}: is a single image for {platform}, not for {', '.join(wanted)} ([containers] platforms)")
        chosen = (PlatformImage(platform, top.digest, top.size, _created(config, what)),)
        return Resolved(ref, registries.base(ref.api_host), top.digest, chosen)
    offered = _index_entries(top, what)
    missing = [p for p in wanted if p not in offered]
    if missing:
        raise ConfigError(
            f"{what}: its index {top.digest} offers {', '.join(sorted(offered)) or 'no platform'}, "
            f"not {', '.join(missing)} ([containers] platforms or FROM --platform)"
        )
    names = list(wanted) if wanted else sorted(offered)

    def one(platform: str) -> PlatformImage:
        digest = offered[platform]
        manifest = registry.manifest(ref.repository, digest, what=f"{what} ({platform})")
        if manifest.is_index:
            raise UpstreamError(f"{what}: its {platform} entry {digest} is an index, not an image manifest")
        config = _config(registry, ref, manifest, f"{what} ({platform})")
        return PlatformImage(platform, digest, manifest.size, _created(config, what))

    from releaser.plumbing.http import concurrently

    return Resolved(ref, registries.base(ref.api_host), top.digest, tuple(concurrently(one, names)))


def _index_entries(index: Manifest, what: str) -> dict[str, str]:
    """platform -> manifest digest of an index; attestations (`unknown/unknown`) left out."""
    from releaser.plumbing.oci import DIGEST

    entries = index.json().get("manifests")
    if not isinstance(entries, list):
        raise UpstreamError(f"{what}: index {index.digest} has no manifests list")
    found: dict[str, str] = {}
    for entry in entries:
        platform = entry.get("platform") if isinstance(entry, dict) else None
        digest = entry.get("digest") if isinstance(entry, dict) else None
        if not isinstance(platform, dict) or not isinstance(digest, str) or not DIGEST.fullmatch(digest):
            continue
        name = _platform_of(platform)
        if name != "unknown/unknown":
            found.setdefault(name, digest)
    return found


def _platform_of(doc: dict[str, Any]) -> str:
    parts = [str(doc.get("os", "unknown")), str(doc.get("architecture", "unknown"))]
    if doc.get("variant"):
        parts.append(str(doc["variant"]))
    return "/".join(parts)


def _config(registry: Registry, ref: ImageRef, manifest: Manifest, what: str) -> dict[str, Any]:
    from releaser.plumbing.oci import DIGEST

    descriptor = manifest.json().get("config")
    digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise UpstreamError(f"{what}: manifest {manifest.digest} names no config blob")
    from releaser.core.documents import json_document

    doc = json_document(registry.blob(ref.repository, digest, what=what), f"{what}: config {digest}", UpstreamError)
    if not isinstance(doc, dict):
        raise UpstreamError(f"{what}: config {digest} is not a JSON object")
    return doc


def _created(config: dict[str, Any], what: str) -> datetime | None:
    text = config.get("created")
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:  # nanoseconds, as Go writes them: keep the microseconds
            head, _, tail = text.rstrip("Z").partition(".")
            moment = datetime.fromisoformat(f"{head}.{tail[:6]}+00:00")
        except ValueError:
            raise UpstreamError(f"{what}: its config's created {text[:40]!r} is not a time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
