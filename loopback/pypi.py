"""A real HTTP package index on 127.0.0.1.

Tests and the demo need an index that behaves like PyPI where releaser and pip
care: PEP 503 HTML, PEP 691 JSON chosen by content negotiation, PEP 700 upload
times (which dated resolution depends on), relative file URLs, yanking,
redirects for non-normalized names and HTTP Basic authentication. Files are
real archives, so pip downloads, hashes and installs them as it would upstream.
Pages carry `ETag` and `Last-Modified` and answer a conditional request for an
unchanged page with 304 Not Modified (`Cache-Control: no-cache`: a client may keep a
page, and must ask before using it again).
"""

from __future__ import annotations

import hashlib
import html
import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from loopback.server import LoopbackHandler, LoopbackServer
from loopback.wheels import build_sdist, build_wheel, read_metadata

JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
_OFFERS = (JSON_V1, HTML_V1, TEXT_HTML)  # in order of preference when q-values tie


@dataclass(frozen=True)
class _File:
    """One published distribution file and what the index says about it."""

    filename: str
    project: str
    version: Version
    sha256: str
    size: int
    uploaded: datetime
    yanked: str | bool
    requires_python: str | None


class PackageIndex(LoopbackServer[str]):
    """A simple-API index; `requests_seen` holds the request targets, as clients sent them,
    and `not_modified_sent` (target, User-Agent) of each page answered 304 Not Modified."""

    # HEAD too: uv asks whether a wheel can be read in ranges before it downloads it.
    _what, _realm, _methods = "index", "test", frozenset({"GET", "HEAD"})

    def __init__(
        self, *, upload_times: bool = True, html_only: bool = False, auth: tuple[str, str] | None = None,
        delay: float = 0.0, immutable_files: bool = False,
    ) -> None:
        """`immutable_files`: files say clients may keep them for good, as PyPI's do (benchmarks); by
        default they are `no-store`, since a later test's index on the same port serves other bytes."""
        super().__init__(auth=auth, delay=delay)
        self.upload_times, self.html_only = upload_times, html_only
        self._file_caching = "max-age=365000000, immutable, public" if immutable_files else "no-store"
        self._tmp = tempfile.TemporaryDirectory(prefix="releaser-index-")
        self._files_dir, self._staging = Path(self._tmp.name) / "files", Path(self._tmp.name) / "staging"
        for directory in (self._files_dir, self._staging):
            directory.mkdir()
        self._files: dict[str, _File] = {}
        self._changed: dict[str, datetime] = {}  # project -> when its page last changed, whole seconds
        self.not_modified_sent: list[tuple[str, str]] = []

    def stop(self) -> None:
        """Stop serving and delete the published files."""
        super().stop()
        self._tmp.cleanup()

    @property
    def url(self) -> str:
        """The simple-API root, without a trailing slash, as users would write it."""
        return f"{self._origin()}/simple"

    def url_with_auth(self) -> str:
        """The root URL with the Basic credentials inside, as pip's --index-url takes them."""
        return f"{self._origin(with_auth=True)}/simple"

    def add(self, path: Path, *, uploaded: datetime | None = None, yanked: str | bool = False) -> None:
        """Publish an existing wheel or sdist; name and version come from its file name."""
        path = Path(path)
        filename = path.name
        if "/" in filename or "\\" in filename or ".." in filename:
            raise ValueError(f"refusing file name {filename!r}")
        uploaded = uploaded or datetime.now(UTC)
        if uploaded.tzinfo is None:
            raise ValueError("upload time must be timezone-aware")
        project, version = _parse_filename(filename)
        data = path.read_bytes()
        requires_python = read_metadata(path).get("Requires-Python")
        sha256 = hashlib.sha256(data).hexdigest()
        entry = _File(filename, project, version, sha256, len(data), uploaded, yanked, requires_python)
        with self._lock:
            if filename in self._files:
                raise ValueError(f"{filename} is already published; remove it first")
            shutil.copyfile(path, self._files_dir / filename)
            self._files[filename] = entry
            self._touch(project)

    def publish(
        self, name: str, version: str, *, requires: Sequence[str] = (), uploaded: datetime | None = None,
        sdist: bool = False, tags: Sequence[str] = ("py3-none-any",), requires_python: str | None = None,
    ) -> list[Path]:
        """Build one wheel per tag (and an sdist if asked) and publish them all at one instant;
        `requires_python` goes into the wheels' metadata, and so onto the index page."""
        uploaded = uploaded or datetime.now(UTC)
        paths = [
            build_wheel(self._staging, name, version, requires=requires, tag=tag, requires_python=requires_python)
            for tag in tags
        ]
        if sdist:
            paths.append(build_sdist(self._staging, name, version, requires=requires))
        for path in paths:
            self.add(path, uploaded=uploaded)
        return paths

    def remove(self, filename: str) -> None:
        """Delete a published file, as an upstream maintainer may do."""
        with self._lock:
            project = self._files.pop(filename).project
            (self._files_dir / filename).unlink()
            self._touch(project)

    def _touch(self, project: str) -> None:
        """The page of `project` changed: a later Last-Modified than any it gave before (HTTP dates
        count whole seconds, and a client that asks If-Modified-Since must see two changes in one second)."""
        now = datetime.now(UTC).replace(microsecond=0)
        before = self._changed.get(project)
        self._changed[project] = now if before is None or now > before else before + timedelta(seconds=1)

    def fail_next(self, path_prefix: str, count: int, status: int = 503) -> None:
        """Answer `status` to the next `count` requests whose path starts with `path_prefix` (e.g. "/simple/")."""
        self._fail(path_prefix, count, status)

    def _seen_as(self, method: str, target: str) -> str:
        return target

    def _respond(self, request: LoopbackHandler) -> None:
        """Route /simple/, /simple/<project>/ and /files/<filename>."""
        path = unquote(urlsplit(request.path).path)
        failure = self._take_failure(path, prefix=True)
        if failure is not None:
            return request.send(failure, b"injected failure\n")
        name = path.removeprefix("/simple/").rstrip("/")
        if path.startswith("/files/"):
            data = self._file_bytes(path.removeprefix("/files/"))
            if data is None:
                return request.send(404, b"not found\n")
            return request.send(200, data, "application/octet-stream", headers={"Cache-Control": self._file_caching})
        if path == "/simple":
            return request.send(301, headers={"Location": "/simple/"})
        if not path.startswith("/simple/") or "/" in name:
            return request.send(404, b"not found\n")
        if name and path != f"/simple/{canonicalize_name(name)}/":
            return request.send(301, headers={"Location": f"/simple/{canonicalize_name(name)}/"})
        self._simple(request, canonicalize_name(name) if name else None)

    def _simple(self, request: LoopbackHandler, project: str | None) -> None:
        """The project list when `project` is None, else the project's page."""
        files = self._published(project)
        if project and not files:
            return request.send(404, b"not found\n")
        content_type = TEXT_HTML if self.html_only else negotiate(request.headers.get("Accept"))
        if content_type is None:
            return request.send(406, b"not acceptable\n")
        if project:
            body = _project_page(self, content_type, project, files)
        else:
            body = _project_list_page(content_type, sorted({f.project for f in self._published()}))
        with self._lock:
            changed = max((self._changed[p] for p in ([project] if project else self._changed)), default=None)
        etag = f'"{hashlib.sha256(content_type.encode() + body).hexdigest()[:32]}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Vary": "Accept"}
        if changed is not None:
            headers["Last-Modified"] = format_datetime(changed, usegmt=True)
        if not_modified(request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"), etag, changed):
            with self._lock:
                self.not_modified_sent.append((request.path, request.headers.get("User-Agent", "")))
            return request.send(304, content_type=content_type, headers=headers)
        request.send(200, body, content_type, headers=headers)

    def _published(self, project: str | None = None) -> list[_File]:
        """A consistent snapshot of `project`'s files (of every file when None), ordered by
        version, while add/remove go on. Only that project's files are sorted: a page costs
        the same on an index of 10 projects as on one of 1,000, as on a real index."""
        with self._lock:
            files = [f for f in self._files.values() if project is None or f.project == project]
        return sorted(files, key=lambda f: (f.version, f.filename))

    def _file_bytes(self, filename: str) -> bytes | None:
        with self._lock:
            return (self._files_dir / filename).read_bytes() if filename in self._files else None


def _parse_filename(filename: str) -> tuple[str, Version]:
    if filename.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(filename)
    else:
        name, version = parse_sdist_filename(filename)
    return name, version


def not_modified(if_none_match: str | None, if_modified_since: str | None, etag: str, changed: datetime | None) -> bool:
    """Whether a conditional GET is answered 304 (RFC 9110, 13.1): If-None-Match decides when
    sent (weak comparison, `*` matches); otherwise If-Modified-Since, against `changed`."""
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if if_modified_since is None or changed is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False  # an invalid date is ignored
    return since.tzinfo is not None and changed <= since


def negotiate(accept: str | None) -> str | None:
    """The PEP 691 content type to answer with, or None when nothing offered is acceptable.

    Each offer takes the q-value of the most specific media range matching it
    (RFC 9110); the highest q wins and ties go to JSON. No header means `*/*`.
    """
    qualities: dict[str, float] = {}
    for part in (accept or "*/*").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = [value for key, _, value in (p.partition("=") for p in params) if key.strip().lower() == "q"]
        qualities[media.lower()] = _as_quality(q[0] if q else "1")

    def quality(offer: str) -> float:
        matching = (offer, offer.split("/")[0] + "/*", "*/*")
        return next((qualities[m] for m in matching if m in qualities), 0.0)

    best = max(_OFFERS, key=quality)  # max keeps the first of equals: JSON wins ties
    return best if quality(best) > 0 else None


def _as_quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _project_page(index: PackageIndex, content_type: str, project: str, files: list[_File]) -> bytes:
    """PEP 691 JSON (with PEP 700 fields) or PEP 503 HTML; both link files relatively."""
    if content_type != JSON_V1:
        return _html_page(f"Links for {project}", [_html_anchor(f) for f in files])
    versions = [str(v) for v in sorted({f.version for f in files})]
    described = [_json_file(f, index.upload_times) for f in files]
    return json.dumps({"meta": {"api-version": "1.1"}, "name": project, "versions": versions, "files": described}).encode()


def _project_list_page(content_type: str, projects: list[str]) -> bytes:
    if content_type != JSON_V1:
        return _html_page("Simple index", [f'<a href="{html.escape(p)}/">{html.escape(p)}</a>' for p in projects])
    return json.dumps({"meta": {"api-version": "1.1"}, "projects": [{"name": p} for p in projects]}).encode()


def _json_file(f: _File, upload_times: bool) -> dict[str, object]:
    entry: dict[str, object] = {
        "filename": f.filename,
        "url": f"../../files/{f.filename}",
        "hashes": {"sha256": f.sha256},
        "size": f.size,
        "yanked": f.yanked or False,
    }
    if upload_times:
        entry["upload-time"] = f.uploaded.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if f.requires_python:
        entry["requires-python"] = f.requires_python
    return entry


def _html_page(title: str, anchors: list[str]) -> bytes:
    body = "".join(f"    {a}<br/>\n" for a in anchors)
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}  </body>\n</html>\n"
    ).encode()


def _html_anchor(f: _File) -> str:
    attributes = f'href="../../files/{html.escape(f.filename)}#sha256={f.sha256}"'
    if f.requires_python:
        attributes += f' data-requires-python="{html.escape(f.requires_python)}"'
    if f.yanked:
        reason = f.yanked if isinstance(f.yanked, str) else ""
        attributes += f' data-yanked="{html.escape(reason)}"'
    return f"<a {attributes}>{html.escape(f.filename)}</a>"
