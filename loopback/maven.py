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

import hashlib
import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from loopback.server import LoopbackHandler, LoopbackServer

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
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


class MavenRepository(LoopbackServer[str]):
    """A Maven 2 layout repository; `requests_seen` holds 'METHOD /path' strings.

    `listing`: answer directory URLs with an HTML index (else 404). `delay`: seconds
    added to every answer. `fail_first`: the first N requests answer 503.
    `checksums`: the algorithms published, as `.sha1`-style sidecars and, with
    `checksum_headers` (as Artifactory and Maven Central do), as `X-Checksum-Sha1`-style
    headers of each file's answer. `checksum_file_names`: sidecars read `hex  name`.
    `auth`: (user, password) for HTTP Basic.
    """

    _what, _realm = "repository", "maven"

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
        super().__init__(auth=auth, delay=delay)
        self.listing = listing
        self.checksum_headers = checksum_headers
        self.algorithms = tuple(checksums)
        self.checksum_file_names = checksum_file_names
        self._files: dict[str, _Stored] = {}
        self._raw: dict[str, bytes] = {}
        self._snapshots: dict[tuple[str, str, str], _SnapshotState] = {}
        self._artifacts: dict[tuple[str, str], _ArtifactState] = {}
        if fail_first:
            self._fail("", fail_first, 503)

    @property
    def url(self) -> str:
        """The repository root, without a trailing slash, as users write it."""
        return f"{self._origin()}/maven2"

    def url_with_auth(self) -> str:
        return f"{self._origin(with_auth=True)}/maven2"

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
        pom: bytes | None = None,
    ) -> str:
        """Deploy one build's file (and its pom, `pom` if given) as `mvn deploy` does; return the timestamped version."""
        if timestamp.tzinfo is None:
            raise ValueError("timestamp must be timezone-aware")
        base_version = base_version if base_version.endswith("-SNAPSHOT") else base_version + "-SNAPSHOT"
        stamp = timestamp.astimezone(UTC).strftime("%Y%m%d.%H%M%S")
        value = f"{base_version.removesuffix('-SNAPSHOT')}-{stamp}-{build_number}"
        directory = f"{_group_path(group)}/{artifact}/{base_version}"
        updated = _updated(timestamp)
        with self._lock:
            self._put(f"{directory}/{_file(artifact, value, classifier, extension)}", content, group, artifact, value, timestamp)
            pom_path = f"{directory}/{_file(artifact, value, '', 'pom')}"
            if pom_path not in self._files or pom is not None:
                self._put(pom_path, pom, group, artifact, value, timestamp, pom=True)
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
        pom: bytes | None = None,
    ) -> None:
        """Deploy a release file and its pom (`pom`: its bytes; default a bare POM naming it);
        `last_modified` is what HTTP answers say of them."""
        moment = last_modified or datetime.now(UTC).replace(microsecond=0)
        directory = f"{_group_path(group)}/{artifact}/{version}"
        with self._lock:
            self._put(f"{directory}/{_file(artifact, version, classifier, extension)}", content, group, artifact, version, moment)
            pom_path = f"{directory}/{_file(artifact, version, '', 'pom')}"
            if pom_path not in self._files or pom is not None:
                self._put(pom_path, pom, group, artifact, version, moment, pom=True)
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

    def publish_tree(self, root: Path, *, modified: datetime | None = None) -> list[str]:
        """Serve what a real `mvn deploy` wrote under `root` (a file:// repository): every file
        not yet served, dated `modified` (default: now); its maven-metadata.xml exactly as
        Maven wrote it. Checksum files are answered from the bytes, as for every file.
        Returns the paths newly published.
        """
        moment = modified or datetime.now(UTC).replace(microsecond=0)
        added = []
        with self._lock:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                rel = path.relative_to(root).as_posix()
                if rel.rpartition(".")[2] in ALGORITHMS:
                    continue
                if path.name == METADATA:
                    self._raw[rel] = path.read_bytes()
                elif rel not in self._files:
                    content = path.read_bytes()
                    self._files[rel] = _Stored(content, moment, checksums(content))
                    added.append(rel)
        return added

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
        self._fail(path_prefix.lstrip("/"), times, status)

    # -- serving ----------------------------------------------------------

    def _seen_as(self, method: str, target: str) -> str:
        return f"{method} {target}"

    def _respond(self, request: LoopbackHandler) -> None:
        status, data, headers = self._answer(request.path)
        request.send(status, data, headers=headers)

    def _answer(self, target: str) -> tuple[int, bytes, dict[str, str]]:
        path = unquote(urlsplit(target).path)
        if not (path == "/maven2" or path.startswith("/maven2/")):
            return 404, b"not found\n", {}
        rel = path.removeprefix("/maven2").lstrip("/")
        failure = self._take_failure(rel, prefix=True)
        if failure is not None:
            return failure, b"unavailable\n", {}
        with self._lock:
            found = self._lookup(rel)
            if found is not None:
                data, modified = found
                headers = {"Content-Type": _TYPES.get(rel[rel.rfind("."):], "text/plain")}
                if self.checksum_headers and rel in self._files and rel not in self._raw:
                    for algorithm in self.algorithms:
                        headers[f"X-Checksum-{algorithm.capitalize()}"] = self._files[rel].sums[algorithm]
                if modified is not None:
                    headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
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
