"""Credentials put back on a stripped URL.

The lock and the records keep every URL without its `user:password@` part
(`redact.strip_credentials`); release.toml gives them, possibly from `${VARS}`.
Whatever fetches a locked URL again (`check --online`, `cut`) asks here for the
credentials release.toml configures for that URL's host.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from releaser.core.redact import strip_credentials

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig


def configured_userinfo(config: ReleaseConfig) -> dict[str, str]:
    """host[:port] -> `user:password` of every URL release.toml names with credentials."""
    urls = [url for inputs in config.inputs.values() for url in inputs.urls()]
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


# -- credentials for a child process, never on its command line -------------------
#
# Every local user can read another's command lines (/proc/PID/cmdline), but not its
# environment or its private files. So pip gets credentials from a netrc file of
# mode 0600 in the process's private folder (NETRC; `privatefiles`: removed when the
# process ends, or by the next run after a kill -9), and git from a credential helper
# that reads them from its environment.


def private_netrc(urls: Iterable[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """(`urls` without credentials, the environment that gives pip their credentials by host).

    pip (through requests) reads the file NETRC names; netrc is keyed by host name,
    so two URLs of one host with different credentials are refused.
    """
    from releaser.core.errors import ConfigError

    stripped: list[str] = []
    by_host: dict[str, tuple[str, str]] = {}
    for url in urls:
        stripped.append(strip_credentials(url))
        parts = urlsplit(url)
        if parts.username is None:
            continue
        login = (unquote(parts.username), unquote(parts.password or ""))
        if by_host.setdefault(parts.hostname or "", login) != login:
            raise ConfigError(
                f"two URLs of {parts.hostname} carry different credentials; releaser hands pip one set per host"
            )
    if not by_host:
        return tuple(stripped), {}
    from releaser.plumbing.privatefiles import private_folder

    fd, name = tempfile.mkstemp(prefix="releaser-", suffix=".netrc", dir=private_folder())  # mode 0600
    path = Path(name)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(_users_netrc())  # its hosts still work; a later entry for a host wins
        for host, (user, password) in sorted(by_host.items()):
            f.write(f"machine {host} login {_quoted(user)} password {_quoted(password)}\n")
    return tuple(stripped), {"NETRC": str(path)}


def git_credentials(url: str) -> tuple[str, dict[str, str]]:
    """(`url` without credentials, the environment in which git finds them: a credential helper reading it).

    The helper answers only for the URL's own scheme, host and port: a server that redirects
    git elsewhere (another host, port or scheme) gets nothing, as plain git would send it nothing.
    """
    parts = urlsplit(url)
    if parts.username is None:
        return url, {}
    # git asks with `protocol=` and `host=` (host[:port], as in the URL) lines on stdin.
    helper = (
        "!f() { test \"$1\" = get || return 0; p=; h=; "
        "while IFS= read -r l; do case \"$l\" in protocol=*) p=${l#protocol=};; host=*) h=${l#host=};; esac; done; "
        "test \"$p\" = \"$RELEASER_GIT_PROTOCOL\" && test \"$h\" = \"$RELEASER_GIT_HOST\" || return 0; "
        "printf 'username=%s\\npassword=%s\\n' \"$RELEASER_GIT_USERNAME\" \"$RELEASER_GIT_PASSWORD\"; }; f"
    )
    return strip_credentials(url), {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "credential.helper",
        "GIT_CONFIG_VALUE_0": helper,
        "RELEASER_GIT_PROTOCOL": parts.scheme.lower(),
        "RELEASER_GIT_HOST": parts.netloc.rpartition("@")[2],
        "RELEASER_GIT_USERNAME": unquote(parts.username),
        "RELEASER_GIT_PASSWORD": unquote(parts.password or ""),
    }


def _users_netrc() -> str:
    """The text of the netrc pip would read otherwise ($NETRC, else ~/.netrc), ending in a blank line."""
    try:
        text = Path(os.environ.get("NETRC") or Path.home() / ".netrc").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, RuntimeError):
        return ""
    return text.rstrip("\n") + "\n\n" if text.strip() else ""


def _quoted(token: str) -> str:
    return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + '"'
