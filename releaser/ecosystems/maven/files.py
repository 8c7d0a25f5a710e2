"""Downloading a Maven file and proving it is the file the repository means.

A file is streamed once into the lock's work directory while every digest Maven
repositories publish (sha512, sha256, sha1, md5) is computed. The repository's
own checksums come from where Maven Resolver takes them: the answer's headers
first (`X-Checksum-Sha1: ...` from Artifactory and Maven Central, the `{SHA1{...}}`
ETag of Nexus 2), then the `.sha512`, `.sha256`, `.sha1` sidecar files for every
algorithm the headers did not give, and `.md5` only when nothing else is
published. Every published checksum must match, or the file is refused.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from releaser.core.errors import UpstreamError
from releaser.core.redact import strip_credentials
from releaser.plumbing.http import Deadline, Http

ALGORITHMS = ("sha512", "sha256", "sha1", "md5")
SIDECARS = ("sha512", "sha256", "sha1")  # fetched when the headers lack them; md5 only as a last resort
HEX_LENGTH = {"sha512": 128, "sha256": 64, "sha1": 40, "md5": 32}
_NEXUS_ETAG = re.compile(r"\{SHA1\{([0-9a-fA-F]{40})\}\}")


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    digests: Mapping[str, str]  # algorithm -> hex, of the bytes written
    headers: Mapping[str, str]

    @property
    def sha256(self) -> str:
        return self.digests["sha256"]


def download(http: Http, url: str, dest: Path, *, what: str) -> Downloaded | None:
    """Stream `url` into `dest` on the shared session, hashing it; None when it is absent (404/410)."""
    shown = strip_credentials(url)
    deadline = Deadline(http.limits.download_deadline, url)
    response = http.request("GET", url, what=what, deadline=deadline, stream=True)
    with response:
        if response.status_code in (404, 410):
            return None
        if response.status_code >= 400:
            raise UpstreamError(f"{what}: {shown} answered HTTP {response.status_code}")
        digests = {a: hashlib.new(a, usedforsecurity=False) for a in ALGORITHMS}
        size = 0
        # `dest` is in the lock's private work directory, removed afterwards: a
        # half-written file there is never mistaken for a whole one.
        with dest.open("wb") as sink:
            for chunk in http.chunks(response, url, what=what, deadline=deadline):
                sink.write(chunk)
                size += len(chunk)
                for digest in digests.values():
                    digest.update(chunk)
        headers = {k.lower(): v for k, v in response.headers.items()}
    return Downloaded(dest, size, {a: d.hexdigest() for a, d in digests.items()}, headers)


def header_checksums(headers: Mapping[str, str]) -> dict[str, str]:
    """Checksums the answer carries: X-Checksum-<Algo> headers, or a Nexus 2 ETag."""
    found = {}
    for algorithm in ALGORITHMS:
        value = (headers.get(f"x-checksum-{algorithm}") or "").strip().lower()
        if re.fullmatch(rf"[0-9a-f]{{{HEX_LENGTH[algorithm]}}}", value):
            found[algorithm] = value
    etag = _NEXUS_ETAG.search(headers.get("etag", ""))
    if etag and "sha1" not in found:
        found["sha1"] = etag.group(1).lower()
    return found


def parse_checksum(text: str, algorithm: str, url: str) -> str:
    """The digest in a checksum file: its first token (`hex  filename` is common), else any hex word."""
    text = text.strip()
    token = text.split()[0].lower() if text else ""
    pattern = rf"[0-9a-f]{{{HEX_LENGTH[algorithm]}}}"
    if re.fullmatch(pattern, token):
        return token
    found = re.search(rf"(?<![0-9a-fA-F]){pattern}(?![0-9a-fA-F])", text, re.IGNORECASE)
    if found is None:
        raise UpstreamError(f"{strip_credentials(url)} is not a {algorithm} checksum file")
    return found.group(0).lower()


def verify(what: str, file: Downloaded, published: Mapping[str, str], url: str) -> None:
    """Every published checksum must match the bytes downloaded; else nothing is recorded."""
    for algorithm in ALGORITHMS:
        expected = published.get(algorithm)
        if expected is not None and expected != file.digests[algorithm]:
            raise UpstreamError(
                f"{what}: checksum mismatch for {url.rpartition('/')[2]}: the repository publishes {algorithm} "
                f"{expected}, the downloaded file has {file.digests[algorithm]} ({strip_credentials(url)}); "
                "refusing to record it"
            )
