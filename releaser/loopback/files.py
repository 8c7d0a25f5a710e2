"""A plain HTTP file server on 127.0.0.1: what `[[artifact]]` URLs and direct references point at.

It serves bytes the tests put at any path, with a Last-Modified header when
given one, answers HEAD as well as GET, can fail the next N requests for a path
(503 by default, to exercise retries), can require HTTP Basic authentication,
and lets a test replace a file's bytes, as an upstream that republishes does.
"""

from __future__ import annotations

import base64
import hmac
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, urlsplit


@dataclass(frozen=True)
class _Entry:
    data: bytes
    last_modified: datetime | None


class FileServer:
    """Serves `put` files from a daemon thread; use as a context manager."""

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        self.auth = auth
        self._lock = threading.Lock()
        self._files: dict[str, _Entry] = {}
        self._failures: dict[str, tuple[int, int]] = {}  # path -> (remaining, status)
        self._seen: list[tuple[str, str]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FileServer:
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

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, path: str) -> str:
        """The URL of `path` (as given: quote it yourself to test odd names)."""
        if self._server is None:
            raise RuntimeError("the file server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/{path.lstrip('/')}"

    def url_with_auth(self, path: str) -> str:
        """`url(path)` with the Basic credentials inside it."""
        url = self.url(path)
        if self.auth is None:
            return url
        user, password = (quote(part, safe="") for part in self.auth)
        return url.replace("http://", f"http://{user}:{password}@", 1)

    def put(self, path: str, data: bytes, *, last_modified: datetime | None = None) -> str:
        """Serve `data` at `path` (replacing what was there); return its URL."""
        if last_modified is not None and last_modified.tzinfo is None:
            raise ValueError("last_modified must be timezone-aware")
        with self._lock:
            self._files["/" + path.lstrip("/")] = _Entry(bytes(data), last_modified)
        return self.url(path)

    def fail_next(self, path: str, count: int, status: int = 503) -> None:
        """Answer the next `count` requests (GET or HEAD) for `path` with `status`."""
        with self._lock:
            self._failures["/" + path.lstrip("/")] = (count, status)

    @property
    def requests_seen(self) -> list[tuple[str, str]]:
        """(method, path) of every request so far, in order."""
        with self._lock:
            return list(self._seen)

    def _answer(self, method: str, raw_path: str) -> tuple[int, _Entry | None]:
        path = unquote(urlsplit(raw_path).path)
        with self._lock:
            self._seen.append((method, path))
            remaining, status = self._failures.get(path, (0, 0))
            if remaining > 0:
                self._failures[path] = (remaining - 1, status)
                return status, None
            entry = self._files.get(path)
        return (200, entry) if entry is not None else (404, None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], files: FileServer):
        super().__init__(address, handler)
        self.files = files


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: test output is for test results."""

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _serve(self, *, body: bool) -> None:
        files = self.server.files
        if files.auth is not None and not self._authorized(files.auth):
            return self._reply(401, b"unauthorized\n", body, {"WWW-Authenticate": 'Basic realm="files"'})
        status, entry = files._answer(self.command, self.path)
        if entry is None:
            return self._reply(status, f"HTTP {status}\n".encode(), body)
        headers = {}
        if entry.last_modified is not None:
            headers["Last-Modified"] = format_datetime(entry.last_modified.astimezone(timezone.utc), usegmt=True)
        self._reply(200, entry.data, body, headers, "application/octet-stream")

    def _authorized(self, auth: tuple[str, str]) -> bool:
        expected = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        return hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode())

    def _reply(
        self, status: int, data: bytes, body: bool, extra: dict[str, str] | None = None, content_type: str = "text/plain"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)
