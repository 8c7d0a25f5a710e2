"""The pluggable step of the Python lock: which version of each package.

A resolver (`[python] resolver`: pip-tools, the default, or uv; each its own module,
`piptools` and `uv`, registered by name in `releaser.ecosystems.python.settings.RESOLVERS`
and found with `resolver(name)`) is a `Resolver`: its `resolve(job)` gets the requirements and constraints as files,
the earlier pins to prefer, the indexes and the cut-off, and optionally one target
to resolve for, and returns `name -> version` plus `name -> URL` for direct
references. Everything else about the lock (every file's sha256, size and upload
time, read from the index) is the same code for both (releaser.ecosystems.python.source).
Each resolver runs as a subprocess isolated from the machine's pip and uv
configuration, and its failure becomes one scrubbed line here.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from releaser.core.errors import ConfigError, ResolutionError, UpstreamError
from releaser.core.redact import scrub, strip_credentials

if TYPE_CHECKING:
    from releaser.core.targets import Target
    from releaser.ecosystems.base import LockRequest

_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")
SHOWN_VERSIONS = 5  # of pip's "from versions: ..." list, the newest few; the rest is "…"
_NETWORK_TROUBLE = re.compile(
    r"NewConnectionError|Connection refused|Max retries exceeded|timed out|Name or service not known|"
    r"error sending request|Failed to fetch|failed to connect"
)


BUILD_TAIL = 20  # lines of a failed build's output shown


class Hints(Protocol):
    """What a resolver tells as it runs, so that the index pages can be read meanwhile."""

    def started(self) -> None:
        """The resolver is about to run: work that would have delayed its start may begin now."""

    def add(self, name: str) -> None:
        """The resolver has added the project `name` (canonical) to the resolution."""


@dataclass(frozen=True)
class Job:
    """One resolution: its inputs as files in a private `work` directory."""

    root: Path  # the project root, the resolver's working directory
    work: Path  # private to this resolution; the resolver's caches live here too
    requirements: Path
    constraints: Path
    seeds: tuple[str, ...]  # `name==version` of earlier pins to keep
    index_urls: tuple[str, ...]  # may carry credentials: never on a command line or in output
    request: LockRequest
    target: Target | None  # None: the interpreter that runs releaser
    requested: frozenset[str] = frozenset()  # the direct requirements' names, for error messages
    # Told when the resolver starts, and each project it adds as it adds it (a resolver that
    # says so as it goes: uv), so that the pages can be read while the resolution runs.
    hints: Hints | None = field(default=None, compare=False)

    @property
    def output(self) -> Path:
        return self.work / "pinned.txt"


class Resolver(ABC):
    """One resolver `[python] resolver` may name."""

    name: ClassVar[str]  # as release.toml names it

    @abstractmethod
    def describe(self) -> str:
        """The resolver and its version, for the lock header."""

    @abstractmethod
    def resolve(self, job: Job) -> tuple[dict[str, str], dict[str, str]]:
        """(name -> version, name -> URL of a direct reference) for `job`."""


def resolver(name: str) -> Resolver:
    """The resolver `name` (a key of `RESOLVERS`), its module imported now."""
    from importlib import import_module

    from releaser.ecosystems.python.settings import RESOLVERS

    found = import_module(RESOLVERS[name]).RESOLVER
    assert isinstance(found, Resolver) and found.name == name, f"{RESOLVERS[name]} is not the resolver {name}"
    return found


def prepare(job: Job) -> None:
    """The earlier pins, seeded into the output file: both resolvers prefer what it holds.
    Called last before the resolver runs: `job.hints` hears that it starts."""
    if job.seeds:
        job.output.write_text("".join(seed + "\n" for seed in job.seeds), encoding="utf-8")
    if job.hints is not None:
        job.hints.started()


def upgrade_options(request: LockRequest) -> list[str]:
    """`--upgrade`, or `--upgrade-package NAME` for each name: both resolvers spell them so."""
    if request.upgrade_all:
        return ["--upgrade"]
    return [option for name in sorted(request.upgrade) for option in ("--upgrade-package", name)]


def read_pins(output: Path, tool: str) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> version of each `name==version` line, name -> URL of each `name @ url` line)."""
    pins: dict[str, str] = {}
    direct: dict[str, str] = {}
    try:
        text = output.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UpstreamError(f"{tool} wrote an output releaser cannot read: {exc}") from None
    for line in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip().rstrip("\\").strip()  # a URL's #fragment stays
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise UpstreamError(f"{tool} wrote a line releaser cannot read: {scrub(line)!r}") from None
        if req.url:
            direct[canonicalize_name(req.name)] = req.url
            continue
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if len(exact) != 1:
            raise UpstreamError(f"{tool} left {scrub(line)!r} unpinned")
        pins[canonicalize_name(req.name)] = exact[0]
    return pins, direct


def fail(tool: str, stderr: str, job: Job) -> None:
    """Turn a resolver's failure into one line that names the requirement (a failed build: that
    line, then the end of the build's output)."""
    text = scrub(stderr)
    if job.request.dated:
        _insist_on_upload_times(job, text)
    _insist_on_builds(tool, text, job)  # first: what a build says may look like a network failure
    summary = summarize(text)
    if job.target is not None:
        summary = f"for {job.target.marker}: {summary}"
    if _NETWORK_TROUBLE.search(text):
        indexes = ", ".join(strip_credentials(u) for u in job.index_urls)
        raise UpstreamError(f"{tool} could not reach the index ({indexes}): {summary}")
    _insist_on_answers(job, text)
    raise ResolutionError(f"{tool} could not resolve the Python requirements: {summary}")


def summarize(text: str) -> str:
    """A resolver's complaint as one readable line: the cause first (what conflicts with what, what is not
    there), then pip's or uv's own error, each cut short; never kilobytes with the cause in the middle."""
    lines = [_newest_versions(line.strip()) for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "error:", "×")) or "Could not find a version" in line]
    causes = []
    for i, line in enumerate(lines):  # pip: "The conflict is caused by:" and the requirements under it
        if line.startswith("The conflict is caused by"):
            for follow in lines[i + 1 :]:
                if not (follow.startswith("The user requested") or " depends on " in follow):
                    break
                causes.append(follow)
        elif line.startswith(("╰─▶", "Because ")) or "No matching distribution found for" in line:  # uv; pip
            causes.append(line.removeprefix("╰─▶").removeprefix("ERROR:").strip())
    first = [_clip(line) for line in dict.fromkeys(causes)][:3]
    rest = [_clip(line) for line in dict.fromkeys(errors) if not any(c in line for c in causes)][:2]
    return "; ".join(first + rest) or (_clip(lines[-1]) if lines else "no output")


def _clip(line: str, width: int = 240) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _newest_versions(line: str) -> str:
    """pip lists every version it saw (kilobytes for Django); keep the newest few."""

    def cut(match: re.Match[str]) -> str:
        versions = [v.strip() for v in match.group(1).split(",") if v.strip()]
        if len(versions) <= SHOWN_VERSIONS:
            return match.group(0)
        return f"(from versions: …, {', '.join(versions[-SHOWN_VERSIONS:])}; {len(versions)} in all)"

    return _FROM_VERSIONS.sub(cut, line)


def _insist_on_upload_times(job: Job, stderr: str) -> None:
    """A dated lock fails when an index has no upload times; name that index."""
    from releaser.ecosystems.python.index import PackageIndexReader, missing_upload_times

    http = job.request.http
    reader = PackageIndexReader(http, job.index_urls)
    for index in job.index_urls:
        for files in http.map(functools.partial(reader.project_files, index), _failed_names(job, stderr)):
            if files and all(f.uploaded is None for f in files):
                raise missing_upload_times(index)


def _insist_on_answers(job: Job, stderr: str) -> None:
    """A resolver reads an index that refuses (401, 403), is not there (404) or fails (5xx) as one
    without versions; releaser asks it itself, so that is an outside failure naming the status."""
    from releaser.ecosystems.python.index import PackageIndexReader

    http = job.request.http
    reader = PackageIndexReader(http, job.index_urls)
    names = _failed_names(job, stderr)
    for index in job.index_urls:
        # A project page that answers an error status raises, naming it; 404 is "no such project"...
        pages = http.map(functools.partial(reader.project_files, index), names)
        if names and all(page is None for page in pages):
            # ... unless the index itself is not there.
            root = index.rstrip("/") + "/"
            status = http.status(root, what="the index")
            if status in (401, 403, 404, 410) or status >= 500:
                raise UpstreamError(f"the index {strip_credentials(root)} answered HTTP {status}; check its URL and credentials")


def _insist_on_builds(tool: str, text: str, job: Job) -> None:
    """A resolver builds an sdist whose metadata it cannot trust to read its requirements; when that
    build fails, the cause is in the build's own output, which pip and uv fence off: show its end
    (an outside failure, like the build of `cut`)."""
    from releaser.core.redact import output_tail
    from releaser.plumbing.piprun import build_output

    said = build_output(text)
    if said is None:
        return
    failed = re.search(r"Failed to build [`']([^`'\s]+)[`']", text)
    where = f" for {job.target.marker}" if job.target is not None else ""
    raise UpstreamError(
        f"{tool} could not build {failed[1] if failed else 'an sdist'}{where} to read its requirements. "
        f"The end of the build's output:\n{output_tail(said, BUILD_TAIL)}"
    )


def _failed_names(job: Job, stderr: str) -> list[str]:
    """The requirements the resolver could not satisfy, and every direct one."""
    names = set(job.requested)
    names |= {canonicalize_name(m) for m in re.findall(r"requirement ([A-Za-z0-9][A-Za-z0-9._-]*)", stderr)}
    return sorted(names)


def not_installed(tool: str, package: str) -> ConfigError:
    return ConfigError(
        f'[python] resolver = "{tool}" needs the {package} package, which is not installed here: '
        f'pip install "releaser[{package}]"'
    )
