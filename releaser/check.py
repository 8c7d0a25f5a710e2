"""`releaser check`: is release.lock still the exact, honest pinning of its inputs?

The CI gate. Offline by default and fast: it reads release.toml, the requirement
files and the lock, and imports nothing heavier than `packaging` (no pip, no
requests). It finds

- `missing-lock`: there is no lock;
- `tampered`: the entries do not match the header's content-digest (a hand edit);
- `stale`: an input changed since the lock was written, naming what changed in it
  (a requirement added, removed or changed; an index; a Maven dependency; a git ref;
  an artifact URL), from the entries the lock header records for each input;
- `floating`: an entry that is not exact and hashed (see `floats`);
- `uncovered`: a direct input the lock does not pin.

With `online=True` it also asks upstream whether every pin is still what it was:
each source's `Source.verify`, or, for a source without one, `verify_generic`
(every artifact URL still serves the recorded sha256; every git commit still exists).

`releaser cut` refuses on the same `Verdict`, so the two cannot disagree.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from contextlib import nullcontext
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from releaser import lockfile
from releaser.config import CONFIG_NAME, ReleaseConfig
from releaser.credentials import configured_userinfo, with_userinfo
from releaser.errors import UpstreamError, UpstreamMissing
from releaser.lockfile import KINDS, EntryValue, InputRecord, Lock, Pin
from releaser.locking import input_records
from releaser.redact import scrub, strip_credentials
from releaser.sources import Source, sources_for
from releaser.verdict import LOCK, Finding, Verdict, upgrade

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from releaser.http import Http

__all__ = ["Finding", "Verdict", "check", "floats", "verify_generic"]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a full SHA-1 or SHA-256 object id
GIT_TIMEOUT = 120  # seconds for one git command against a remote

_LABELS = {
    "requirements": "requirement",
    "constraints": "constraint",
    "python": "[python]",
    "maven": "Maven dependency",
    "git": "git",
    "artifact": "artifact",
}


def check(config: ReleaseConfig, *, online: bool = False, http: Http | None = None) -> Verdict:
    """The verdict on `config`'s lockfile. Reads, never writes.

    Raises ConfigError (exit 2) for a malformed release.toml, requirement file or
    lock; with `online`, UpstreamError (exit 3) when upstream cannot be reached at all.
    """
    sources = sources_for(config)
    current = input_records(config, sources)  # parses and validates every input
    name = config.release.lockfile
    found = lockfile.read_recorded(config.lockfile)
    if found is None:
        missing = Finding("missing-lock", name, f"there is no {name}: nothing is pinned yet", LOCK)
        return Verdict(name, (missing,), inputs=len(current), online=online)
    lock, recorded = found
    findings = [
        *tampered(lock, recorded, name),
        *stale(current, lock),
        *floating(lock),
        *uncovered(config, sources, lock, name),
    ]
    if online:
        findings += verify_online(config, sources, lock, http)
    return Verdict(name, tuple(findings), pins=len(lock.pins), inputs=len(current), online=online)


# -- offline ------------------------------------------------------------------


def tampered(lock: Lock, recorded: object, name: str = "release.lock") -> list[Finding]:
    """The header's content-digest must be the digest of the entries that follow it."""
    if not isinstance(recorded, str):
        why = "has no content-digest in its header: it was not written by `releaser lock`, or was edited by hand"
        return [Finding("tampered", name, why)]
    if recorded != lock.content_digest:
        return [Finding("tampered", name, "was edited by hand: its entries do not match the header's content-digest")]
    return []


def stale(current: Mapping[str, InputRecord], lock: Lock) -> list[Finding]:
    """Every input whose digest moved, with what changed in it, entry by entry."""
    found = []
    for name in sorted(current.keys() | lock.inputs.keys()):
        now, then = current.get(name), lock.inputs.get(name)
        if then is None:
            found.append(Finding("stale", name, "is an input now, but the lock was not made from it"))
        elif now is None:
            found.append(Finding("stale", name, "is no longer an input, but the lock was made from it"))
        elif now.digest != then.digest:
            changes = entry_changes(then.entries, now.entries) or ["changed since the lock was written"]
            found += [Finding("stale", name, change) for change in changes]
    return found


def entry_changes(
    old: Mapping[str, Mapping[str, EntryValue]], new: Mapping[str, Mapping[str, EntryValue]]
) -> list[str]:
    """One line per entry added, removed or changed between two records of an input."""
    lines = []
    for group in sorted(old.keys() | new.keys()):
        before, after = old.get(group, {}), new.get(group, {})
        for key in sorted(before.keys() | after.keys()):
            if before.get(key) != after.get(key):
                lines.append(_describe(group, key, before.get(key), after.get(key)))
    return lines


def _describe(group: str, key: str, before: EntryValue | None, after: EntryValue | None) -> str:
    label = _LABELS.get(group, group)
    if group in ("requirements", "constraints"):  # the value names the requirement itself
        if before is None:
            return f"{label} added: {after}"
        if after is None:
            return f"{label} removed: {before}"
        return f"{label} changed: {before} -> {after}"
    if before is None:
        return f"{label} {key} added: {_show(after)}"
    if after is None:
        return f"{label} {key} removed (was {_show(before)})"
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        fields = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        moved = ", ".join(f"{k} {before.get(k, '(none)')} -> {after.get(k, '(none)')}" for k in fields)
        return f"{label} {key} changed: {moved}"
    return f"{label} {key} changed: {_show(before)} -> {_show(after)}"


def _show(value: EntryValue | None) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {v}" for k, v in sorted(value.items()))
    return str(value)


def floating(lock: Lock) -> list[Finding]:
    """Every entry whose meaning could change without a commit here."""
    found = []
    for pin in lock.pins:
        reason = floats(pin)
        if reason:
            found.append(Finding("floating", f"{pin.kind} {pin.name} {pin.version}", reason, upgrade(pin.name)))
    return found


def floats(pin: Pin) -> str | None:
    """Why `pin` is not exact, or None when it is.

    python: an exact PEP 440 version with files, each with a sha256 (a direct
    reference to git: a full commit id instead of files; to an archive whose name
    has no version: that archive's sha256 as its version). maven: no -SNAPSHOT (a
    timestamped build is fine), no range, LATEST or RELEASE, and a sha256. git: a
    full commit id. artifact: a sha256.
    """
    unhashed = sorted(a.name for a in pin.artifacts if not _SHA256.fullmatch(a.sha256))
    if unhashed:
        return f"file {unhashed[0]} has no valid sha256"
    version = pin.version
    if pin.kind == "python":
        from packaging.version import InvalidVersion, Version

        commit = _commit_of(pin)
        if commit is not None and not _COMMIT.fullmatch(commit):
            return f"commit {commit!r} is not a full commit id"
        if commit is None and not pin.artifacts:
            return "has no hashed files"
        try:
            Version(version)
        except InvalidVersion:
            if version not in {commit, *(a.sha256 for a in pin.artifacts)}:
                return f"version {version!r} is not an exact version"
    elif pin.kind == "maven":
        if version.endswith("-SNAPSHOT"):
            return "is a -SNAPSHOT, not a timestamped build"
        if version in ("LATEST", "RELEASE"):
            return f"{version} is whatever the repository says today"
        if version[:1] in "[(" or "," in version:
            return "is a version range"
        if not pin.artifacts:
            return "has no sha256"
    elif pin.kind == "git":
        if not _COMMIT.fullmatch(version):
            return f"{version!r} is not a full commit id (a branch or tag can move)"
    elif pin.kind == "artifact" and not pin.artifacts:
        return "has no recorded sha256"
    return None


def uncovered(config: ReleaseConfig, sources: list[Source], lock: Lock, name: str = "release.lock") -> list[Finding]:
    """Every direct input the lock does not pin."""
    pinned = {(p.kind, p.name) for p in lock.pins}
    found = []
    for source in sources:
        for item in getattr(source, "parsed", ()) if source.kind == "python" else ():
            for req in item.requirements:
                if _applies(req) and ("python", canonicalize_name(req.name)) not in pinned:
                    found.append(Finding("uncovered", item.name, f"requires {_req(req)}, which {name} does not pin"))
    for block in config.maven:
        for coordinate in block.dependencies:
            if ("maven", coordinate.key) not in pinned and ("maven", str(coordinate)) not in pinned:
                found.append(Finding("uncovered", CONFIG_NAME, f"Maven dependency {coordinate} is not pinned in {name}"))
    for kind, items in (("git", config.git), ("artifact", config.artifacts)):
        for item in items:
            if (kind, item.name) not in pinned:
                found.append(Finding("uncovered", CONFIG_NAME, f"{kind} {item.name} is not pinned in {name}"))
    return found


def _applies(req: Requirement) -> bool:
    """False when the requirement's environment marker excludes this interpreter."""
    if req.marker is None:
        return True
    try:
        return bool(req.marker.evaluate({"extra": ""}))
    except Exception:  # an undecidable marker: better to ask for a pin than to miss one
        return True


def _req(req: Requirement) -> str:
    text = str(req)
    return text.replace(req.url, strip_credentials(req.url)) if req.url else text


# -- online -------------------------------------------------------------------


def verify_online(config: ReleaseConfig, sources: list[Source], lock: Lock, http: Http | None = None) -> list[Finding]:
    """Ask upstream about every pin, each kind through its source (or generically)."""
    from releaser.http import Http

    by_kind = {s.kind: s for s in sources}
    found: list[Finding] = []
    with nullcontext(http) if http is not None else Http() as session:
        for kind in KINDS:
            pins = lock.of_kind(kind)
            if not pins:
                continue
            source = by_kind.get(kind)
            verdicts = source.verify(pins, session) if source is not None else None
            if verdicts is None:
                userinfo = configured_userinfo(config)
                remotes = {g.name: g.url for g in config.git}
                verdicts = verify_generic(pins, session, userinfo=userinfo, remotes=remotes)
            found += verdicts
    return found


def verify_generic(
    pins: tuple[Pin, ...],
    http: Http,
    *,
    userinfo: Mapping[str, str] | None = None,
    remotes: Mapping[str, str] | None = None,
) -> list[Finding]:
    """What can be checked of any pin: its files' bytes and its commit, if it has one.

    Each http(s) artifact is downloaded (to nowhere) and hashed: a 404/410 is `gone`,
    other bytes are `hash-changed`. Each commit (a git pin's version, a Python direct
    reference's `commit`) must still be listed by its remote at some ref or be
    fetchable by id; a git ref that moved on is `newer` (information).

    `userinfo` gives credentials by host (the lock records URLs without them);
    `remotes` gives a git pin's remote URL by name, as release.toml writes it.
    """
    userinfo = userinfo or {}
    remotes = remotes or {}
    files = [(pin, a) for pin in pins for a in pin.artifacts if urlsplit(a.url).scheme in ("http", "https")]

    def artifact(item: tuple[Pin, lockfile.Artifact]) -> list[Finding]:
        pin, a = item
        subject = f"{pin.kind} {pin.name} {pin.version}"
        try:
            sha256, _ = http.download(with_userinfo(a.url, userinfo), None, what=f"{subject} file {a.name}")
        except UpstreamMissing:
            return [Finding("gone", subject, f"{a.name} is gone: {a.url} answers 404/410", upgrade(pin.name))]
        if sha256 != a.sha256:
            message = f"{a.url} now serves other bytes (sha256 {sha256[:12]}..., locked {a.sha256[:12]}...); find out why before relocking"
            return [Finding("hash-changed", subject, message, upgrade(pin.name))]
        return []

    def commit(pin: Pin) -> list[Finding]:
        url = remotes.get(pin.name) if pin.kind == "git" else None
        return _verify_commit(pin, url or with_userinfo(pin.source.removeprefix("git+"), userinfo))

    commits = [p for p in pins if _commit_of(p)]
    results = http.map(artifact, files) + http.map(commit, commits)
    return [finding for found in results for finding in found]


def _commit_of(pin: Pin) -> str | None:
    """The commit a pin stands for: a git pin's version, a Python git reference's `commit`."""
    return pin.version if pin.kind == "git" else getattr(pin, "commit", None)


def _verify_commit(pin: Pin, url: str) -> list[Finding]:
    subject = f"{pin.kind} {pin.name} {pin.version}"
    commit = _commit_of(pin) or pin.version
    listing = _git(["ls-remote", "--", url], f"git {pin.name}: cannot list {strip_credentials(url)}")
    shas: dict[str, str] = {}  # ref -> commit (tags peeled)
    for line in listing.splitlines():
        sha, _, ref = line.partition("\t")
        if ref.endswith("^{}"):
            shas[ref[:-3]] = sha  # a tag's peeled commit, rather than the tag object
        else:
            shas.setdefault(ref, sha)
    found: list[Finding] = []
    if commit not in shas.values() and not _fetchable(url, commit):
        where = strip_credentials(url)
        found.append(Finding("gone", subject, f"commit {commit} is gone from {where}", upgrade(pin.name)))
    ref = (pin.requested or "") if pin.kind == "git" else ""  # a Python reference's ref is inside its URL
    for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
        if ref and not _COMMIT.fullmatch(ref) and candidate in shas:
            if shas[candidate] != commit:
                message = f"{ref} has moved on to {shas[candidate][:12]} (locked {commit[:12]})"
                found.append(Finding("newer", subject, message, upgrade(pin.name)))
            break
    return found


def _fetchable(url: str, commit: str) -> bool:
    """Whether the remote still serves `commit` (unadvertised commits, e.g. after a force-push)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="releaser-check-") as tmp:
        _git(["init", "--bare", "-q", tmp], "git init of a scratch repository failed")
        try:
            done = subprocess.run(
                ["git", "-C", tmp, "fetch", "-q", "--depth=1", "--", url, commit],
                capture_output=True, text=True, timeout=GIT_TIMEOUT, env=_git_env(),
            )
        except subprocess.TimeoutExpired:
            raise UpstreamError(f"git fetch from {strip_credentials(url)} did not finish within {GIT_TIMEOUT} s") from None
        return done.returncode == 0


def _git(args: list[str], failure: str) -> str:
    import subprocess  # only --online runs git

    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, env=_git_env())
    except FileNotFoundError:
        raise UpstreamError("git is not installed; `releaser check --online` needs it for git pins") from None
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"{failure}: did not finish within {GIT_TIMEOUT} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = scrub(lines[-1] if lines else f"exit {done.returncode}")
        raise UpstreamError(f"{failure}: {reason}")
    return done.stdout


def _git_env() -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C"}
