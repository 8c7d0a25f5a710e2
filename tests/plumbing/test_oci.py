"""The OCI registry client (releaser.plumbing.oci) against a real registry and against a file
server that answers what a broken registry would."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopback.files import FileServer
from loopback.registry import DelayProxy, OciRegistry
from releaser.core.errors import UpstreamError, UpstreamMissing
from releaser.plumbing.http import Http, concurrently
from releaser.plumbing.oci import OCI_MANIFEST, Manifest, Registry, parse_challenge, sha256_digest

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)


def client(server: FileServer | OciRegistry, http: Http) -> Registry:
    host = server.url("").removeprefix("http://").rstrip("/") if isinstance(server, FileServer) else server.host
    return Registry(http, host, insecure=True, login=getattr(server, "login", None))


def test_an_html_page_instead_of_a_manifest_is_an_upstream_error(files: FileServer) -> None:
    files.put("v2/demo/app/manifests/1.0", b"<html><body>Sign in</body></html>")
    with Http() as http, pytest.raises(UpstreamError, match=r"image demo/app:1.0: .*/v2/demo/app/manifests/1.0 answered application/octet-stream, not an image manifest"):
        client(files, http).manifest("demo/app", "1.0", what="image demo/app:1.0")


def test_a_manifest_whose_bytes_do_not_hash_to_its_digest_is_refused(files: FileServer) -> None:
    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []}).encode()
    claimed = "sha256:" + hashlib.sha256(b"something else").hexdigest()
    files.put(f"v2/demo/app/manifests/{claimed}", body)
    with Http() as http, pytest.raises(UpstreamError, match=f"hash to {sha256_digest(body)}, not {claimed}"):
        client(files, http).manifest("demo/app", claimed, what="image")


def test_5xx_after_retries_and_404_say_what_and_where(files: FileServer) -> None:
    files.put("v2/demo/app/manifests/1.0", b"{}")
    files.fail_next("v2/demo/app/manifests/1.0", 10, 502)
    with Http(backoff=0.01) as http:
        with pytest.raises(UpstreamError, match="answered HTTP 502"):
            client(files, http).manifest("demo/app", "1.0", what="image")
        with pytest.raises(UpstreamMissing, match="HTTP 404: no such tag"):
            client(files, http).manifest("demo/app", "2.0", what="image")


def test_push_and_read_back_blobs_and_a_manifest(private_registry: OciRegistry) -> None:
    config = json.dumps({"created": "2026-01-01T00:00:00Z", "os": "linux", "architecture": "amd64"}).encode()
    layer = b"layer bytes" * 100
    manifest_doc = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256_digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256_digest(layer), "size": len(layer)}],
    }
    body = json.dumps(manifest_doc).encode()
    with Http() as http:
        reg = client(private_registry, http)
        for blob in (config, layer):
            reg.push_blob("bundles/rc", blob, sha256_digest(blob), what="push")
        reg.push_manifest("bundles/rc", "1.0rc1", Manifest(body, OCI_MANIFEST, sha256_digest(body)), what="push")
        got = reg.manifest("bundles/rc", "1.0rc1", what="read")
        assert got.body == body and got.digest == sha256_digest(body)
        assert reg.blob("bundles/rc", sha256_digest(config), what="read") == config
        assert reg.digest_of("bundles/rc", "1.0rc1", what="read") == sha256_digest(body)
        assert reg.digest_of("bundles/rc", "2.0", what="read") is None
        anonymous = Registry(http, private_registry.host, insecure=True)
        with pytest.raises(UpstreamError, match="asks for credentials .* none are configured"):
            anonymous.manifest("bundles/rc", "1.0rc1", what="read")


def test_a_layer_is_streamed_from_its_file_into_a_token_registry_and_back(token_registry: OciRegistry, tmp_path) -> None:
    layer = tmp_path / "layer"
    layer.write_bytes(b"\x1f\x8b" + b"L" * 300_000)
    digest = "sha256:" + hashlib.sha256(layer.read_bytes()).hexdigest()
    with Http() as http:
        reg = Registry(http, token_registry.host, insecure=True, login=("alice", "s3cret-pw"))
        reg.push_blob("team/layers", layer, digest, what="push")
        assert reg.has_blob("team/layers", digest, what="read")
        reg.download_blob("team/layers", digest, tmp_path / "back", what="read")
    assert (tmp_path / "back").read_bytes() == layer.read_bytes()


def _unauthorized(proxy: DelayProxy) -> list[str]:
    return [path for _, path, status in proxy.answered if status == 401]


def test_a_token_registry_challenges_once_and_gives_one_token_per_repository(token_registry: OciRegistry) -> None:
    images = {name: token_registry.publish(f"team/{name}:1", created=JAN) for name in ("api", "web", "worker")}
    pushed = len(token_registry.tokens_issued)  # skopeo's, publishing
    with DelayProxy(token_registry.host, 0) as proxy, Http() as http:
        reg = Registry(http, proxy.host, insecure=True, login=("alice", "s3cret-pw"))
        for name, image in images.items():
            assert reg.manifest(f"team/{name}", "1", what="read").digest == image.index_digest
            for digest in image.manifests.values():
                reg.manifest(f"team/{name}", digest, what="read")
    assert _unauthorized(proxy) == ["/v2/team/api/manifests/1"]  # the others asked for their token first
    assert token_registry.tokens_issued[pushed:] == [f"repository:team/{n}:pull" for n in images]


def test_threads_wanting_one_manifest_or_token_wait_for_a_single_request(token_registry: OciRegistry) -> None:
    image = token_registry.publish("team/api:1", created=JAN)
    pushed = len(token_registry.tokens_issued)
    with DelayProxy(token_registry.host, 0.2) as proxy, Http() as http:  # slow enough that all eight overlap
        reg = Registry(http, proxy.host, insecure=True, login=("alice", "s3cret-pw"))
        got = concurrently(lambda _: reg.manifest("team/api", image.index_digest, what="read").digest, range(8), workers=8)
    assert got == [image.index_digest] * 8
    fetched = [path for method, path, status in proxy.answered if status == 200]
    assert fetched == [f"/v2/team/api/manifests/{image.index_digest}"]
    assert token_registry.tokens_issued[pushed:] == ["repository:team/api:pull"]


def test_basic_credentials_go_with_every_repository_once_the_registry_asked(private_registry: OciRegistry) -> None:
    for name in ("api", "web"):
        private_registry.publish(f"team/{name}:1", created=JAN)
    with DelayProxy(private_registry.host, 0) as proxy, Http() as http:
        reg = Registry(http, proxy.host, insecure=True, login=("alice", "s3cret-pw"))
        for name in ("api", "web"):
            reg.manifest(f"team/{name}", "1", what="read")
    assert _unauthorized(proxy) == ["/v2/team/api/manifests/1"]


def test_a_token_the_registry_refuses_later_is_asked_for_again(token_registry: OciRegistry) -> None:
    image = token_registry.publish("team/api:1", created=JAN)
    pushed = len(token_registry.tokens_issued)
    with Http() as http:
        reg = Registry(http, token_registry.host, insecure=True, login=("alice", "s3cret-pw"))
        reg.manifest("team/api", "1", what="read")
        reg._tokens["repository:team/api:pull"] = "Bearer expired"  # as a token past its expiry is
        assert reg.manifest("team/api", image.index_digest, what="read").digest == image.index_digest
    assert token_registry.tokens_issued[pushed:] == ["repository:team/api:pull"] * 2


def test_a_bearer_challenge_is_read_as_registries_write_it() -> None:
    header = 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:app:pull"'
    assert parse_challenge(header) == (
        "bearer", {"realm": "https://auth.example.com/token", "service": "registry.example.com", "scope": "repository:app:pull"}
    )


@given(st.text(max_size=2000))
def test_any_challenge_a_server_sends_parses_to_strings(header: str) -> None:
    scheme, params = parse_challenge(header)
    assert isinstance(scheme, str) and all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
