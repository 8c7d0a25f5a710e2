"""A real HTTP package index on 127.0.0.1.

Tests and the demo need an index that behaves like PyPI where releaser and pip
care: PEP 503 HTML, PEP 691 JSON chosen by content negotiation, PEP 700 upload
times (which dated resolution depends on), relative file URLs, yanking,
redirects for non-normalized names and HTTP Basic authentication. Files are
real archives, so pip downloads, hashes and installs them as it would upstream.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from releaser.loopback.wheels import build_sdist, build_wheel, read_metadata

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


class PackageIndex:
    """A simple-API index serving from a daemon thread; use as a context manager."""

    def __init__(
        self, *, upload_times: bool = True, html_only: bool = False, auth: tuple[str, str] | None = None
    ) -> None:
        self.upload_times, self.html_only, self.auth = upload_times, html_only, auth
        self._tmp = tempfile.TemporaryDirectory(prefix="releaser-index-")
        self._files_dir, self._staging = Path(self._tmp.name) / "files", Path(self._tmp.name) / "staging"
        for directory in (self._files_dir, self._staging):
            directory.mkdir()
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        self._seen: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> PackageIndex:
        """Bind an ephemeral port on 127.0.0.1 and serve until `stop`."""
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        # A short poll interval keeps stop(), run after every test, from costing half a second.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and delete the published files."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()  # type: ignore[union-attr]
            self._server = self._thread = None
        self._tmp.cleanup()

    def __enter__(self) -> PackageIndex:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The simple-API root, without a trailing slash, as users would write it."""
        return f"http://{self._netloc()}/simple"

    def url_with_auth(self) -> str:
        """The root URL with the Basic credentials inside, as pip's --index-url takes them."""
        if self.auth is None:
            return self.url
        user, password = (quote(part, safe="") for part in self.auth)
        return f"http://{user}:{password}@{self._netloc()}/simple"

    def _netloc(self) -> str:
        if self._server is None:
            raise RuntimeError("the index is not started")
        return f"127.0.0.1:{self._server.server_address[1]}"

    def add(self, path: Path, *, uploaded: datetime | None = None, yanked: str | bool = False) -> None:
        """Publish an existing wheel or sdist; name and version come from its file name."""
        path = Path(path)
        filename = path.name
        if "/" in filename or "\\" in filename or ".." in filename:
            raise ValueError(f"refusing file name {filename!r}")
        uploaded = uploaded or datetime.now(timezone.utc)
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

    def publish(
        self, name: str, version: str, *, requires: Sequence[str] = (), uploaded: datetime | None = None,
        sdist: bool = False, tags: Sequence[str] = ("py3-none-any",),
    ) -> list[Path]:
        """Build one wheel per tag (and an sdist if asked) and publish them all at one instant."""
        uploaded = uploaded or datetime.now(timezone.utc)
        paths = [build_wheel(self._staging, name, version, requires=requires, tag=tag) for tag in tags]
        if sdist:
            paths.append(build_sdist(self._staging, name, version, requires=requires))
        for path in paths:
            self.add(path, uploaded=uploaded)
        return paths

    def remove(self, filename: str) -> None:
        """Delete a published file, as an upstream maintainer may do."""
        with self._lock:
            del self._files[filename]
            (self._files_dir / filename).unlink()

    @property
    def requests_seen(self) -> list[str]:
        """Every request path received so far, in order."""
        with self._lock:
            return list(self._seen)

    def _record(self, path: str) -> None:
        with self._lock:
            self._seen.append(path)

    def _published(self) -> list[_File]:
        """A consistent snapshot, ordered by version, while add/remove go on."""
        with self._lock:
            return sorted(self._files.values(), key=lambda f: (f.version, f.filename))

    def _file_bytes(self, filename: str) -> bytes | None:
        with self._lock:
            return (self._files_dir / filename).read_bytes() if filename in self._files else None


def _parse_filename(filename: str) -> tuple[str, Version]:
    if filename.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(filename)
    else:
        name, version = parse_sdist_filename(filename)
    return name, version


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
        entry["upload-time"] = f.uploaded.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], index: PackageIndex):
        super().__init__(address, handler)
        self.index = index


class _Handler(BaseHTTPRequestHandler):
    """Routes /simple/, /simple/<project>/ and /files/<filename>."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: test output is for test results."""

    def end_headers(self) -> None:
        """No response may be cached, so pip's HTTP cache never carries state between tests."""
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        index = self.server.index
        index._record(self.path)
        if not self._authorized(index.auth):
            return self._reply(401, b"unauthorized\n", extra={"WWW-Authenticate": 'Basic realm="test"'})
        path = unquote(urlsplit(self.path).path)
        name = path.removeprefix("/simple/").rstrip("/")
        if path.startswith("/files/"):
            data = index._file_bytes(path.removeprefix("/files/"))
            if data is None:
                return self._reply(404, b"not found\n")
            return self._reply(200, data, "application/octet-stream")
        if path == "/simple":
            return self._reply(301, b"", extra={"Location": "/simple/"})
        if not path.startswith("/simple/") or "/" in name:
            return self._reply(404, b"not found\n")
        if name and path != f"/simple/{canonicalize_name(name)}/":
            return self._reply(301, b"", extra={"Location": f"/simple/{canonicalize_name(name)}/"})
        self._simple(index, canonicalize_name(name) if name else None)

    def _simple(self, index: PackageIndex, project: str | None) -> None:
        """The project list when `project` is None, else the project's page."""
        published = index._published()
        files = [f for f in published if f.project == project]
        if project and not files:
            return self._reply(404, b"not found\n")
        content_type = TEXT_HTML if index.html_only else negotiate(self.headers.get("Accept"))
        if content_type is None:
            return self._reply(406, b"not acceptable\n")
        if project:
            return self._reply(200, _project_page(index, content_type, project, files), content_type)
        self._reply(200, _project_list_page(content_type, sorted({f.project for f in published})), content_type)

    def _authorized(self, auth: tuple[str, str] | None) -> bool:
        if auth is None:
            return True
        expected = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        return hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode())

    def _reply(
        self, status: int, body: bytes, content_type: str = "text/plain", extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)
