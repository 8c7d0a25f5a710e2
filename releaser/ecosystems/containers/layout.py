"""Pinned images as one OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/`), and back.

`store` writes, for each image pin, its index (or single manifest), the manifest of each
pinned platform, their configs and layers, every blob verified by its digest; `index.json`
names each image by its reference (`org.opencontainers.image.ref.name`) and digest.
`copy_layout` reads one layout into another, walking from each pinned digest and
verifying every blob again; `push` puts a layout's images into a registry by digest and
tag. A blob already present and whole is kept, so a re-run fetches nothing twice.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from releaser.core.errors import Refused, UpstreamError
from releaser.core.lockfile import Pin
from releaser.ecosystems.containers.reference import parse

if TYPE_CHECKING:
    from releaser.ecosystems.containers.resolve import Registries
    from releaser.plumbing.oci import Manifest, Registry

REF_NAME = "org.opencontainers.image.ref.name"


def blob_path(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


def _whole(path: Path, digest: str) -> bool:
    from releaser.plumbing.fsutil import sha256_of

    return path.is_file() and "sha256:" + sha256_of(path)[0] == digest


def _put(layout: Path, digest: str, data: bytes) -> None:
    from releaser.plumbing.fsutil import write_atomic

    path = blob_path(layout, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def _children(manifest: Manifest, pin: Pin) -> tuple[list[str], list[dict[str, Any]]]:
    """(the platform manifests an index pins, the blobs a manifest names: config and layers)."""
    doc = manifest.json()
    if manifest.is_index:
        wanted = {"sha256:" + a.sha256 for a in pin.artifacts}
        return [m["digest"] for m in doc.get("manifests", []) if isinstance(m, dict) and m.get("digest") in wanted], []
    blobs = [doc.get("config"), *(doc.get("layers") or [])]
    if not all(isinstance(b, dict) and isinstance(b.get("digest"), str) for b in blobs):
        raise UpstreamError(f"image {pin.name}: manifest {manifest.digest} names a blob without a digest")
    return [], blobs  # type: ignore[return-value]


def store(registries: Registries, pins: tuple[Pin, ...], layout: Path) -> None:
    """Every pinned image from its registry into the layout at `layout`, verified by digest."""
    from releaser.plumbing.http import concurrently

    def one(pin: Pin) -> dict[str, Any]:
        ref = parse(pin.requested or pin.name)
        registry = registries(ref.api_host)
        return _store_image(registry, ref.repository, pin, layout)

    _write_index(layout, concurrently(one, pins))


def _store_image(registry: Registry, repository: str, pin: Pin, layout: Path) -> dict[str, Any]:
    what = f"image {pin.name}"
    top = registry.manifest(repository, pin.version, what=what)  # verified against the pinned digest
    _put(layout, top.digest, top.body)
    manifests, blobs = _children(top, pin)
    if top.is_index and len(manifests) != len(pin.artifacts):
        raise UpstreamError(f"{what}: index {top.digest} no longer names every pinned platform manifest")
    for digest in manifests:
        manifest = registry.manifest(repository, digest, what=what)
        _put(layout, manifest.digest, manifest.body)
        blobs += _children(manifest, pin)[1]
    for blob in blobs:
        path = blob_path(layout, blob["digest"])
        if not _whole(path, blob["digest"]):
            registry.download_blob(repository, blob["digest"], path, what=what)
    return {"mediaType": top.media_type, "digest": top.digest, "size": top.size, "annotations": {REF_NAME: pin.name}}


def _write_index(layout: Path, descriptors: list[dict[str, Any]]) -> None:
    from releaser.plumbing.fsutil import write_atomic

    layout.mkdir(parents=True, exist_ok=True)
    write_atomic(layout / "oci-layout", '{"imageLayoutVersion": "1.0.0"}\n')
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": sorted(descriptors, key=lambda d: d["annotations"][REF_NAME])}
    write_atomic(layout / "index.json", json.dumps(index, indent=2, sort_keys=True) + "\n")  # last: the layout is whole


def read_manifest(layout: Path, digest: str, media_type: str | None, what: str) -> Manifest:
    """A manifest from a layout, refused when its bytes are not its digest's."""
    from releaser.plumbing.oci import Manifest, _declared_type, sha256_digest

    path = blob_path(layout, digest)
    try:
        body = path.read_bytes()
    except OSError:
        raise Refused(f"{what}: {layout} has no {digest}; the bundle is incomplete") from None
    if sha256_digest(body) != digest:
        raise Refused(f"{what}: {path} does not hash to {digest}; the bundle was altered")
    return Manifest(body, media_type or _declared_type(body) or "", digest)


def copy_layout(source: Path, pins: tuple[Pin, ...], layout: Path) -> None:
    """The pinned images of the layout `source` into `layout`, every blob verified by its digest."""
    from releaser.plumbing.fsutil import sha256_of

    types = _media_types(source)
    descriptors = []
    for pin in pins:
        what = f"image {pin.name}"
        top = read_manifest(source, pin.version, types.get(pin.version), what)
        _put(layout, top.digest, top.body)
        manifests, blobs = _children(top, pin)
        for digest in manifests:
            manifest = read_manifest(source, digest, None, what)
            _put(layout, digest, manifest.body)
            blobs += _children(manifest, pin)[1]
        for blob in blobs:
            src, dest = blob_path(source, blob["digest"]), blob_path(layout, blob["digest"])
            if _whole(dest, blob["digest"]):
                continue
            if not src.is_file() or "sha256:" + sha256_of(src)[0] != blob["digest"]:
                raise Refused(f"{what}: {source} lacks blob {blob['digest']} or it does not hash to its name")
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        descriptors.append({"mediaType": top.media_type, "digest": top.digest, "size": top.size, "annotations": {REF_NAME: pin.name}})
    _write_index(layout, descriptors)


def _media_types(layout: Path) -> dict[str, str]:
    try:
        doc = json.loads((layout / "index.json").read_text(encoding="utf-8"))
        return {m["digest"]: m["mediaType"] for m in doc["manifests"]}
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        raise Refused(f"{layout}: no readable index.json; not an OCI image layout releaser wrote") from None


def push(layout: Path, pins: tuple[Pin, ...], registry: Registry) -> list[str]:
    """Each pinned image of `layout` into `registry`, under its own repository and tag; its digest unchanged."""
    types = _media_types(layout)
    pushed = []
    for pin in pins:
        ref = parse(pin.requested or pin.name)
        what = f"image {pin.name}"
        top = read_manifest(layout, pin.version, types.get(pin.version), what)
        manifests, blobs = _children(top, pin)
        children = [read_manifest(layout, d, None, what) for d in manifests]
        for child in children:
            blobs += _children(child, pin)[1]
        for blob in blobs:
            registry.push_blob(ref.repository, blob_path(layout, blob["digest"]), blob["digest"], what=what)
        for child in children:
            registry.push_manifest(ref.repository, child.digest, child, what=what)
        registry.push_manifest(ref.repository, ref.tag_or_latest if ref.digest is None else top.digest, top, what=what)
        pushed.append(f"{registry.host}/{ref.repository}:{ref.tag_or_latest}@{top.digest}")
    return pushed
