"""Python direct references, pinned before pip-compile sees them.

pip-compile copies `pkg @ git+https://host/repo.git@main` to its output as it
is: the branch would float. So releaser resolves each direct reference first
and hands pip-compile the exact thing:

- `pkg @ git+URL@ref` -> `pkg @ git+URL@<full commit id>` (with the git source's
  `GitRemote`: dated, kept on relock while the commit exists, moved by --upgrade);
- `pkg @ https://host/pkg-1.0.tar.gz` (or a wheel) -> the URL with
  `#sha256=<hex>` of the bytes downloaded now (with the URL source's helpers).

In the lock, a VCS pin has no artifact: its `commit` is the hash. An archive pin
has one artifact with the file's sha256 and size. The version is the package's
own (the wheel or sdist file name, else its metadata as pip reads it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.core.redact import remember_secrets, scrub, strip_credentials
from releaser.ecosystems.base import LockRequest
from releaser.ecosystems.git.settings import git_url_kind
from releaser.ecosystems.git.source import GitRemote, keeps
from releaser.ecosystems.python.index import filename_version
from releaser.ecosystems.python.requirements import shown
from releaser.ecosystems.python.settings import PythonInputs
from releaser.ecosystems.url.source import check_cutoff, fetch, file_name

_ARCHIVE_SCHEMES = ("http", "https")
_HASH_NAMES = ("sha1", "sha224", "sha256", "sha384", "sha512", "md5")


@dataclass(frozen=True)
class Resolved:
    """One direct reference, pinned: what pip-compile gets and what the lock records."""

    name: str  # canonical
    line: str  # the requirement handed to pip-compile (may carry credentials: never write it)
    pin: Pin  # complete but for `version` when `version_known` is False
    version_known: bool


class DirectReferences:
    """Every `name @ url` requirement of the Python inputs, resolved to something exact."""

    def __init__(self, requirements: list[Requirement], inputs: PythonInputs, request: LockRequest) -> None:
        self.inputs = inputs
        self.request = request
        wanted: dict[str, Requirement] = {}
        for req in requirements:
            if not req.url:
                continue
            name = canonicalize_name(req.name)
            if name in wanted and str(wanted[name]) != str(req):
                raise ConfigError(f"{req.name} is asked for by two different direct references: {shown(wanted[name])} and {shown(req)}")
            wanted[name] = req
        previous = {p.name: p for p in request.previous}
        items = sorted(wanted.items())
        self.resolved: dict[str, Resolved] = dict(
            zip((n for n, _ in items), request.http.map(lambda item: self._resolve(item[1], previous.get(item[0])), items))
        )

    @property
    def names(self) -> set[str]:
        return set(self.resolved)

    def line(self, req: Requirement) -> str:
        """What pip-compile gets for `req`: pinned when it is a direct reference."""
        if not req.url:
            return str(req)
        return self.resolved[canonicalize_name(req.name)].line

    def pins(self, compiled: dict[str, str], work: Path) -> list[Pin]:
        """The lock's pins for the direct references pip-compile kept (`compiled`: name -> its URL)."""
        unknown = sorted(set(compiled) - set(self.resolved))
        if unknown:
            name = unknown[0]
            raise UpstreamError(
                f"pip-compile pinned {name} to the direct reference {scrub(strip_credentials(compiled[name]))}, which no "
                f"requirement names; add `{name} @ <url>` to the requirements so releaser can pin it"
            )
        chosen = [self.resolved[n] for n in sorted(compiled)]
        versions = self._versions([r for r in chosen if not r.version_known], work)
        return [r.pin if r.version_known else replace(r.pin, version=versions.get(r.name) or r.pin.version) for r in chosen]

    # -- resolution ---------------------------------------------------------

    def _resolve(self, req: Requirement, previous: Pin | None) -> Resolved:
        url = req.url or ""
        remember_secrets(url.removeprefix("git+"))
        scheme = urlsplit(url).scheme.lower()
        if scheme.startswith("git+"):
            return self._resolve_git(req, previous)
        if "+" in scheme:
            raise ConfigError(f"{shown(req)}: only git is supported for VCS references (git+https://..., git+ssh://...)")
        if scheme not in _ARCHIVE_SCHEMES:
            raise ConfigError(f"{shown(req)}: direct references must be git+ or http(s) URLs (a local file floats)")
        return self._resolve_archive(req, previous)

    def _resolve_git(self, req: Requirement, previous: Pin | None) -> Resolved:
        name, request = canonicalize_name(req.name), self.request
        repo, ref, fragment = split_vcs_url(req.url or "")
        kind = git_url_kind(repo)
        if kind == "helper" or (kind == "local" and not self.inputs.allow_local):
            raise ConfigError(
                f"{shown(req)}: a local git repository is refused unless [python] allow-local = true"
                if kind == "local" else f"{shown(req)}: a git remote helper is refused"
            )
        remote = GitRemote(repo, what=f"python {name}", workdir=request.workdir / "direct" / name)
        if previous is not None and previous.commit and keeps(previous, shown(req), strip_credentials(repo), name, request):
            if remote.commit(previous.commit) is not None:
                return Resolved(name, _with_url(req, _vcs_url(repo, previous.commit, fragment)), previous, True)
        commit = remote.pin(ref or "HEAD", cutoff=request.as_of, dated=request.dated)
        pin = Pin(
            kind="python",
            name=name,
            version=commit.sha,  # replaced by the package's version once pip has read it
            source=strip_credentials(repo),
            requested=shown(req),
            date=commit.date,
            commit=commit.sha,
        )
        return Resolved(name, _with_url(req, _vcs_url(repo, commit.sha, fragment)), pin, False)

    def _resolve_archive(self, req: Requirement, previous: Pin | None) -> Resolved:
        name, request = canonicalize_name(req.name), self.request
        base, _, fragment = (req.url or "").partition("#")
        what = f"python {name}"
        filename = file_name(base, "", what=what)
        if not filename:
            raise ConfigError(f"{shown(req)}: the URL must end in the file name of a wheel or sdist")
        got = fetch(request.http, base, request.workdir / "direct" / name / filename, what=what)
        params = [p for p in fragment.split("&") if p]
        for param in params:
            algo, _, value = param.partition("=")
            if algo == "sha256" and value.lower() != got.sha256:
                raise UpstreamError(
                    f"{what}: {strip_credentials(base)} has sha256 {got.sha256}, but the requirement says {value}; nothing was recorded"
                )
        kept = [p for p in params if p.partition("=")[0] not in _HASH_NAMES]
        line = _with_url(req, base + "#" + "&".join([f"sha256={got.sha256}", *kept]))
        upgrading = request.upgrade_all or name in request.upgrade
        version = _filename_version(filename, name)
        if (
            previous is not None
            and not upgrading
            and previous.requested == shown(req)
            and [a.sha256 for a in previous.artifacts] == [got.sha256]
        ):
            pin = previous
        else:
            url = strip_credentials(base)
            pin = Pin(
                kind="python",
                name=name,
                version=version or got.sha256,
                source=url,
                requested=shown(req),
                date=got.date,
                artifacts=(Artifact(filename, url, got.sha256, got.size, got.date),),
            )
        if request.dated:
            check_cutoff(pin.date, request.as_of, what=what, url=base)
        return Resolved(name, line, pin, pin is previous or version is not None)

    # -- versions -----------------------------------------------------------

    def _versions(self, chosen: list[Resolved], work: Path) -> dict[str, str]:
        """name -> version, as pip reads each package's metadata (one `pip install --dry-run --report`)."""
        if not chosen:
            return {}
        from releaser.plumbing.credentials import private_netrc
        from releaser.plumbing.piprun import (
            cache_dir,
            index_options,
            out_of_memory,
            over_ceiling,
            pip_errors,
            resolve_deadline,
            resolver_memory,
            run_pip,
        )

        indexes, credentials = private_netrc(self.inputs.index_urls)
        source, report = work / "direct.txt", work / "direct-report.json"
        source.write_text("".join(r.line + "\n" for r in chosen), encoding="utf-8")
        args = [
            "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
            "--report", str(report), "--cache-dir", str(cache_dir()), "--timeout", "30", "--retries", "3",
            *index_options(indexes),
        ]
        if self.request.dated:
            args += ["--uploaded-prior-to", self.request.as_of.isoformat()]
        args += ["-r", str(source)]
        memory = resolver_memory()
        done = run_pip(
            args, timeout=resolve_deadline(), timed_out="pip did not read the direct references' metadata", env=credentials,
            memory=memory,
        )
        if done.returncode != 0 and out_of_memory(done.stderr):
            raise over_ceiling("pip", indexes, memory)
        if done.returncode != 0:
            errors = pip_errors(done.stderr)
            raise UpstreamError(f"pip could not read the metadata of {', '.join(r.name for r in chosen)}: {' / '.join(errors[:2])}")
        try:
            items = json.loads(report.read_text(encoding="utf-8")).get("install", [])
            found = {canonicalize_name(i["metadata"]["name"]): str(i["metadata"]["version"]) for i in items}
            # what a package says of itself reaches the lock only as a valid version
            return {name: version for name, version in found.items() if _is_version(version)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return {}  # not determinable: the commit id or sha256 stays the version


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def split_vcs_url(url: str) -> tuple[str, str | None, str]:
    """`git+URL@ref#fragment` -> (URL, ref or None, fragment)."""
    base, _, fragment = url.partition("#")
    parts = urlsplit(base.removeprefix("git+"))
    path, ref = parts.path, None
    if "@" in path:
        path, _, ref = path.rpartition("@")
    return urlunsplit(parts._replace(path=path)), ref or None, fragment


def requested_vcs(pin: Pin) -> tuple[str | None, str] | None:
    """(the ref or None, the #fragment) of the `git+URL@ref` a Python pin was asked for by; None for others."""
    from packaging.requirements import InvalidRequirement

    try:
        url = Requirement(pin.requested or "").url or ""
    except InvalidRequirement:
        return None
    if not url.startswith("git+"):
        return None
    _repo, ref, fragment = split_vcs_url(url)
    return ref, fragment


def _vcs_url(repo: str, commit: str, fragment: str) -> str:
    return f"git+{repo}@{commit}" + (f"#{fragment}" if fragment else "")


def _with_url(req: Requirement, url: str) -> str:
    pinned = Requirement(str(req))
    pinned.url = url
    return str(pinned)


def _filename_version(filename: str, name: str) -> str | None:
    version = filename_version(filename, name)
    return str(version) if version is not None else None
