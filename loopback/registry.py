"""A real OCI registry on 127.0.0.1: Debian's `docker-registry` (distribution 2.8), and images for it.

`OciRegistry` starts the registry binary on a free port with its own config and storage
folder (plain HTTP; HTTP Basic auth from an htpasswd file when given a login; manifest
deletion enabled), and stops it. Images are written as OCI image layouts by
`write_image` (small random layers, a config with `created`, one manifest per platform
under an index) and pushed with `skopeo copy --all`, as a user would push them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

BINARY = "docker-registry"


def available() -> bool:
    """Whether the registry and skopeo are installed (`.ci/run` installs both)."""
    return shutil.which(BINARY) is not None and shutil.which("skopeo") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OciRegistry:
    """`docker-registry` on 127.0.0.1:<free port>; a context manager. `host` is `127.0.0.1:PORT`."""

    def __init__(self, *, login: tuple[str, str] | None = None, root: Path | None = None, bearer: bool = False) -> None:
        """`login`: HTTP Basic auth (htpasswd); with `bearer`, token auth instead: the registry
        answers 401 with a Bearer challenge, and a `TokenServer` here issues tokens to `login`."""
        self.login = login
        self.bearer = bearer
        self._tokens: TokenServer | None = None
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="releaser-registry-")) if root is None else root
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def tokens_issued(self) -> list[str]:
        """The scope of every token the Bearer token service issued, in order ([] without one)."""
        return list(self._tokens.issued) if self._tokens is not None else []

    def start(self) -> Self:
        storage = self.root / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        auth = ""
        if self.bearer and self.login is not None:
            self._tokens = self._tokens or TokenServer(self.root / "token", self.login).start()
            auth = (
                f"auth:\n  token:\n    realm: {self._tokens.url}/token\n    service: loopback-registry\n"
                f"    issuer: loopback-issuer\n    rootcertbundle: {self._tokens.certificate}\n"
            )
        elif self.login is not None:
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(f"{self.login[0]}:{_bcrypt(self.login[1])}\n", encoding="utf-8")
            auth = f"auth:\n  htpasswd:\n    realm: loopback\n    path: {htpasswd}\n"
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n{auth}",
            encoding="utf-8",
        )
        log = open(self.root / "registry.log", "ab")
        self._process = subprocess.Popen([BINARY, "serve", str(config)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.root / 'registry.log').read_text(errors='replace')[-500:]}")
            try:
                urllib.request.urlopen(f"{self.url}/v2/", timeout=1).close()
                return self
            except urllib.error.HTTPError:  # 401: up, and asking for credentials
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not answer within 20 s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def wipe(self) -> None:
        """Forget every image: stop, empty the storage, start again (on the same port)."""
        self.stop()
        shutil.rmtree(self.root / "storage", ignore_errors=True)
        self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self._tokens is not None:
            self._tokens.stop()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def push(self, layout: Path, reference: str) -> None:
        """`skopeo copy --all` the layout's image to `reference` (`repo:tag`) here."""
        argv = ["skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false"]
        if self.login is not None:
            argv.append(f"--dest-creds={self.login[0]}:{self.login[1]}")
        argv += [f"oci:{layout}:latest", f"docker://{self.host}/{reference}"]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def publish(self, reference: str, *, created: datetime, platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64"), seed: str = "") -> Image:
        """Write an image (one manifest per platform under an index) and push it as `reference`."""
        with tempfile.TemporaryDirectory(prefix="releaser-image-") as tmp:
            image = write_image(Path(tmp) / "layout", created=created, platforms=platforms, seed=seed or reference)
            self.push(image.layout, reference)
        return image

    def delete(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (what `docker-registry` allows): its tags go with it."""
        request = urllib.request.Request(f"{self.url}/v2/{repository}/manifests/{digest}", method="DELETE")
        if self.login is not None and not self.bearer:
            import base64

            pair = base64.b64encode(f"{self.login[0]}:{self.login[1]}".encode()).decode()
            request.add_header("Authorization", f"Basic {pair}")
        urllib.request.urlopen(request, timeout=10).close()


@dataclass(frozen=True)
class Image:
    layout: Path
    index_digest: str  # sha256:... of the index (what a tag names)
    manifests: dict[str, str]  # platform -> manifest digest


def write_image(layout: Path, *, created: datetime, platforms: tuple[str, ...], seed: str) -> Image:
    """An OCI image layout at `layout`: per platform a small random gzipped tar layer, a config
    with `created`, a manifest; an index of them, tagged `latest`."""
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    stamp = created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries, manifests = [], {}
    for platform in platforms:
        os_name, arch, *variant = platform.split("/")
        layer = put(_layer(f"{seed}/{platform}".encode() + os.urandom(16)))
        config = put(json.dumps({
            "created": stamp, "architecture": arch, "os": os_name,
            "rootfs": {"type": "layers", "diff_ids": []}, "config": {},
        }, sort_keys=True).encode())
        manifest = {
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}],
        }
        described = put(json.dumps(manifest, sort_keys=True).encode())
        manifests[platform] = str(described["digest"])
        entries.append({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **described,
            "platform": {"os": os_name, "architecture": arch, **({"variant": variant[0]} if variant else {})},
        })
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    index_bytes = json.dumps(index, sort_keys=True).encode()
    described = put(index_bytes)
    top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", **described,
        "annotations": {"org.opencontainers.image.ref.name": "latest"},
    }]}
    (layout / "index.json").write_text(json.dumps(top), encoding="utf-8")
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}', encoding="utf-8")
    return Image(layout, str(described["digest"]), manifests)


def _layer(content: bytes) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("etc/image-id")
        info.size, info.mtime = len(content), 0
        tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), mtime=0)


def _bcrypt(password: str) -> str:
    """An htpasswd bcrypt hash: `htpasswd -niB` (apache2-utils), the password on stdin."""
    out = subprocess.run(["htpasswd", "-niB", "u"], input=password, check=True, capture_output=True, text=True).stdout
    return out.strip().split(":", 1)[1]


class DelayProxy:
    """A plain HTTP proxy on 127.0.0.1 in front of a registry that adds `delay` seconds to every
    answer, as a distant registry's would be; a context manager. `host` is its `127.0.0.1:PORT`;
    `answered` lists every request it forwarded, with the registry's status."""

    def __init__(self, target: str, delay: float) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: without it, 40 ms more an answer

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                import http.client

                time.sleep(proxy.delay)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers: dict[str, str] = {}
                for key, value in self.headers.items():  # a repeated header (Accept) is one list
                    if key.lower() not in ("host", "connection"):
                        headers[key] = f"{headers[key]}, {value}" if key in headers else value
                upstream = http.client.HTTPConnection(target, timeout=60)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(key, value.replace(target, proxy.host))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                upstream.close()
                proxy.answered.append((self.command, self.path, answer.status))

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        self.delay = delay
        self.answered: list[tuple[str, str, int]] = []  # (method, path, status) of every request, as answered
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.host = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class TokenServer:
    """The token service of a registry's Bearer auth (distribution's `auth: token`), on 127.0.0.1.

    `GET /token?service=...&scope=repository:NAME:ACTIONS` with HTTP Basic `login` answers
    `{"token": JWT}`, an RS256 JWT whose `x5c` header carries the self-signed certificate the
    registry trusts (`certificate`), granting what the scope asks; anything else is 401.
    """

    def __init__(self, folder: Path, login: tuple[str, str]) -> None:
        import datetime as dt

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        folder.mkdir(parents=True, exist_ok=True)
        self.login = login
        self.issued: list[str] = []  # the scopes of every token issued, in order
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback-issuer")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self._key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.certificate = folder / "issuer.pem"
        self.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self._der = cert.public_bytes(serialization.Encoding.DER)
        self._server: object = None
        self.url = ""

    def token(self, scopes: list[str]) -> str:
        import base64
        import uuid

        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self._der).decode()]}
        claims = {"iss": "loopback-issuer", "sub": self.login[0], "aud": "loopback-registry", "exp": now + 600,
                  "nbf": now - 60, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{b64(signature)}"

    def start(self) -> TokenServer:
        import base64
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs, urlsplit

        issuer = self
        expected = "Basic " + base64.b64encode(f"{self.login[0]}:{self.login[1]}".encode()).decode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != "/token" or self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                scopes = parse_qs(parts.query).get("scope", [])
                issuer.issued += scopes
                body = json.dumps({"token": issuer.token(scopes)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        from http.server import ThreadingHTTPServer

        if isinstance(self._server, ThreadingHTTPServer):
            self._server.shutdown()
            self._server.server_close()
            self._server = None
