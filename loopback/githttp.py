"""A smart-HTTP git server on 127.0.0.1, with HTTP Basic authentication.

Requests go to the real `git http-backend` (CGI), so clients see what they see
from a hosted git server: protocol v2, shallow fetches, fetch by commit id, and
a 401 until they send the credentials that were inside the URL. Tests use it to
check that a `https://user:token@host/repo.git` remote is pinned without its
token ever reaching the lock or an error message.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from loopback.server import LoopbackHandler, LoopbackServer


class GitHttpServer(LoopbackServer[str]):
    """Serves every repository under `root` at http://127.0.0.1:PORT/<path>.

    `requests_seen` holds 'METHOD /path' strings, as MavenRepository's does.
    `redirect_to`: an origin (`http://localhost:PORT`) every authenticated request is sent on to
    with a 302, as a hosted server moving a repository does.
    """

    _what, _realm, _methods = "git server", "git", frozenset({"GET", "POST"})

    def __init__(self, root: Path, *, auth: tuple[str, str] | None = None, redirect_to: str | None = None) -> None:
        super().__init__(auth=auth)
        self.root, self.redirect_to = Path(root), redirect_to

    def url(self, path: str, *, with_auth: bool = False) -> str:
        return f"{self._origin(with_auth=with_auth)}/{path.lstrip('/')}"

    def _seen_as(self, method: str, target: str) -> str:
        return f"{method} {target}"

    def _respond(self, request: LoopbackHandler) -> None:
        """Run `git http-backend` as a web server runs a CGI program, and relay its answer."""
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0)) if request.command == "POST" else b""
        if self.redirect_to is not None:
            return request.send(302, b"moved\n", headers={"Location": self.redirect_to.rstrip("/") + request.path})
        parts = urlsplit(request.path)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            GIT_PROJECT_ROOT=str(self.root),
            GIT_HTTP_EXPORT_ALL="1",
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            PATH_INFO=parts.path,
            QUERY_STRING=parts.query,
            REQUEST_METHOD=request.command,
            CONTENT_TYPE=request.headers.get("Content-Type", ""),
            CONTENT_LENGTH=str(len(body)),
            REMOTE_ADDR="127.0.0.1",
            REMOTE_USER=self.auth[0] if self.auth else "",
        )
        if request.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = request.headers["Git-Protocol"]
        if request.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = request.headers["Content-Encoding"]
        done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        status, headers = 200, {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = int(value.split()[0])
            elif key and key.lower() != "content-length":  # the payload's length is counted again
                headers[key.strip()] = value.strip()
        if done.returncode != 0 and not head:
            status, headers, payload = 500, {}, done.stderr
        request.send(status, payload, headers=headers)
