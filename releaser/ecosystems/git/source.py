"""The git source: a branch, tag or commit of a remote, pinned to a full commit id and its time.

releaser runs the real `git` binary. `git ls-remote` turns the ref into a commit
id (annotated tags peeled to their commit); a shallow fetch of that one commit
into a private bare repository gives its committer time. With `--as-of T`, a
branch is read back in time: its history is fetched (commits only, where the
server can filter) and the newest first-parent commit before T is pinned.

git runs so that it cannot prompt (no terminal, no askpass) and so that the
machine's git configuration (system and global: `url.*.insteadOf`, credential
helpers, ...) cannot change which commit is pinned. Credentials come from the
URL (or `~/.netrc`, which git's HTTP transport reads); everything git prints is
scrubbed before it reaches a message, since git echoes URLs in its errors.

`GitRemote` is shared with the Python source, which pins `pkg @ git+URL@ref`
requirements with it.
"""

from __future__ import annotations

import math
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from releaser.core.errors import ResolutionError, UpstreamError
from releaser.core.lockfile import Pin
from releaser.core.redact import remember_secrets, scrub, strip_credentials
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.git.ids import FULL_COMMIT_ID
from releaser.ecosystems.git.settings import GitInput
from releaser.plumbing.credentials import git_credentials
from releaser.plumbing.gitrepo import git_version, run_git

LIST_TIMEOUT = 5 * 60  # seconds for `git ls-remote`
FETCH_TIMEOUT = 30 * 60  # seconds for a fetch: a whole branch history may be large
_HEXISH = re.compile(r"^[0-9a-fA-F]{4,64}$")
# Variables that only choose how to reach a server, never what it answers: kept.


@dataclass(frozen=True)
class Commit:
    sha: str  # the full commit id
    date: datetime  # committer time, UTC


@dataclass(frozen=True)
class RemoteRef:
    """What a ref names on the remote right now."""

    sha: str  # the commit id (annotated tags already peeled)
    refname: str | None  # e.g. refs/heads/main; None when the ref was written as a commit id

    @property
    def moves(self) -> bool:
        """A branch (or HEAD, or any other non-tag ref): it has a history to go back in."""
        return self.refname is not None and not self.refname.startswith("refs/tags/")


def summary(stderr: str) -> str:
    """git's complaint in one scrubbed line: its fatal/error lines, else its last line."""
    lines = [line.strip() for line in scrub(stderr).splitlines() if line.strip()]
    errors = [re.sub(r"^(fatal|error): ", "", line) for line in lines if line.startswith(("fatal:", "error:"))]
    text = " / ".join(dict.fromkeys(errors[:2])) or (lines[-1] if lines else "no output")
    return text[:300]


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class GitRemote:
    """One remote repository, read through private bare repositories under `workdir`.

    `what` names the dependency in every error message ("git windmill").
    """

    def __init__(self, url: str, *, what: str, workdir: Path) -> None:
        remember_secrets(url)  # git echoes URLs: scrub() must know this one's secret
        self.url, self.credentials = git_credentials(url)  # the secret goes through the environment
        self.what = what
        self.workdir = workdir

    @property
    def display(self) -> str:
        return strip_credentials(self.url)

    # -- the three questions ------------------------------------------------

    def resolve(self, ref: str) -> RemoteRef:
        """The commit `ref` names now; a full commit id is taken as it is (`commit` checks it)."""
        if FULL_COMMIT_ID.fullmatch(ref.lower()):
            return RemoteRef(ref.lower(), None)
        candidates = [ref] if ref == "HEAD" or ref.startswith("refs/") else [f"refs/tags/{ref}", f"refs/heads/{ref}"]
        refs = self._list(candidates)
        found = [c for c in candidates if c in refs]
        if not found:
            hint = "; an abbreviated commit id floats: write the full 40-hex id" if _HEXISH.match(ref) else ""
            raise UpstreamError(f"{self.what}: {self.display} has no branch or tag {ref!r}{hint}")
        if len(found) > 1:
            raise UpstreamError(
                f"{self.what}: {ref!r} is both a tag and a branch on {self.display}; "
                f"write ref = \"refs/tags/{ref}\" or \"refs/heads/{ref}\" in release.toml"
            )
        name = found[0]
        return RemoteRef(refs.get(name + "^{}", refs[name]), name)

    def commit(self, sha: str, refname: str | None = None) -> Commit | None:
        """Commit `sha` and its time, or None when the remote does not have it.

        A shallow fetch of the commit itself; a server that refuses to hand out
        commits by id gets asked for the ref's history instead.
        """
        repo = self._bare("shallow")
        done = self._git(["fetch", "--quiet", "--no-tags", "--depth=1", "--", self.url, sha], repo)
        if done.returncode != 0:
            self._list(["HEAD"])  # raises when the remote itself is unreachable
            wanted = [refname] if refname else ["+refs/heads/*:refs/branches/*", "+refs/tags/*:refs/tags/*"]
            repo = self._bare("history")
            self._git(["fetch", "--quiet", "--no-tags", "--filter=tree:0", "--", self.url, *wanted], repo)
        if not self._is_commit(repo, sha):
            return None
        return Commit(sha, self._time(repo, sha))

    def newest_before(self, refname: str, cutoff: datetime) -> Commit | None:
        """The newest commit on `refname`'s first-parent line whose committer time is before `cutoff`."""
        repo = self._bare("history")
        done = self._git(["fetch", "--quiet", "--no-tags", "--filter=tree:0", "--", self.url, f"+{refname}:refs/releaser/tip"], repo)
        if done.returncode != 0:
            raise UpstreamError(f"{self.what}: fetching the history of {refname} from {self.display} failed: {summary(done.stderr)}")
        # --before is inclusive and git times are whole seconds: "< cutoff" is "<= ceil(cutoff) - 1".
        before = math.ceil(cutoff.timestamp()) - 1
        done = self._git(["rev-list", "-1", "--first-parent", f"--before=@{before}", "refs/releaser/tip"], repo)
        if done.returncode != 0:
            raise UpstreamError(f"{self.what}: reading the history of {refname} failed: {summary(done.stderr)}")
        sha = done.stdout.strip()
        return Commit(sha, self._time(repo, sha)) if sha else None

    def pin(self, ref: str, *, cutoff: datetime, dated: bool) -> Commit:
        """`ref` as a commit: now, or with `dated` as it was before `cutoff`."""
        target = self.resolve(ref)
        if dated and target.moves:
            assert target.refname is not None
            found = self.newest_before(target.refname, cutoff)
            if found is None:
                raise ResolutionError(
                    f"{self.what}: {ref} of {self.display} has no commit before the cut-off {utc_iso(cutoff)}"
                )
            return found
        found = self.commit(target.sha, target.refname)
        if found is None:
            if target.refname is None:
                raise UpstreamError(f"{self.what}: {self.display} has no commit {target.sha}")
            raise UpstreamError(f"{self.what}: {target.refname} of {self.display} names {target.sha}, which could not be fetched")
        if dated and found.date >= cutoff:
            raise ResolutionError(
                f"{self.what}: {ref} is commit {found.sha[:12]} of {utc_iso(found.date)}, not before the cut-off "
                f"{utc_iso(cutoff)}; name an older tag or commit, or use a later --as-of"
            )
        return found

    def read(self, sha: str, path: str) -> str | None:
        """The text of `path` at commit `sha` (which `commit` fetched), None when the commit has no such file."""
        repo = self._bare("shallow")
        if not self._is_commit(repo, sha):
            raise UpstreamError(f"{self.what}: commit {sha[:12]} of {self.display} could not be fetched with its files")
        done = self._git(["cat-file", "blob", f"{sha}:{path}"], repo)
        return done.stdout if done.returncode == 0 else None

    # -- plumbing -------------------------------------------------------------

    def _git(self, args: list[str], repo: Path | None = None) -> subprocess.CompletedProcess[str]:
        timeout = FETCH_TIMEOUT if args[0] == "fetch" else LIST_TIMEOUT
        return run_git(args, what=self.what, timeout=timeout, cwd=repo, env=self.credentials)

    def _list(self, refnames: list[str]) -> dict[str, str]:
        """refname -> object id for each of `refnames` (and its peeled `^{}`) on the remote."""
        patterns = [p for name in refnames for p in (name, name + "^{}")]
        done = self._git(["ls-remote", "--", self.url, *patterns])
        if done.returncode != 0:
            raise UpstreamError(f"{self.what}: cannot list the refs of {self.display}: {summary(done.stderr)}")
        refs: dict[str, str] = {}
        for line in done.stdout.splitlines():
            sha, _, name = line.partition("\t")
            if FULL_COMMIT_ID.fullmatch(sha) and name:
                refs[name] = sha
        return refs

    def _bare(self, purpose: str) -> Path:
        """A bare repository for one kind of fetch (a shallow one would cut a full history short)."""
        repo = self.workdir / purpose
        if not (repo / "HEAD").exists():
            repo.mkdir(parents=True, exist_ok=True)
            done = run_git(["init", "--quiet", "--bare", str(repo)], what=self.what, timeout=LIST_TIMEOUT)
            if done.returncode != 0:
                raise UpstreamError(f"{self.what}: git init failed: {summary(done.stderr)}")
        return repo

    def _is_commit(self, repo: Path, sha: str) -> bool:
        return self._git(["cat-file", "-e", f"{sha}^{{commit}}"], repo).returncode == 0

    def _time(self, repo: Path, sha: str) -> datetime:
        done = self._git(["show", "-s", "--format=%cI", sha], repo)
        try:
            return datetime.fromisoformat(done.stdout.strip()).astimezone(UTC)
        except ValueError:
            raise UpstreamError(f"{self.what}: cannot read the time of commit {sha}: {summary(done.stderr)}") from None


class GitSource(Source):
    """`[[git]]` inputs: each `url` + `ref` pinned to a full commit id and its committer time."""

    kind = "git"

    def __init__(self, inputs: tuple[GitInput, ...]) -> None:
        self.inputs = inputs

    def input_digests(self) -> dict[str, str]:
        return {}  # release.toml's [[git]] tables are digested with the rest of release.toml

    def input_paths(self) -> list[Path]:
        return []

    def resolver(self) -> str | None:
        version = git_version()
        return f"git {version}" if version else None

    def source_urls(self) -> tuple[str, ...]:
        return tuple(sorted({strip_credentials(i.url) for i in self.inputs}))

    def lock(self, request: LockRequest) -> list[Pin]:
        previous = {p.name: p for p in request.previous}
        return request.http.map(lambda dep: self._pin(dep, previous.get(dep.name), request), self.inputs)

    def _pin(self, dep: GitInput, previous: Pin | None, request: LockRequest) -> Pin:
        remote = GitRemote(dep.url, what=f"git {dep.name}", workdir=request.workdir / dep.name)
        if previous is not None and keeps(previous, dep.ref, strip_credentials(dep.url), dep.name, request):
            if remote.commit(previous.version) is not None:
                return previous
        commit = remote.pin(dep.ref, cutoff=request.as_of, dated=request.dated)
        return Pin(
            kind=self.kind,
            name=dep.name,
            version=commit.sha,
            source=strip_credentials(dep.url),
            requested=dep.ref,
            date=commit.date,
        )


def keeps(previous: Pin, requested: str, source: str, name: str, request: LockRequest) -> bool:
    """May `previous` stand? Same request of the same source, no upgrade, inside the cut-off.

    The caller still checks that what it pins is unchanged upstream: that the
    commit still exists (git), that the bytes hash the same (URLs).
    """
    if request.upgrade_all or name in request.upgrade:
        return False
    if previous.requested != requested or previous.source != source:
        return False
    return not request.dated or (previous.date is not None and previous.date < request.as_of)
