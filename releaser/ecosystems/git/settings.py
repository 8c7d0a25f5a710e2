"""release.toml's `[[git]]` tables: a repository and the branch, tag or commit of it to pin."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from releaser.core.config import ConfigReader, KindInputs
from releaser.core.redact import strip_credentials

KIND = "git"


@dataclass(frozen=True)
class GitInput:
    name: str
    url: str
    ref: str


@dataclass(frozen=True)
class GitRepositories(KindInputs):
    items: tuple[GitInput, ...]

    def urls(self) -> tuple[str, ...]:
        return tuple(g.url for g in self.items)


def parse(r: ConfigReader, data: dict[str, Any]) -> GitRepositories | None:
    items = r.unique(_table(r, t, i) for i, t in enumerate(r._array(data, KIND)))
    return GitRepositories(items) if items else None


def _table(r: ConfigReader, t: dict[str, Any], i: int) -> GitInput:
    where, section = f"[[git]] #{i + 1}", (KIND, i)
    r._no_unknown(t, {"name", "url", "ref", "allow-local"}, where, KIND, i)
    name = r.name(t, where, section)
    url = r.expand(r._get(t, "url", str, where, section), where, "url", section)
    refuse_unsafe_remote(r, url, r._get(t, "allow-local", bool, where, section, default=False), where, "url", section)
    ref = r._get(t, "ref", str, where, section)
    if not ref.strip() or ref.startswith("-"):
        r._fail(where, "ref", f"{ref!r} is not a branch, tag or commit", section)
    return GitInput(name, url, ref)


def refuse_unsafe_remote(r: ConfigReader, url: str, allow_local: bool, where: str, key: str, section: Any) -> None:
    """A remote helper always, a local repository unless `allow_local`: refused, naming `key`."""
    kind = git_url_kind(url)
    if kind == "helper" or (kind == "local" and not allow_local):
        r._fail(
            where, key, f"{strip_credentials(url)[:80]!r}: " + (
                "a git remote helper (`X::`) runs a command of the input's choosing; refused"
                if kind == "helper" else "a local repository (file:// or a path) is refused unless allow-local = true"
            ), section,
        )


def git_url_kind(url: str) -> str:
    """'remote' (http(s), ssh, git, scp-like user@host:path), 'local' (file://, a path) or 'helper' (ext::...)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*::", url):
        return "helper"
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("http", "https", "ssh", "git", "git+ssh", "ssh+git"):
        return "remote"
    if not scheme and re.match(r"^[^/:]+:", url) and not url.startswith("."):
        return "remote"  # scp-like: [user@]host:path
    return "local"
