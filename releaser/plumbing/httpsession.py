"""The `requests` session under `releaser.plumbing.http.Http`, imported with its first request.

requests reads the proxy and CA-bundle variables again for every request: a walk over
`os.environ`, twice, about a fifth of the CPU a project page costs releaser. They do not
change while releaser runs, so each origin's settings are read once and reused.
`~/.netrc` is still read as requests reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

if TYPE_CHECKING:
    from requests.sessions import _Settings  # the stubs' name for what merge_environment_settings gives


class Session(requests.Session):
    def __init__(self, *, connections: int, user_agent: str) -> None:
        super().__init__()
        # Retries are `Http.request`'s own, so that they count against its deadline.
        adapter = HTTPAdapter(max_retries=0, pool_connections=connections, pool_maxsize=connections)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = user_agent
        self._environment: dict[tuple[Any, ...], _Settings] = {}

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> _Settings:
        if not self.trust_env or proxies or verify is not None or cert is not None or not isinstance(url, str):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname, parts.port, stream)
        found = self._environment.get(key)
        if found is None:  # two threads may both read it: the same answer, once more
            found = self._environment[key] = super().merge_environment_settings(url, {}, stream, None, None)
        settings = found.copy()
        settings["proxies"] = dict(found["proxies"])  # requests adds to it: the cached one stays as read
        return settings
