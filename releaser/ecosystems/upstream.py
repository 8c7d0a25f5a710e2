"""Re-verifying pins upstream, for `releaser check --online`: what holds for any kind.

Each http(s) artifact is downloaded (to nowhere) and hashed: a 404/410 is `gone`,
other bytes are `hash-changed`. Each commit (a git pin's version, a Python direct
reference's `commit`) must still exist on its remote, asked through the same
`GitRemote` that pinned it; a git ref that moved on is `newer` (information).
Sources add what only they know (an index's yanked flags, a newer SNAPSHOT build)
in their `Source.verify`, on top of this.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from releaser.core.errors import UpstreamError, UpstreamMissing
from releaser.core.lockfile import Artifact, Pin
from releaser.core.verdict import Finding, upgrade
from releaser.plumbing.credentials import with_userinfo
from releaser.plumbing.http import Http


def verify_generic(
    pins: tuple[Pin, ...],
    http: Http,
    *,
    userinfo: Mapping[str, str] | None = None,
    remotes: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Every pin's files by their bytes, and its commit, if it has one, by its remote.

    `userinfo` gives credentials by host (the lock records URLs without them);
    `remotes` gives a git pin's remote URL by name, as release.toml writes it (only git's ecosystem
    passes them).
    """
    userinfo = userinfo or {}
    remotes = remotes or {}
    files = [(pin, a) for pin in pins for a in pin.artifacts if urlsplit(a.url).scheme in ("http", "https")]

    def artifact(item: tuple[Pin, Artifact]) -> list[Finding]:
        return verify_file(*item, http, userinfo)

    def commit(pin: Pin) -> list[Finding]:
        url = remotes.get(pin.name)
        return verify_commit(pin, url or with_userinfo(pin.source.removeprefix("git+"), userinfo))

    commits = [p for p in pins if commit_of(p)]
    results = http.map(artifact, files) + http.map(commit, commits)
    return [finding for found in results for finding in found]


def verify_file(pin: Pin, a: Artifact, http: Http, userinfo: Mapping[str, str]) -> list[Finding]:
    subject = f"{pin.kind} {pin.name} {pin.version}"
    try:
        sha256, _ = http.download(with_userinfo(a.url, userinfo), None, what=f"{subject} file {a.name}")
    except UpstreamMissing:
        return [Finding("gone", subject, f"{a.name} is gone: {a.url} answers 404/410", upgrade(pin.name))]
    if sha256 != a.sha256:
        message = f"{a.url} now serves other bytes (sha256 {sha256[:12]}..., locked {a.sha256[:12]}...); find out why before relocking"
        return [Finding("hash-changed", subject, message, upgrade(pin.name))]
    return []


def commit_of(pin: Pin) -> str | None:
    """The commit a pin stands for: a git pin's version, a Python git reference's `commit`."""
    from releaser.ecosystems import ecosystem

    return ecosystem(pin.kind).commit(pin)


def requested_ref(pin: Pin) -> str | None:
    """The ref a pin's commit was asked for by: a [[git]] pin's `requested`, or the `@ref` inside
    a Python reference's `git+URL@ref` (the remote's HEAD when it names none)."""
    if pin.kind == "git":
        return pin.requested
    from releaser.ecosystems.python.direct import requested_vcs

    found = requested_vcs(pin)
    return (found[0] or "HEAD") if found else None


def verify_commit(pin: Pin, url: str) -> list[Finding]:
    """`gone` when the remote no longer has the commit; `newer` when the ref it was asked by moved on."""
    from releaser.ecosystems.git.ids import FULL_COMMIT_ID
    from releaser.ecosystems.git.source import GitRemote

    subject = f"{pin.kind} {pin.name} {pin.version}"
    commit = commit_of(pin) or pin.version
    with tempfile.TemporaryDirectory(prefix="releaser-check-") as tmp:
        remote = GitRemote(url, what=f"{pin.kind} {pin.name}", workdir=Path(tmp))
        if remote.commit(commit) is None:
            return [Finding("gone", subject, f"commit {commit} is gone from {remote.display}", upgrade(pin.name))]
        ref = requested_ref(pin)
        if not ref or FULL_COMMIT_ID.fullmatch(ref.lower()):
            return []
        try:
            now = remote.resolve(ref).sha
        except UpstreamError:
            return [Finding("newer", subject, f"{ref} is no longer on {remote.display} (the locked commit is)", upgrade(pin.name))]
    if now != commit:
        return [Finding("newer", subject, f"{ref} has moved on to {now[:12]} (locked {commit[:12]})", upgrade(pin.name))]
    return []
