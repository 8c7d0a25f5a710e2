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
from collections.abc import Callable
from urllib.parse import quote, quote_plus, unquote, urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# The userinfo of a URL as written, before `${VARS}` are expanded (a reference holds no `/`).
_WRITTEN_USERINFO = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?P<userinfo>[^/?#]*)@")
# What a client may leave unencoded inside userinfo (RFC 3986 sub-delims), besides letters and digits.
_USERINFO_SAFE = "!$&'()*+,;=~"
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
    user, _, password = userinfo.partition(":")
    # Without a password, the user part is the secret (`https://TOKEN@host`).
    remember_values(userinfo, password)
    import base64  # here: `releaser check` reads release.toml through this module

    # The form an HTTP client sends it in (`Authorization: Basic ...`), should anything echo it.
    basic = f"{unquote(user)}:{unquote(password)}".encode()
    remember_values(base64.b64encode(basic).decode(), base64.urlsafe_b64encode(basic).decode())


def remember_values(*secrets: str) -> None:
    """Note each secret, in every form it may be written in (raw, percent-encoded, percent-decoded)."""
    forms = set()
    for secret in secrets:
        forms.update((secret, unquote(secret), quote(secret, safe=""), quote_plus(secret), quote(secret, safe=_USERINFO_SAFE)))
    with _lock:
        _known.update(form for form in forms if len(form) >= 3)


def expand_references(url: str, lookup: Callable[[str], str | None]) -> str:
    """`url` with each `${VAR}` replaced by `lookup(VAR)` (None: left as written).

    A value that lands in the URL's userinfo is a credential as it is: it is remembered and
    percent-encoded whole (a token with `/`, `?`, `#`, `@` or `%` would otherwise end the
    userinfo early, or be decoded into another token).
    """
    written = _WRITTEN_USERINFO.match(url)
    userinfo_end = written.end("userinfo") if written else -1

    def value(match: re.Match[str]) -> str:
        found = lookup(match.group(1))
        if found is None:
            return match.group(0)
        if match.start() < userinfo_end:
            remember_values(found)
            return quote(found, safe="")
        return found

    return _ENV_REF.sub(value, url)


def scrub(text: str) -> str:
    """`text` with every URL's userinfo and every remembered secret replaced by `***`."""
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    with _lock:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def shown_command(argv: tuple[str, ...] | list[str]) -> str:
    """A command line as a shell would take it, scrubbed."""
    return scrub(shlex.join(argv))


def output_tail(text: str, lines: int = 20) -> str:
    """The last `lines` non-blank lines of a command's output, scrubbed and indented with `  | `."""
    kept = [line.rstrip() for line in scrub(text).splitlines() if line.strip()][-lines:]
    return "\n".join(f"  | {line}" for line in kept) or "  | (no output)"
