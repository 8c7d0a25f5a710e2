"""Credentials put back on a stripped URL.

The lock and the records keep every URL without its `user:password@` part
(`redact.strip_credentials`); release.toml gives them, possibly from `${VARS}`.
Whatever fetches a locked URL again (`check --online`, `cut`) asks here for the
credentials release.toml configures for that URL's host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from releaser.core.redact import strip_credentials

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig


def configured_userinfo(config: ReleaseConfig) -> dict[str, str]:
    """host[:port] -> `user:password` of every URL release.toml names with credentials."""
    urls = [*(config.python.index_urls if config.python else ()), *(m.repository for m in config.maven)]
    urls += [g.url for g in config.git] + [a.url for a in config.artifacts]
    return userinfo_of(urls)


def userinfo_of(urls: Iterable[str]) -> dict[str, str]:
    """host[:port] -> `user:password` of each of `urls` that carries credentials."""
    found = {}
    for url in urls:
        netloc = urlsplit(url).netloc
        if "@" in netloc:
            userinfo, _, host = netloc.rpartition("@")
            found[host] = userinfo
    return found


def with_userinfo(url: str, userinfo: Mapping[str, str]) -> str:
    """`url` with the credentials `userinfo` gives its host (the lock records none)."""
    parts = urlsplit(url)
    if "@" in parts.netloc or parts.netloc not in userinfo:
        return url
    return urlunsplit(parts._replace(netloc=f"{userinfo[parts.netloc]}@{parts.netloc}"))


def as_configured(urls: Iterable[str]) -> dict[str, str]:
    """Each of `urls` without its credentials -> the URL as configured, credentials and all."""
    return {strip_credentials(url): url for url in urls}
