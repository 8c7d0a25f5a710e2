"""What every loopback server shares: serving on 127.0.0.1, authentication, the request log, faults.

The package index, the Maven repository, the file server and the git server
differ only in their protocol. Each subclasses `LoopbackServer` and implements
`_respond` (and `_seen_as`, the form its `requests_seen` takes); starting and
stopping, HTTP Basic authentication, the request log, injected failures and how
an answer goes on the wire live here, so they behave alike and are fixed once.
"""

from __future__ import annotations

import base64
import hmac
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar
from urllib.parse import quote

Seen = TypeVar("Seen")


class LoopbackServer(ABC, Generic[Seen]):
    """An HTTP server on an ephemeral 127.0.0.1 port, serving from a daemon thread; a context manager.

    Every request is logged (as `_seen_as` describes it) before it is
    authenticated, so tests can count what a client sent, refused or not.
    `delay`: seconds added to every authenticated answer, as a distant server's would be.
    """

    _what: ClassVar[str] = "server"  # names it in the error for using it before start()
    _realm: ClassVar[str] = "loopback"  # of the Basic challenge
    _methods: ClassVar[frozenset[str]] = frozenset({"GET", "HEAD"})  # others answer 501

    def __init__(self, *, auth: tuple[str, str] | None = None, delay: float = 0.0) -> None:
        self.auth, self.delay = auth, delay
        self._lock = threading.Lock()  # also guards the subclass's own state
        self._seen: list[Seen] = []
        self.authorizations_seen: list[str] = []  # every Authorization header received, for leak tests
        self._failures: dict[str, tuple[int, int]] = {}  # key -> (remaining, status)
        self._running: tuple[_HTTPServer, threading.Thread] | None = None

    def start(self) -> Self:
        """Bind an ephemeral port on 127.0.0.1 and serve until `stop`."""
        http = _HTTPServer(self)
        # A client that resets its connection between the server's select() and accept()
        # would leave accept() blocked, and stop() waiting on it, forever: bound the wait.
        http.socket.settimeout(1.0)
        # A short poll interval keeps stop(), run after every test, from costing half a second.
        thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self._running = (http, thread)
        return self

    def stop(self) -> None:
        """Stop serving; does nothing if not started, so a failed start still exits cleanly."""
        if self._running is not None:
            http, thread = self._running
            http.shutdown()
            http.server_close()
            thread.join()
            self._running = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def requests_seen(self) -> list[Seen]:
        """Every request received so far, in order, in the form the server's class documents."""
        with self._lock:
            return list(self._seen)

    def _origin(self, *, with_auth: bool = False) -> str:
        """`http://127.0.0.1:PORT`, with the Basic credentials inside when asked, as clients take them."""
        if self._running is None:
            raise RuntimeError(f"the {self._what} is not started")
        userinfo = ""
        if with_auth and self.auth is not None:
            userinfo = ":".join(quote(part, safe="") for part in self.auth) + "@"
        return f"http://{userinfo}127.0.0.1:{self._running[0].server_address[1]}"

    def _authorized(self, authorization: str | None) -> bool:
        if self.auth is None:
            return True
        expected = "Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
        return hmac.compare_digest((authorization or "").encode(), expected.encode())

    def _record(self, method: str, target: str) -> None:
        with self._lock:
            self._seen.append(self._seen_as(method, target))

    def _fail(self, key: str, count: int, status: int) -> None:
        """Answer `status` to the next `count` requests `key` matches, replacing any failure set for it."""
        with self._lock:
            self._failures[key] = (count, status)

    def _take_failure(self, path: str, *, prefix: bool = False) -> int | None:
        """The status to fail the request for `path` with, using one up; keys match whole or as a prefix."""
        with self._lock:
            for key, (remaining, status) in self._failures.items():
                if remaining > 0 and (path.startswith(key) if prefix else path == key):
                    self._failures[key] = (remaining - 1, status)
                    return status
        return None

    @abstractmethod
    def _seen_as(self, method: str, target: str) -> Seen:
        """What `requests_seen` records of a request, from its method and request target."""

    @abstractmethod
    def _respond(self, request: LoopbackHandler) -> None:
        """Answer an authenticated request with `request.send`; runs on the request's own thread."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the Maven benchmark opens ~100 connections at once

    def __init__(self, loopback: LoopbackServer[Any]) -> None:
        super().__init__(("127.0.0.1", 0), LoopbackHandler)
        self.loopback = loopback

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer is normal (a stopped download): stay quiet."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class LoopbackHandler(BaseHTTPRequestHandler):
    """One connection: logs and authenticates each request, then hands it to its server's `_respond`."""

    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, about 40 ms per answer.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: test output is for test results."""

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        loopback = self.server.loopback
        if self.command not in loopback._methods:
            return self.send_error(501, f"Unsupported method ({self.command!r})")
        loopback._record(self.command, self.path)
        if self.headers.get("Authorization"):
            with loopback._lock:
                loopback.authorizations_seen.append(self.headers["Authorization"])
        if not loopback._authorized(self.headers.get("Authorization")):
            return self.send(401, b"unauthorized\n", headers={"WWW-Authenticate": f'Basic realm="{loopback._realm}"'})
        if loopback.delay:
            time.sleep(loopback.delay)
        loopback._respond(self)

    def send(
        self, status: int, body: bytes = b"", content_type: str = "text/plain", headers: Mapping[str, str] | None = None
    ) -> None:
        """Answer in full; `headers` may override Content-Type and Cache-Control, never Content-Length.

        Content-Length keeps the connection open for the next request; no-store
        keeps pip's HTTP cache from carrying state from one test to the next.
        A HEAD answer has the headers a GET would have and no body.
        """
        self.send_response(status)
        for key, value in {"Content-Type": content_type, "Cache-Control": "no-store", **(headers or {})}.items():
            self.send_header(key, value)
        if status != 304:  # a 304 has no body, and its headers describe the kept one's
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status != 304:
            self.wfile.write(body)
