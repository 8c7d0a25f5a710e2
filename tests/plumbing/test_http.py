"""The HTTP layer honours the machine's proxy settings, origin by origin, though it reads them once.

`releaser.plumbing.httpsession` reads the proxy variables once per origin instead of on every
request, as requests does; these tests prove that it still sends each request where
requests would: through the proxy, or straight to a host NO_PROXY names.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loopback.pypi import PackageIndex
from releaser.ecosystems.python.index import PackageIndexReader
from releaser.plumbing.http import Http

T0 = datetime(2024, 1, 1, tzinfo=UTC)
VERSIONS = {"anyio": "4.0", "idna": "3.6"}
UNRESOLVABLE = "releaser-proxy-test.invalid"  # reachable only through the proxy


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_proxy_carries_every_request_to_its_origin_and_no_proxy_is_kept_per_origin(
    proxy_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The loopback index answers an absolute request target as a forward proxy would pass
    # it on, so it is both the proxy and, under a name only the proxy knows, the origin.
    with PackageIndex() as proxied, PackageIndex() as direct:
        for index in (proxied, direct):
            for name, version in VERSIONS.items():
                index.publish(name, version, uploaded=T0)
        port = proxied.url.split(":")[2].split("/")[0]
        behind_proxy = f"http://{UNRESOLVABLE}:{port}/simple"
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")

        with Http() as http:
            reader = PackageIndexReader(http, (behind_proxy, direct.url))
            for name, version in VERSIONS.items():  # twice per origin: the second with settings read once
                files = reader.project_files(behind_proxy, name) or []
                assert [f.filename for f in files] == [f"{name}-{version}-py3-none-any.whl"]
                assert reader.project_files(direct.url, name)

        assert proxied.requests_seen == [f"{behind_proxy}/anyio/", f"{behind_proxy}/idna/"]
        assert direct.requests_seen == ["/simple/anyio/", "/simple/idna/"]
