"""Keep secrets out of every output.

Credentials reach releaser inside URLs (`https://user:token@host/simple`, possibly
expanded from `${VARS}`), from `~/.netrc` or from the environment. Everything that
leaves the process, the lockfile, exports, records, log lines, errors, passes
through here first; so do a command line and the end of a command's output
when they are shown (`shown_command`, `output_tail`).
"""

from __future__ import annotations

import re
import shlex
import threading
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_known: set[str] = set()
_lock = threading.Lock()


def strip_credentials(url: str) -> str:
    """The URL without its `user:password@` part, for anything that is written down."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def remember_secrets(url: str) -> None:
    """Note the credentials inside `url` so `scrub` removes them wherever they appear."""
    netloc = urlsplit(url).netloc
    if "@" not in netloc:
        return
    userinfo = netloc.rpartition("@")[0]
    password = userinfo.partition(":")[2]
    with _lock:
        # Without a password, the user part is the secret (`https://TOKEN@host`).
        for secret in (userinfo, unquote(userinfo), password, unquote(password)):
            if len(secret) >= 3:
                _known.add(secret)


def scrub(text: str) -> str:
    """`text` with every URL's userinfo and every remembered secret replaced by `***`."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def shown_command(argv: Sequence[str]) -> str:
    """A command line as a shell would take it, scrubbed."""
    return scrub(shlex.join(argv))


def output_tail(text: str, lines: int = 20) -> str:
    """The last `lines` non-blank lines of a command's output, scrubbed and indented with `  | `."""
    kept = [line.rstrip() for line in scrub(text).splitlines() if line.strip()][-lines:]
    return "\n".join(f"  | {line}" for line in kept) or "  | (no output)"
