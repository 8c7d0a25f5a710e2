"""A misbehaving HTTP server on 127.0.0.1: what releaser must survive from an index or a repository.

Each path gets a script, one step per request (the last step repeats):
`Answer` (any status, body, headers: 500s, 429s with Retry-After, malformed or
oversized bodies, redirects), `Reset` (the connection dropped with a TCP RST),
`Hang` (no answer at all), `Drip` (a body one byte at a time), `Flood` (a body
of any size, generated as it is sent). Unscripted paths answer 404.
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from loopback.server import LoopbackHandler, LoopbackServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reset:
    """Read the request, then drop the connection with a TCP RST."""


@dataclass(frozen=True)
class Hang:
    """Never answer (until the server stops, or `seconds` pass)."""

    seconds: float = 3600.0


@dataclass(frozen=True)
class Drip:
    """Promise `body` in full, then send it one byte every `interval` seconds."""

    body: bytes
    interval: float = 1.0
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Flood:
    """A 200 answer of `size` bytes of `fill`, made as it is sent (nothing that large is held)."""

    size: int
    content_type: str = "application/octet-stream"
    fill: bytes = b" "


Step = Answer | Reset | Hang | Drip | Flood


def redirect(location: str, status: int = 302) -> Answer:
    return Answer(status, b"", "text/plain", {"Location": location})


class FaultServer(LoopbackServer[tuple[str, str]]):
    """Serves scripted faults; `requests_seen` holds (method, unquoted path) pairs."""

    _what, _realm = "fault server", "faults"

    def __init__(self) -> None:
        super().__init__()
        self._scripts: dict[str, list[Step]] = {}
        self._stopping = threading.Event()

    def url(self, path: str) -> str:
        return f"{self._origin()}/{path.lstrip('/')}"

    def script(self, path: str, *steps: Step) -> str:
        """Answer the requests for `path` with `steps`, one each, the last one from then on; return its URL."""
        with self._lock:
            self._scripts["/" + path.lstrip("/")] = list(steps)
        return self.url(path)

    def hits(self, path: str) -> int:
        """How many requests `path` has had."""
        return sum(1 for _, seen in self.requests_seen if seen == "/" + path.lstrip("/"))

    def stop(self) -> None:
        self._stopping.set()  # hanging and dripping answers end
        super().stop()

    def _seen_as(self, method: str, target: str) -> tuple[str, str]:
        return method, unquote(urlsplit(target).path)

    def _respond(self, request: LoopbackHandler) -> None:
        path = unquote(urlsplit(request.path).path)
        with self._lock:
            steps = self._scripts.get(path)
            step: Step = (steps.pop(0) if len(steps) > 1 else steps[0]) if steps else Answer(404, b"not scripted\n")
        if isinstance(step, Answer):
            request.send(step.status, step.body, step.content_type, step.headers)
        elif isinstance(step, Reset):
            request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close_connection = True
            request.connection.close()
        elif isinstance(step, Hang):
            self._stopping.wait(step.seconds)
            request.close_connection = True
        else:
            request.send_response(200)
            request.send_header("Content-Type", step.content_type)
            request.send_header("Content-Length", str(len(step.body) if isinstance(step, Drip) else step.size))
            request.end_headers()
            request.close_connection = True
            if request.command == "HEAD":
                return
            try:
                if isinstance(step, Drip):
                    for i in range(len(step.body)):
                        request.wfile.write(step.body[i : i + 1])
                        request.wfile.flush()
                        if self._stopping.wait(step.interval):
                            return
                else:
                    block, left = step.fill * (1 << 16), step.size
                    while left > 0 and not self._stopping.is_set():
                        request.wfile.write(block[: min(left, len(block))])
                        left -= min(left, len(block))
            except OSError:
                return  # the client gave up: that is the point
