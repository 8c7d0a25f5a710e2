"""An OCI distribution API client over the project's HTTP layer (`releaser.plumbing.http`).

Manifests and indexes by tag or digest (with the Accept headers that make a registry
answer with what it holds, not a down-converted schema 1), blobs to a file or to memory,
and uploads (blobs, monolithic; manifests by tag or digest). Every manifest is checked
against its digest: a registry whose bytes do not hash to the digest it names, or to the
one asked for, is an UpstreamError.

Auth as registries challenge for it: a 401 with `WWW-Authenticate: Basic` is answered
with the configured credentials; `Bearer realm=...,service=...,scope=...` with a token
asked of the realm (anonymously, or with the credentials). Tokens are kept per scope for
the life of the client. Credentials are never part of a URL that is shown.

Round trips are what a lock of many images costs, so the client makes each one once: after
the registry's first challenge, Basic credentials go with every request and a Bearer token
for a new repository is asked of the realm before the request, not after a 401; threads that
need the same token, or the same manifest or config by digest, wait for one request; and at
most `IN_FLIGHT` requests are open to one registry at a time (its connection pool's size).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import urlencode

from releaser.core.errors import UpstreamError, UpstreamMissing
from releaser.core.redact import remember_secrets, scrub
from releaser.plumbing.http import CONNECTIONS

if TYPE_CHECKING:
    import requests

    from releaser.plumbing.http import Http

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
IN_FLIGHT = CONNECTIONS  # more at once would open connections the pool then throws away
T = TypeVar("T")


@dataclass(frozen=True)
class Manifest:
    """A manifest or an index, as the registry served it: the exact bytes and their digest."""

    body: bytes
    media_type: str
    digest: str  # sha256:<hex> of `body`

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES

    @property
    def size(self) -> int:
        return len(self.body)

    def json(self) -> dict[str, Any]:
        """The parsed document; UpstreamError when it is not a JSON object."""
        from releaser.core.documents import json_document

        doc = json_document(self.body, f"manifest {self.digest}", UpstreamError)
        if not isinstance(doc, dict):
            raise UpstreamError(f"manifest {self.digest} is not a JSON object")
        return doc


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """A 401's `WWW-Authenticate` as (its scheme, lowercased; its `key="value"` parameters)."""
    return header.split(" ", 1)[0].lower(), dict(_CHALLENGE.findall(header))


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """One registry (`host[:port]`), reached over https, or plain http when `insecure`."""

    def __init__(self, http: Http, host: str, *, insecure: bool = False, login: tuple[str, str] | None = None) -> None:
        self.http, self.host = http, host
        self.base = f"{'http' if insecure else 'https'}://{host}"
        self.login = login
        if login:
            remember_secrets(f"https://{login[0]}:{login[1]}@{host}")
        self._tokens: dict[str, str] = {}  # scope -> "Bearer ..."
        self._basic: str | None = None  # "Basic ...", once the registry asked for it: good for every repository
        self._bearer: dict[str, str] | None = None  # the first Bearer challenge's realm and service
        self._guard = threading.Lock()
        self._once = _Once()  # tokens by scope, manifests and configs by digest
        self._slots = threading.BoundedSemaphore(IN_FLIGHT)

    # -- reading ----------------------------------------------------------------

    def manifest(self, repository: str, reference: str, *, what: str) -> Manifest:
        """The manifest or index `reference` (a tag or a digest) names; verified against its digest.

        UpstreamMissing when the registry has no such tag or digest; UpstreamError for any
        other failure (an HTML page instead of a manifest, a digest that does not match).
        """
        if DIGEST.fullmatch(reference):  # the same bytes however often asked: fetched once
            return self._once(("manifest", repository, reference), lambda: self._manifest(repository, reference, what))
        return self._manifest(repository, reference, what)

    def _manifest(self, repository: str, reference: str, what: str) -> Manifest:
        url = f"{self.base}/v2/{repository}/manifests/{reference}"
        response = self._send("GET", url, repository, what=what, headers={"Accept": ACCEPT})
        self._raise_for(response, url, what)
        body = response.content
        media_type = (response.headers.get("Content-Type") or "").split(";")[0].strip()
        if media_type not in (*INDEX_TYPES, *MANIFEST_TYPES):
            media_type = _declared_type(body) or media_type
        if media_type not in (*INDEX_TYPES, *MANIFEST_TYPES):
            raise UpstreamError(
                f"{what}: {url} answered {media_type or 'no content type'}, not an image manifest or index"
            )
        digest = sha256_digest(body)
        expected = reference if DIGEST.fullmatch(reference) else response.headers.get("Docker-Content-Digest")
        if expected and expected != digest:
            raise UpstreamError(f"{what}: {url} sent a manifest whose bytes hash to {digest}, not {expected}")
        return Manifest(body, media_type, digest)

    def digest_of(self, repository: str, reference: str, *, what: str) -> str | None:
        """The digest `reference` names now (a HEAD), or None when the registry no longer has it."""
        url = f"{self.base}/v2/{repository}/manifests/{reference}"
        response = self._send("HEAD", url, repository, what=what, headers={"Accept": ACCEPT})
        if response.status_code in (404, 410):
            return None
        self._raise_for(response, url, what)
        digest = response.headers.get("Docker-Content-Digest")
        if digest and DIGEST.fullmatch(digest):
            return digest
        return self.manifest(repository, reference, what=what).digest  # a registry that does not say

    def blob(self, repository: str, digest: str, *, what: str) -> bytes:
        """A small blob (an image config) in memory, verified against its digest; fetched once."""

        def fetch() -> bytes:
            url = f"{self.base}/v2/{repository}/blobs/{digest}"
            response = self._send("GET", url, repository, what=what)
            self._raise_for(response, url, what)
            if sha256_digest(response.content) != digest:
                raise UpstreamError(f"{what}: {url} sent bytes that do not hash to {digest}")
            return bytes(response.content)

        return self._once(("blob", repository, digest), fetch)

    def download_blob(self, repository: str, digest: str, dest: Path, *, what: str) -> int:
        """A blob (a layer) into `dest`, streamed and verified; its size. `dest` appears only when whole."""
        import os
        import tempfile

        from releaser.plumbing.http import Deadline

        url = f"{self.base}/v2/{repository}/blobs/{digest}"
        deadline = Deadline(self.http.limits.download_deadline, url)
        response = self._send("GET", url, repository, what=what, stream=True, deadline=deadline)
        self._raise_for(response, url, what)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            hasher, size = hashlib.sha256(), 0
            with os.fdopen(fd, "wb") as sink:
                for chunk in self.http.chunks(response, url, what=what, deadline=deadline):
                    hasher.update(chunk)
                    size += len(chunk)
                    sink.write(chunk)
            if "sha256:" + hasher.hexdigest() != digest:
                raise UpstreamError(f"{what}: {url} sent bytes that do not hash to {digest}")
            os.replace(tmp, dest)
            tmp = ""
            return size
        finally:
            if tmp:
                Path(tmp).unlink(missing_ok=True)

    # -- writing ----------------------------------------------------------------

    def has_blob(self, repository: str, digest: str, *, what: str) -> bool:
        url = f"{self.base}/v2/{repository}/blobs/{digest}"
        response = self._send("HEAD", url, repository, what=what, push=True)
        if response.status_code in (404, 410):
            return False
        self._raise_for(response, url, what)
        return True

    def push_blob(self, repository: str, data: bytes | Path, digest: str, *, what: str) -> None:
        """Upload a blob unless the registry has it (a monolithic POST then PUT)."""
        if self.has_blob(repository, digest, what=what):
            return
        start = f"{self.base}/v2/{repository}/blobs/uploads/"
        response = self._send("POST", start, repository, what=what, push=True)
        if response.status_code != 202 or "Location" not in response.headers:
            raise UpstreamError(f"{what}: {start} answered HTTP {response.status_code} to an upload")
        location = response.headers["Location"]
        if location.startswith("/"):
            location = self.base + location
        location += ("&" if "?" in location else "?") + urlencode({"digest": digest})
        headers = {"Content-Type": "application/octet-stream"}
        if isinstance(data, Path):  # a layer: streamed from its file, not read into memory
            headers["Content-Length"] = str(data.stat().st_size)
            with data.open("rb") as body:
                response = self._send("PUT", location, repository, what=what, push=True, headers=headers, data=body)
        else:
            response = self._send("PUT", location, repository, what=what, push=True, headers=headers, data=data)
        if response.status_code != 201:
            raise UpstreamError(f"{what}: {start} answered HTTP {response.status_code} to the upload of {digest}")

    def push_manifest(self, repository: str, reference: str, manifest: Manifest, *, what: str) -> str | None:
        """Put a manifest or index under `reference` (a tag, or its own digest); the `OCI-Subject`
        the registry answers with (a registry with the referrers API indexed the manifest's subject)."""
        url = f"{self.base}/v2/{repository}/manifests/{reference}"
        headers = {"Content-Type": manifest.media_type}
        response = self._send("PUT", url, repository, what=what, push=True, headers=headers, data=manifest.body)
        if response.status_code != 201:
            raise UpstreamError(f"{what}: {url} answered HTTP {response.status_code} to the manifest")
        said = response.headers.get("Docker-Content-Digest")
        if said and said != manifest.digest:
            raise UpstreamError(f"{what}: {url} stored the manifest as {said}, not {manifest.digest}")
        return response.headers.get("OCI-Subject")

    def referrers(self, repository: str, digest: str, *, what: str) -> list[dict[str, Any]] | None:
        """The referrers API's descriptors of what refers to `digest`; None on a registry without the API."""
        from releaser.core import documents

        url = f"{self.base}/v2/{repository}/referrers/{digest}"
        response = self._send("GET", url, repository, what=what, headers={"Accept": OCI_INDEX})
        if response.status_code in (404, 405) or (response.headers.get("Content-Type") or "").split(";")[0] != OCI_INDEX:
            return None
        self._raise_for(response, url, what)
        found = documents.json_document(response.content, url, UpstreamError)
        manifests = found.get("manifests") if isinstance(found, dict) else None
        return [m for m in manifests if isinstance(m, dict)] if isinstance(manifests, list) else []

    # -- the wire -----------------------------------------------------------------

    def _send(
        self, method: str, url: str, repository: str, *, what: str, headers: dict[str, str] | None = None,
        push: bool = False, stream: bool = False, data: bytes | BinaryIO | None = None, deadline: Any = None,
    ) -> requests.Response:
        scope = f"repository:{repository}:{'pull,push' if push else 'pull'}"
        headers = dict(headers or {})
        for attempt in range(2):
            sent = self._credential(scope, what)
            if sent:
                headers["Authorization"] = sent
            with self._slots:
                if data is None:
                    response = self.http.request(method, url, what=what, headers=headers, stream=stream, deadline=deadline)
                else:
                    response = self._upload(method, url, headers, data, what)
            if response.status_code != 401 or attempt:
                return response
            challenge = response.headers.get("WWW-Authenticate", "")
            response.close()
            if data is not None and not isinstance(data, bytes):
                data.seek(0)  # the body is sent again, with the credentials
            self._authorize(challenge, scope, url, what, refused=sent)
        raise AssertionError("unreachable")

    def _credential(self, scope: str, what: str) -> str | None:
        """What to send for `scope` before any 401: Basic once the registry asked for it; a Bearer token,
        asked of the realm the registry named for another repository if none is held yet."""
        if self._basic is not None:
            return self._basic
        token = self._tokens.get(scope)
        if token is not None or self._bearer is None:
            return token
        realm = self._bearer
        return self._once(("token", scope), lambda: self._tokens.get(scope) or self._token(realm, scope, what))

    def _upload(self, method: str, url: str, headers: dict[str, str], data: bytes | BinaryIO, what: str) -> requests.Response:
        """A request with a body: not retried (an upload is not idempotent), within the timeout."""
        import requests

        from releaser.plumbing.http import reason

        try:
            return self.http.session.request(
                method, url, headers=headers, data=data, timeout=(self.http.limits.timeout, self.http.limits.download_deadline)
            )
        except requests.RequestException as exc:
            raise UpstreamError(scrub(f"{what}: cannot reach {url}: {reason(exc)}")) from None

    def _authorize(self, challenge: str, scope: str, url: str, what: str, *, refused: str | None) -> None:
        """Answer a 401's challenge: Basic with the credentials, Bearer with a token from its realm.

        `refused`: what the 401 was an answer to. A thread that finds another already
        replaced it (a token that expired, asked for once) sends the new one.
        """
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if self.login is None:
                raise UpstreamError(f"{what}: {url} asks for credentials (HTTP 401) and none are configured for {self.host}")
            if refused is not None and refused == self._basic:
                return  # sent, and refused: the retry gets the same 401, which `_raise_for` words
            self._basic = self._basic_header()
            return
        if scheme != "bearer":
            raise UpstreamError(f"{what}: {url} answered HTTP 401 with no challenge releaser can answer")
        realm = params.get("realm")
        if not realm or not realm.startswith(("http://", "https://")):
            raise UpstreamError(f"{what}: {url} answered HTTP 401 with a Bearer challenge that names no realm")
        bearer = {"realm": realm, **({"service": params["service"]} if params.get("service") else {})}
        asked = params.get("scope") or scope

        def fresh() -> str:
            held = self._tokens.get(scope)
            return held if held is not None and held != refused else self._token(bearer, asked, what, keep_as=scope)

        with self._guard:
            self._bearer = self._bearer or bearer
        self._once.forget(("token", scope))  # a token the registry refused is asked for again, once
        self._once(("token", scope), fresh)

    def _token(self, bearer: dict[str, str], scope: str, what: str, *, keep_as: str | None = None) -> str:
        """A token for `scope` from the realm (with the credentials, if any), kept for `keep_as` (or `scope`)."""
        realm = bearer["realm"]
        query = {k: v for k, v in (("service", bearer.get("service")), ("scope", scope)) if v}
        token_url = realm + ("&" if "?" in realm else "?") + urlencode(query)
        headers = {}
        if self.login is not None:
            headers["Authorization"] = self._basic_header()
        with self._slots:
            response = self.http.request("GET", token_url, what=what, headers=headers)
        if response.status_code in (401, 403):
            why = "the configured credentials" if self.login else "no credentials (none are configured for this registry)"
            raise UpstreamError(f"{what}: {realm} refused a token for {scope} with {why} (HTTP {response.status_code})")
        if response.status_code >= 400:
            raise UpstreamError(f"{what}: {realm} answered HTTP {response.status_code} to a token request")
        try:
            doc = response.json()
            token = doc.get("token") or doc.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise UpstreamError(f"{what}: {realm} answered a token request without a token")
        remember_secrets(f"https://{token}@{self.host}")
        with self._guard:
            self._tokens[keep_as or scope] = f"Bearer {token}"
        return f"Bearer {token}"

    def _basic_header(self) -> str:
        """`Basic <user:password in base64>` for the configured login, remembered as a secret."""
        assert self.login is not None
        pair = base64.b64encode(f"{self.login[0]}:{self.login[1]}".encode()).decode()
        remember_secrets(f"https://{pair}@{self.host}")
        return f"Basic {pair}"

    def _raise_for(self, response: requests.Response, url: str, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status in (404, 410):
            raise UpstreamMissing(f"{what}: {url} answered HTTP {status}: no such tag, digest or repository")
        if status == 401:
            raise UpstreamError(f"{what}: {url} refused the credentials (HTTP 401)")
        raise UpstreamError(f"{what}: {url} answered HTTP {status} {scrub(response.reason or '')}".rstrip())


class _Once:
    """Values by key, each made by one call however many threads ask for it at the same time.

    A call that fails keeps nothing: the next asker tries again.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._values: dict[Hashable, Any] = {}

    def __call__(self, key: Hashable, make: Callable[[], T]) -> T:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = make()
            return self._values[key]  # type: ignore[no-any-return]

    def forget(self, key: Hashable) -> None:
        with self._guard:
            self._values.pop(key, None)


def _declared_type(body: bytes) -> str | None:
    """The mediaType a manifest declares inside itself (for a registry that sends no Content-Type)."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    value = doc.get("mediaType") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None
