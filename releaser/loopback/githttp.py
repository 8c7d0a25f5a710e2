"""A smart-HTTP git server on 127.0.0.1, with HTTP Basic authentication.

Requests go to the real `git http-backend` (CGI), so clients see what they see
from a hosted git server: protocol v2, shallow fetches, fetch by commit id, and
a 401 until they send the credentials that were inside the URL. Tests use it to
check that a `https://user:token@host/repo.git` remote is pinned without its
token ever reaching the lock or an error message.
"""

from __future__ import annotations

import base64
import hmac
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit


class GitHttpServer:
    """Serves every repository under `root` at http://127.0.0.1:PORT/<path>; a context manager."""

    def __init__(self, root: Path, *, auth: tuple[str, str] | None = None) -> None:
        self.root = Path(root)
        self.auth = auth
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> GitHttpServer:
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

    def __enter__(self) -> GitHttpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def url(self, path: str, *, with_auth: bool = False) -> str:
        if self._server is None:
            raise RuntimeError("the git server is not started")
        userinfo = ""
        if with_auth and self.auth is not None:
            userinfo = ":".join(quote(part, safe="") for part in self.auth) + "@"
        return f"http://{userinfo}127.0.0.1:{self._server.server_address[1]}/{path.lstrip('/')}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], git: GitHttpServer):
        super().__init__(address, handler)
        self.git = git


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: test output is for test results."""

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def _cgi(self) -> None:
        git = self.server.git
        if git.auth is not None:
            expected = "Basic " + base64.b64encode(f"{git.auth[0]}:{git.auth[1]}".encode()).decode()
            if not hmac.compare_digest(self.headers.get("Authorization", "").encode(), expected.encode()):
                return self._send(401, {"WWW-Authenticate": 'Basic realm="git"', "Content-Type": "text/plain"}, b"unauthorized\n")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else b""
        parts = urlsplit(self.path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_PROJECT_ROOT=str(git.root),
            GIT_HTTP_EXPORT_ALL="1",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            PATH_INFO=parts.path,
            QUERY_STRING=parts.query,
            REQUEST_METHOD=self.command,
            CONTENT_TYPE=self.headers.get("Content-Type", ""),
            CONTENT_LENGTH=str(len(body)),
            REMOTE_ADDR="127.0.0.1",
            REMOTE_USER=git.auth[0] if git.auth else "",
        )
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key:
                headers[key.strip()] = value.strip()
        if done.returncode != 0 and not head:
            status, headers, payload = 500, {"Content-Type": "text/plain"}, done.stderr
        self._send(status, headers, payload)

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
