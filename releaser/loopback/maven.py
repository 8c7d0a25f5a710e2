"""A real HTTP Maven repository on 127.0.0.1.

Tests, the demo and the benchmark need a repository that behaves like Maven
Central, Nexus or Artifactory where releaser cares: the Maven 2 layout,
maven-metadata.xml written as Maven's deploy writes it (snapshot metadata in the
model 1.1.0 form with `<snapshotVersions>`, or the older `<snapshot>`-only form),
`.md5`/`.sha1`/`.sha256`/`.sha512` checksum sidecars, Last-Modified headers,
HTML directory listings (or none, as many proxies do), HTTP Basic
authentication, and the faults a real one has: slow answers, 5xx bursts,
tampered files, hostile metadata.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit

ALGORITHMS = ("md5", "sha1", "sha256", "sha512")
METADATA = "maven-metadata.xml"
_TYPES = {".jar": "application/java-archive", ".pom": "text/xml", ".xml": "text/xml"}


@dataclass
class _Stored:
    data: bytes
    modified: datetime
    sums: dict[str, str]  # what the sidecars say; tamper() changes data, not these


@dataclass
class _SnapshotState:
    legacy: bool = False
    timestamp: str = ""  # yyyyMMdd.HHmmss of the last deployed build
    build_number: int = 0
    last_updated: str = ""  # yyyyMMddHHmmss
    entries: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (cls, ext) -> (value, updated)


@dataclass
class _ArtifactState:
    versions: list[str] = field(default_factory=list)
    latest: str = ""
    release: str = ""
    last_updated: str = ""


def checksums(data: bytes) -> dict[str, str]:
    return {algorithm: hashlib.new(algorithm, data).hexdigest() for algorithm in ALGORITHMS}


def _updated(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


class MavenRepository:
    """A Maven 2 layout repository serving from a daemon thread; use as a context manager.

    `listing`: answer directory URLs with an HTML index (else 404). `delay`: seconds
    added to every answer. `fail_first`: the first N requests answer 503.
    `checksums`: the algorithms published, as `.sha1`-style sidecars and, with
    `checksum_headers` (as Artifactory and Maven Central do), as `X-Checksum-Sha1`-style
    headers of each file's answer. `checksum_file_names`: sidecars read `hex  name`.
    `auth`: (user, password) for HTTP Basic.
    """

    def __init__(
        self,
        *,
        listing: bool = True,
        delay: float = 0.0,
        fail_first: int = 0,
        auth: tuple[str, str] | None = None,
        checksums: tuple[str, ...] = ALGORITHMS,
        checksum_file_names: bool = False,
        checksum_headers: bool = True,
    ) -> None:
        self.listing, self.delay, self.auth = listing, delay, auth
        self.checksum_headers = checksum_headers
        self.algorithms = tuple(checksums)
        self.checksum_file_names = checksum_file_names
        self._lock = threading.Lock()
        self._files: dict[str, _Stored] = {}
        self._raw: dict[str, bytes] = {}
        self._snapshots: dict[tuple[str, str, str], _SnapshotState] = {}
        self._artifacts: dict[tuple[str, str], _ArtifactState] = {}
        self._failures: list[list] = [["", fail_first, 503]] if fail_first else []
        self._seen: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------

    def start(self) -> MavenRepository:
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()  # type: ignore[union-attr]
            self._server = self._thread = None

    def __enter__(self) -> MavenRepository:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The repository root, without a trailing slash, as users write it."""
        return f"http://{self._netloc()}/maven2"

    def url_with_auth(self) -> str:
        if self.auth is None:
            return self.url
        user, password = (quote(part, safe="") for part in self.auth)
        return f"http://{user}:{password}@{self._netloc()}/maven2"

    def _netloc(self) -> str:
        if self._server is None:
            raise RuntimeError("the repository is not started")
        return f"127.0.0.1:{self._server.server_address[1]}"

    # -- publishing -------------------------------------------------------

    def deploy_snapshot(
        self,
        group: str,
        artifact: str,
        base_version: str,
        timestamp: datetime,
        build_number: int,
        *,
        extension: str = "jar",
        classifier: str = "",
        legacy_metadata: bool = False,
        content: bytes | None = None,
    ) -> str:
        """Deploy one build's file (and its pom) as `mvn deploy` does; return the timestamped version."""
        if timestamp.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        base_version = base_version if base_version.endswith("-SNAPSHOT") else base_version + "-SNAPSHOT"
        stamp = timestamp.astimezone(timezone.utc).strftime("%Y%m%d.%H%M%S")
        value = f"{base_version.removesuffix('-SNAPSHOT')}-{stamp}-{build_number}"
        directory = f"{_group_path(group)}/{artifact}/{base_version}"
        updated = _updated(timestamp)
        with self._lock:
            self._put(f"{directory}/{_file(artifact, value, classifier, extension)}", content, group, artifact, value, timestamp)
            pom = f"{directory}/{_file(artifact, value, '', 'pom')}"
            if pom not in self._files:
                self._put(pom, None, group, artifact, value, timestamp, pom=True)
            state = self._snapshots.setdefault((group, artifact, base_version), _SnapshotState())
            state.legacy = legacy_metadata
            state.timestamp, state.build_number, state.last_updated = stamp, build_number, updated
            state.entries[(classifier, extension)] = (value, updated)
            state.entries[("", "pom")] = (value, updated)
            self._versions(group, artifact, base_version, updated, release=False)
        return value

    def deploy_release(
        self,
        group: str,
        artifact: str,
        version: str,
        *,
        last_modified: datetime | None = None,
        content: bytes | None = None,
        extension: str = "jar",
        classifier: str = "",
        in_metadata: bool = True,
    ) -> None:
        """Deploy a release file and its pom; `last_modified` is what HTTP answers say of them."""
        moment = last_modified or datetime.now(timezone.utc).replace(microsecond=0)
        directory = f"{_group_path(group)}/{artifact}/{version}"
        with self._lock:
            self._put(f"{directory}/{_file(artifact, version, classifier, extension)}", content, group, artifact, version, moment)
            pom = f"{directory}/{_file(artifact, version, '', 'pom')}"
            if pom not in self._files:
                self._put(pom, None, group, artifact, version, moment, pom=True)
            if in_metadata:
                self._versions(group, artifact, version, _updated(moment), release=True)

    def _put(
        self, path: str, content: bytes | None, group: str, artifact: str, version: str, moment: datetime, *, pom: bool = False
    ) -> None:
        if content is None:
            if pom:
                content = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">\n'
                    f"  <modelVersion>4.0.0</modelVersion>\n  <groupId>{group}</groupId>\n"
                    f"  <artifactId>{artifact}</artifactId>\n  <version>{version}</version>\n</project>\n"
                ).encode()
            else:
                content = f"{path}\n".encode()
        self._files[path] = _Stored(content, moment, checksums(content))

    def _versions(self, group: str, artifact: str, version: str, updated: str, *, release: bool) -> None:
        state = self._artifacts.setdefault((group, artifact), _ArtifactState())
        if version not in state.versions:
            state.versions.append(version)
        state.latest = version
        if release:
            state.release = version
        state.last_updated = max(state.last_updated, updated)

    # -- faults -----------------------------------------------------------

    def tamper(self, path_suffix: str, new_bytes: bytes) -> str:
        """Replace one file's bytes, keeping the checksum sidecars it was deployed with."""
        with self._lock:
            matches = [p for p in self._files if p.endswith(path_suffix)]
            if len(matches) != 1:
                raise KeyError(f"{path_suffix!r} matches {len(matches)} files")
            self._files[matches[0]].data = new_bytes
            return matches[0]

    def remove(self, path_suffix: str) -> None:
        """Delete every file whose path ends with `path_suffix` (and so its sidecars)."""
        with self._lock:
            for path in [p for p in self._files if p.endswith(path_suffix)]:
                del self._files[path]

    def set_raw(self, path: str, data: bytes) -> None:
        """Serve exactly `data` at `path` (relative to the root), over anything generated."""
        with self._lock:
            self._raw[path.lstrip("/")] = data

    def fail_next(self, path_prefix: str, times: int, status: int = 503) -> None:
        """The next `times` requests for paths starting with `path_prefix` answer `status`."""
        with self._lock:
            self._failures.append([path_prefix.lstrip("/"), times, status])

    @property
    def requests_seen(self) -> list[str]:
        """Every request as 'METHOD /path', in order."""
        with self._lock:
            return list(self._seen)

    # -- serving ----------------------------------------------------------

    def _answer(self, method: str, raw_path: str) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self._seen.append(f"{method} {raw_path}")
        if self.delay:
            time.sleep(self.delay)
        path = unquote(urlsplit(raw_path).path)
        if not (path == "/maven2" or path.startswith("/maven2/")):
            return 404, b"not found\n", {}
        rel = path.removeprefix("/maven2").lstrip("/")
        with self._lock:
            for failure in self._failures:
                if failure[1] > 0 and rel.startswith(failure[0]):
                    failure[1] -= 1
                    return failure[2], b"unavailable\n", {}
            found = self._lookup(rel)
            if found is not None:
                data, modified = found
                headers = {"Content-Type": _TYPES.get(rel[rel.rfind("."):], "text/plain")}
                if self.checksum_headers and rel in self._files and rel not in self._raw:
                    for algorithm in self.algorithms:
                        headers[f"X-Checksum-{algorithm.capitalize()}"] = self._files[rel].sums[algorithm]
                if modified is not None:
                    headers["Last-Modified"] = format_datetime(modified.astimezone(timezone.utc), usegmt=True)
                return 200, data, headers
            children = self._children(rel.rstrip("/"))
        if children and self.listing:
            if not path.endswith("/"):
                return 301, b"", {"Location": path + "/"}
            return 200, _listing(rel, children), {"Content-Type": "text/html; charset=utf-8"}
        return 404, b"not found\n", {}

    def _lookup(self, rel: str) -> tuple[bytes, datetime | None] | None:
        """The bytes at `rel`: a raw override, a file, generated metadata or a sidecar."""
        if rel in self._raw:
            return self._raw[rel], None
        if rel in self._files:
            return self._files[rel].data, self._files[rel].modified
        metadata = self._metadata(rel)
        if metadata is not None:
            return metadata, None
        stem, _, algorithm = rel.rpartition(".")
        if algorithm in self.algorithms and stem:
            if stem in self._files:
                digest = self._files[stem].sums[algorithm]
            else:
                base = self._raw.get(stem) or self._metadata(stem)
                if base is None:
                    return None
                digest = hashlib.new(algorithm, base).hexdigest()
            name = stem.rpartition("/")[2]
            return (f"{digest}  {name}\n" if self.checksum_file_names else f"{digest}\n").encode(), None
        return None

    def _metadata(self, rel: str) -> bytes | None:
        directory, _, name = rel.rpartition("/")
        if name != METADATA:
            return None
        for (group, artifact, version), state in self._snapshots.items():
            if directory == f"{_group_path(group)}/{artifact}/{version}":
                return _snapshot_xml(group, artifact, version, state)
        for (group, artifact), state in self._artifacts.items():
            if directory == f"{_group_path(group)}/{artifact}":
                return _artifact_xml(group, artifact, state)
        return None

    def _children(self, rel: str) -> list[str]:
        """Names directly under directory `rel` ('' is the root), directories with a '/'."""
        paths = set(self._files) | set(self._raw)
        for path in list(self._files):
            paths.update(f"{path}.{a}" for a in self.algorithms)
        for group, artifact, version in self._snapshots:
            paths.add(f"{_group_path(group)}/{artifact}/{version}/{METADATA}")
        for group, artifact in self._artifacts:
            paths.add(f"{_group_path(group)}/{artifact}/{METADATA}")
        prefix = f"{rel}/" if rel else ""
        names = set()
        for path in paths:
            if path.startswith(prefix):
                head, slash, _ = path[len(prefix):].partition("/")
                names.add(head + slash)
        return sorted(names)


def _group_path(group: str) -> str:
    return group.replace(".", "/")


def _file(artifact: str, version: str, classifier: str, extension: str) -> str:
    return f"{artifact}-{version}{'-' + classifier if classifier else ''}.{extension}"


def _snapshot_xml(group: str, artifact: str, version: str, state: _SnapshotState) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<metadata>" if state.legacy else '<metadata modelVersion="1.1.0">',
        f"  <groupId>{group}</groupId>",
        f"  <artifactId>{artifact}</artifactId>",
        f"  <version>{version}</version>",
        "  <versioning>",
        "    <snapshot>",
        f"      <timestamp>{state.timestamp}</timestamp>",
        f"      <buildNumber>{state.build_number}</buildNumber>",
        "    </snapshot>",
        f"    <lastUpdated>{state.last_updated}</lastUpdated>",
    ]
    if not state.legacy:
        lines.append("    <snapshotVersions>")
        for (classifier, extension), (value, updated) in sorted(state.entries.items()):
            lines.append("      <snapshotVersion>")
            if classifier:
                lines.append(f"        <classifier>{classifier}</classifier>")
            lines += [
                f"        <extension>{extension}</extension>",
                f"        <value>{value}</value>",
                f"        <updated>{updated}</updated>",
                "      </snapshotVersion>",
            ]
        lines.append("    </snapshotVersions>")
    lines += ["  </versioning>", "</metadata>", ""]
    return "\n".join(lines).encode()


def _artifact_xml(group: str, artifact: str, state: _ArtifactState) -> bytes:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<metadata>",
        f"  <groupId>{group}</groupId>",
        f"  <artifactId>{artifact}</artifactId>",
        "  <versioning>",
        f"    <latest>{state.latest}</latest>",
    ]
    if state.release:
        lines.append(f"    <release>{state.release}</release>")
    lines.append("    <versions>")
    lines += [f"      <version>{v}</version>" for v in state.versions]
    lines += ["    </versions>", f"    <lastUpdated>{state.last_updated}</lastUpdated>", "  </versioning>", "</metadata>", ""]
    return "\n".join(lines).encode()


def _listing(rel: str, children: list[str]) -> bytes:
    title = html.escape(f"Index of /maven2/{rel}")
    anchors = "".join(f'<a href="{quote(name)}">{html.escape(name)}</a>\n' for name in ["../", *children])
    return f"<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n<pre>{anchors}</pre></body></html>\n".encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the benchmark opens ~100 connections at once

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], repo: MavenRepository):
        super().__init__(address, handler)
        self.repo = repo

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is normal (a stopped download): stay quiet."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stalls
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: test output is for test results."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        repo = self.server.repo
        if not self._authorized(repo.auth):
            with repo._lock:
                repo._seen.append(f"{self.command} {self.path}")
            return self._reply(401, b"unauthorized\n", {"WWW-Authenticate": 'Basic realm="maven"'}, body)
        status, data, headers = repo._answer(self.command, self.path)
        self._reply(status, data, headers, body)

    def _authorized(self, auth: tuple[str, str] | None) -> bool:
        if auth is None:
            return True
        expected = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        return hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode())

    def _reply(self, status: int, data: bytes, headers: dict[str, str], body: bool) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/plain", **headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)
