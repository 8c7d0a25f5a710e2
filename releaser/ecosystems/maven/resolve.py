"""How Maven coordinates resolve: metadata, versions, files, checksums, over HTTP.

The machinery behind `MavenSource.lock`, kept apart from the source itself so that
reading release.toml (as `releaser check` does, offline) never imports an HTTP or
XML library.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TypeVar, cast

import requests
from requests.adapters import HTTPAdapter

from releaser.core.errors import UpstreamError, UpstreamMissing
from releaser.core.lockfile import Artifact, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import LockRequest
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.files import (
    ALGORITHMS,
    SIDECARS,
    Downloaded,
    download,
    header_checksums,
    parse_checksum,
    verify,
)
from releaser.ecosystems.maven.metadata import (
    BUILD,
    METADATA,
    ArtifactMetadata,
    artifact_metadata,
    build_time,
    listed_builds,
    listing_names,
    safe_name,
    snapshot_metadata,
)
from releaser.ecosystems.maven.version import VersionRange, newest_first
from releaser.plumbing.http import Http

T = TypeVar("T")
R = TypeVar("R")

# Each coordinate fetches its file and pom (and any sidecars) at once, on a helper
# pool as large as the Http pool: twice as many connections per repository.
FAN_OUT = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Found:
    """Where one coordinate resolved: repository, exact version, its directory, its date."""

    repository: str
    version: str  # exact: 2.1.0 or 1.0-20071115.230503-12
    directory: str  # the version directory: 2.1.0 or 1.0-SNAPSHOT
    date: datetime | None
    fallback_date: datetime | None = None  # metadata lastUpdated, when Last-Modified is absent


class Resolver:
    def __init__(self, repositories: tuple[str, ...], request: LockRequest, helper: Executor) -> None:
        self.repositories = repositories
        self.request = request
        self.http: Http = request.http
        self.helper = helper

    # -- one coordinate ---------------------------------------------------

    def pin(self, coord: MavenCoordinate, previous: Pin | None, workdir: Path, prefix: str, requested: str | None = None) -> Pin:
        """`coord` pinned; `requested` is what the lock records as asked for (default: its version)."""
        requested = coord.version if requested is None else requested
        if previous is not None and self._keep(coord, previous, requested):
            return previous
        return self._fetch(coord, self.resolve(coord), workdir, prefix, requested)

    def resolve(self, coord: MavenCoordinate) -> Found:
        """The exact version `coord` means now (or as of the cut-off), without fetching it."""
        version = coord.version
        if version.endswith("-SNAPSHOT"):
            return self._snapshot(coord, version)
        if BUILD.match(version):
            return self._exact(coord, version, BUILD.match(version)["base"] + "-SNAPSHOT")  # type: ignore[index]
        if VersionRange.is_range(version):
            return self._release_from(coord, self._metadata(coord), VersionRange.parse(version).newest)
        if version in ("LATEST", "RELEASE"):
            return self._latest_or_release(coord, version)
        return self._exact(coord, version, version)

    def _keep(self, coord: MavenCoordinate, pin: Pin, requested: str) -> bool:
        """Keep an earlier pin while it answers upstream and what is asked for is unchanged."""
        request = self.request
        if request.upgrade_all or pin.name in request.upgrade or pin.requested != requested:
            return False
        if request.dated and (pin.date is None or pin.date >= request.as_of):
            return False
        repository = next((r for r in self.repositories if strip_credentials(r) == pin.source), None)
        if repository is None or not pin.artifacts:
            return False
        match = BUILD.match(pin.version)
        directory = match["base"] + "-SNAPSHOT" if match else pin.version
        return self._probe(coord, self._url(repository, coord, directory, _file_name(coord, pin.version)))[0]

    # -- snapshots --------------------------------------------------------

    def _snapshot(self, coord: MavenCoordinate, directory: str) -> Found:
        """The build of `directory` (x-SNAPSHOT) Maven would use, or the newest at the cut-off."""
        urls = [self._url(r, coord, directory, METADATA) for r in self.repositories]
        documents = self._map(lambda url: self._get_xml(coord, url, snapshot_metadata), urls)
        base = directory.removesuffix("-SNAPSHOT")
        choices: list[tuple[datetime, int, str, str]] = []
        for index, (repository, url, meta) in enumerate(zip(self.repositories, urls, documents)):
            if meta is None:
                continue
            build = meta.build_for(directory, coord.classifier, coord.extension)
            if build is None:
                continue
            value, updated = build
            match = BUILD.match(value)
            if not match or match["base"] != base:
                raise UpstreamError(f"{coord}: {strip_credentials(url)} names build {value!r}, which is not a build of {directory}")
            built = build_time(value)
            if self.request.dated:
                if built is not None and built >= self.request.as_of:
                    older = self._older_build(coord, repository, directory, value)
                    if older is None:
                        continue
                    value, built = older, build_time(older)
                choices.append((built, -index, repository, value))  # type: ignore[arg-type]
            else:
                choices.append((updated or built or _EPOCH, -index, repository, value))
        if not choices:
            if all(d is None for d in documents):
                raise UpstreamMissing(f"{coord}: no repository has {directory} (no {METADATA} at {self._tried(urls)})")
            when = f" before {self._cutoff()}" if self.request.dated else ""
            raise UpstreamError(f"{coord}: no build of {directory} for this file{when} in {self._tried(urls)}")
        _, _, repository, value = max(choices)
        return Found(repository, value, directory, build_time(value))

    def _older_build(self, coord: MavenCoordinate, repository: str, directory: str, newest: str) -> str | None:
        """The newest build before the cut-off, found in the version directory's listing."""
        url = self._url(repository, coord, directory, "")
        response = self._session_get(coord, url, "GET")
        names = listing_names(response.text) if response is not None and response.status_code == 200 else None
        if names is None:
            raise UpstreamError(
                f"{coord}: the newest build in {strip_credentials(repository)}, {newest}, is not before "
                f"--as-of {self._cutoff()}, and {strip_credentials(url)} gives no directory listing to find "
                "an older build; refusing to pin a newer one"
            )
        builds = listed_builds(names, coord.artifact, directory, coord.classifier, coord.extension)
        dated = [(when, int(v.rpartition("-")[2]), v) for v in builds if (when := build_time(v)) and when < self.request.as_of]
        return max(dated)[2] if dated else None

    # -- releases ---------------------------------------------------------

    def _metadata(self, coord: MavenCoordinate) -> list[tuple[str, ArtifactMetadata]]:
        urls = [self._url(r, coord, None, METADATA) for r in self.repositories]
        documents = self._map(lambda url: self._get_xml(coord, url, artifact_metadata), urls)
        found = [(r, d) for r, d in zip(self.repositories, documents) if d is not None]
        if not found:
            raise UpstreamMissing(f"{coord}: no repository knows {coord.group}:{coord.artifact} (no {METADATA} at {self._tried(urls)})")
        return found

    def _latest_or_release(self, coord: MavenCoordinate, keyword: str) -> Found:
        metadata = self._metadata(coord)
        releases_only = keyword == "RELEASE"
        if self.request.dated:
            # As of a past time, the newest release whose file is dated before it.
            return self._release_from(coord, metadata, lambda vs: newest_first(vs, releases_only=True))
        # As Maven does: the metadata updated last says what LATEST or RELEASE is.
        newest = max(enumerate(metadata), key=lambda x: (x[1][1].last_updated or _EPOCH, -x[0]))[1][1]
        named = newest.release if releases_only else newest.latest
        version = named or next(iter(newest_first(list(newest.versions), releases_only=releases_only)), None)
        if version is None:
            raise UpstreamError(f"{coord}: the repositories' {METADATA} names no {keyword.lower()} version")
        if version.endswith("-SNAPSHOT"):
            if releases_only:
                raise UpstreamError(f"{coord}: the repository names SNAPSHOT {version} as its RELEASE")
            return self._snapshot(coord, version)
        return self._release_from(coord, metadata, lambda vs: [version])

    def _release_from(
        self, coord: MavenCoordinate, metadata: list[tuple[str, ArtifactMetadata]], order: Callable[[list[str]], list[str]]
    ) -> Found:
        """The first version `order` gives whose file is there (dated before the cut-off, if dated)."""
        versions = list(dict.fromkeys(v for _, meta in metadata for v in meta.versions))
        for version in order(versions):
            holders = [(r, m) for r, m in metadata if version in m.versions] or metadata
            tried = []
            for repository, meta in holders:
                url = self._url(repository, coord, version, _file_name(coord, version))
                tried.append(url)
                exists, modified = self._probe(coord, url)
                if not exists:
                    continue
                found = Found(repository, version, version, modified, meta.last_updated)
                if not self.request.dated:
                    return found
                if modified is None:
                    raise UpstreamError(
                        f"{coord}: {strip_credentials(url)} gives no Last-Modified date, so whether {version} "
                        f"existed at --as-of {self._cutoff()} cannot be established"
                    )
                if modified < self.request.as_of:
                    return found
            if not self.request.dated:
                raise UpstreamError(f"{coord}: {version} is listed in {METADATA} but missing at {self._tried(tried)}")
        when = f" dated before {self._cutoff()}" if self.request.dated else ""
        raise UpstreamError(
            f"{coord}: no release{when} matches {coord.version} among the {len(versions)} versions of "
            f"{self._tried([r for r, _ in metadata])}"
        )

    def _exact(self, coord: MavenCoordinate, version: str, directory: str) -> Found:
        """An exact version: the first repository that has the file."""
        urls = []
        for repository in self.repositories:
            url = self._url(repository, coord, directory, _file_name(coord, version))
            urls.append(url)
            exists, modified = self._probe(coord, url)
            if not exists:
                continue
            date = build_time(version) if BUILD.match(version) else modified
            fallback = None
            if date is None:
                meta = self._get_xml(coord, self._url(repository, coord, None, METADATA), artifact_metadata)
                fallback = meta.last_updated if meta else None
            found = Found(repository, version, directory, date, fallback)
            if self.request.dated:
                moment = found.date or found.fallback_date
                if moment is None:
                    raise UpstreamError(f"{coord}: {strip_credentials(url)} gives no date, so a dated lock cannot place it")
                if moment >= self.request.as_of:
                    raise UpstreamError(
                        f"{coord}: {version} was published at {_iso(moment)}, not before --as-of {self._cutoff()}"
                    )
            return found
        raise UpstreamMissing(f"{coord}: not found in any repository (tried {self._tried(urls)})")

    # -- downloading and verifying ---------------------------------------

    def _fetch(self, coord: MavenCoordinate, found: Found, workdir: Path, prefix: str, requested: str) -> Pin:
        """Download the file and its pom, verify them, and make the pin."""
        names = list(dict.fromkeys([_file_name(coord, found.version), f"{coord.artifact}-{found.version}.pom"]))
        urls = {name: self._url(found.repository, coord, found.directory, name) for name in names}
        what = str(coord)

        def get(name: str) -> Downloaded:
            file = download(self.http, urls[name], workdir / (prefix + name), what=what)
            if file is None:
                raise UpstreamMissing(f"{coord}: {strip_credentials(urls[name])} is missing (HTTP 404)")
            return file

        files = dict(zip(names, self._map(get, names)))
        # The repository's checksums: headers first, then sidecars for what they lack.
        published = {name: header_checksums(files[name].headers) for name in names}
        wanted = [(name, a) for name in names for a in SIDECARS if a not in published[name]]
        for (name, algorithm), value in zip(wanted, self._map(lambda t: self._sidecar(coord, urls[t[0]], t[1]), wanted)):
            if value is not None:
                published[name][algorithm] = value
        for name in names:
            if not published[name]:
                md5 = self._sidecar(coord, urls[name], "md5")
                if md5 is not None:
                    published[name]["md5"] = md5
        artifacts = []
        for name in names:
            verify(what, files[name], published[name], urls[name])
            upstream = next((((a, published[name][a]),) for a in ("sha1", *ALGORITHMS) if a in published[name]), ())
            artifacts.append(Artifact(name, strip_credentials(urls[name]), files[name].sha256, files[name].size, upstream=upstream))
        date = found.date or found.fallback_date
        if date is None and not BUILD.match(found.version):
            date = _last_modified(files[names[0]].headers)
        return Pin(
            kind="maven",
            name=coord.key,
            version=found.version,
            source=strip_credentials(found.repository),
            requested=requested,
            date=date,
            artifacts=tuple(artifacts),
        )

    def _sidecar(self, coord: MavenCoordinate, url: str, algorithm: str) -> str | None:
        """The digest a `.sha1`-style file next to `url` publishes, or None when there is none."""
        response = self.http.get(f"{url}.{algorithm}", what=str(coord), ok_missing=True)
        if response is None:
            return None
        try:
            return parse_checksum(response.content[:4096].decode("ascii", "replace"), algorithm, f"{url}.{algorithm}")
        except UpstreamError as exc:
            raise UpstreamError(f"{coord}: {exc}") from None

    # -- HTTP -------------------------------------------------------------

    def _url(self, repository: str, coord: MavenCoordinate, directory: str | None, name: str) -> str:
        parts = [repository, coord.group.replace(".", "/"), coord.artifact]
        if directory is not None:
            parts.append(safe_name(directory, repository))
        if name:
            parts.append(safe_name(name, repository))
        return "/".join(parts) + ("" if name else "/")

    def _get_xml(self, coord: MavenCoordinate, url: str, parse: Callable[[bytes, str], T]) -> T | None:
        response = self.http.get(url, what=str(coord), accept="application/xml, text/xml", ok_missing=True)
        if response is None:
            return None
        try:
            return parse(response.content, url)
        except UpstreamError as exc:
            raise UpstreamError(f"{coord}: {exc}") from None

    def _probe(self, coord: MavenCoordinate, url: str) -> tuple[bool, datetime | None]:
        """HEAD `url`: (is it there, its Last-Modified if given)."""
        response = self._session_get(coord, url, "HEAD")
        if response is None or response.status_code in (404, 410):
            return False, None
        if response.status_code >= 400:
            raise UpstreamError(f"{coord}: {strip_credentials(url)} answered HTTP {response.status_code}")
        return True, _last_modified(response.headers)

    def _session_get(self, coord: MavenCoordinate, url: str, method: str) -> requests.Response | None:
        """A request on the shared session whose 4xx the caller interprets (no listing, absent)."""
        response = self.http.request(method, url, what=str(coord))  # a listing: size-capped, within the deadline
        if response.status_code >= 500:
            raise UpstreamError(f"{coord}: {strip_credentials(url)} answered HTTP {response.status_code}")
        if response.status_code in (401, 403, 404, 405, 410):
            return None if method == "GET" else response
        return response

    def _map(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        """`fn` over one coordinate's items at once: the first here, the rest on the helper pool.

        Helper tasks never submit tasks themselves, so the pool cannot deadlock. With
        a one-worker Http (the sequential baseline) everything runs here, in order.
        """
        if len(items) <= 1 or self.http.workers <= 1:
            return [fn(item) for item in items]
        futures = [self.helper.submit(fn, item) for item in items[1:]]
        try:
            first = fn(items[0])
            return [first, *(f.result() for f in futures)]
        finally:
            for future in futures:
                future.cancel()

    def _tried(self, urls: list[str]) -> str:
        return ", ".join(strip_credentials(u) for u in urls)

    def _cutoff(self) -> str:
        return _iso(self.request.as_of)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _file_name(coord: MavenCoordinate, version: str) -> str:
    return f"{coord.artifact}-{version}{'-' + coord.classifier if coord.classifier else ''}.{coord.extension}"


def _last_modified(headers: Mapping[str, str]) -> datetime | None:
    stamp = headers.get("last-modified")  # a requests answer's headers, or Downloaded's lower-cased ones
    try:
        moment = parsedate_to_datetime(stamp) if stamp else None
    except (TypeError, ValueError):
        return None
    # `-0000` parses naive; RFC 9110 dates are GMT, and naive ones cannot be compared with --as-of.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def widen_pool(http: Http, repositories: tuple[str, ...]) -> None:
    """Give each repository enough pooled connections for the per-coordinate fan-out.

    Same session, same retry policy: only the connection pool of these URL
    prefixes grows, so concurrent checksum fetches reuse connections instead of
    opening and discarding them.
    """
    size = max(1, http.workers) * FAN_OUT
    for repository in repositories:
        current = http.session.get_adapter(repository)
        if getattr(current, "_releaser_maven", False):
            continue
        adapter = HTTPAdapter(max_retries=cast(HTTPAdapter, current).max_retries, pool_connections=4, pool_maxsize=size)
        adapter._releaser_maven = True  # type: ignore[attr-defined]
        http.session.mount(repository + "/", adapter)
