"""A plain HTTP file server on 127.0.0.1: what `[[artifact]]` URLs and direct references point at.

It serves bytes the tests put at any path, with a Last-Modified header when
given one, answers HEAD as well as GET, can fail the next N requests for a path
(503 by default, to exercise retries), can require HTTP Basic authentication,
and lets a test replace a file's bytes, as an upstream that republishes does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import unquote, urlsplit

from loopback.server import LoopbackHandler, LoopbackServer


@dataclass(frozen=True)
class _Entry:
    data: bytes
    last_modified: datetime | None


class FileServer(LoopbackServer[tuple[str, str]]):
    """Serves `put` files; `requests_seen` holds (method, unquoted path) pairs."""

    _what, _realm = "file server", "files"

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        super().__init__(auth=auth)
        self._files: dict[str, _Entry] = {}

    def url(self, path: str) -> str:
        """The URL of `path` (as given: quote it yourself to test odd names)."""
        return f"{self._origin()}/{path.lstrip('/')}"

    def url_with_auth(self, path: str) -> str:
        """`url(path)` with the Basic credentials inside it."""
        return f"{self._origin(with_auth=True)}/{path.lstrip('/')}"

    def put(self, path: str, data: bytes, *, last_modified: datetime | None = None) -> str:
        """Serve `data` at `path` (replacing what was there); return its URL."""
        if last_modified is not None and last_modified.tzinfo is None:
            raise ValueError("last_modified must be timezone-aware")
        with self._lock:
            self._files["/" + path.lstrip("/")] = _Entry(bytes(data), last_modified)
        return self.url(path)

    def fail_next(self, path: str, count: int, status: int = 503) -> None:
        """Answer the next `count` requests (GET or HEAD) for `path` with `status`."""
        self._fail("/" + path.lstrip("/"), count, status)

    def _seen_as(self, method: str, target: str) -> tuple[str, str]:
        return method, unquote(urlsplit(target).path)

    def _respond(self, request: LoopbackHandler) -> None:
        path = unquote(urlsplit(request.path).path)
        failure = self._take_failure(path)
        with self._lock:
            entry = self._files.get(path)
        if failure is not None or entry is None:
            status = failure or 404
            return request.send(status, f"HTTP {status}\n".encode())
        headers = {}
        if entry.last_modified is not None:
            headers["Last-Modified"] = format_datetime(entry.last_modified.astimezone(UTC), usegmt=True)
        request.send(200, entry.data, "application/octet-stream", headers)
