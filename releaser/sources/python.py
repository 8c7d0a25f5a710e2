"""The Python source: pip-compile picks the versions, the index gives every file of each.

pip-compile runs as a subprocess of this interpreter, isolated from the machine's
pip configuration: no pip.conf and no `PIP_*` variable reaches it, and it sees
only the indexes release.toml names. Earlier pins are seeded into its output file,
which is how pip-compile keeps them unless asked to upgrade.
"""

from __future__ import annotations

import re
import shlex
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from releaser.core.config import PythonInputs
from releaser.core.credentials import private_netrc
from releaser.core.errors import ConfigError, ResolutionError, UpstreamError
from releaser.core.lockfile import InputRecord, Pin
from releaser.core.piprun import cache_dir, index_options, resolve_deadline, run_pip
from releaser.core.progress import Counter
from releaser.core.redact import scrub, strip_credentials
from releaser.sources.base import LockRequest, Source
from releaser.sources.requirements import RequirementInput, read_inputs, shown

if TYPE_CHECKING:
    from releaser.core.http import Http
    from releaser.core.verdict import Finding
    from releaser.sources.pydirect import DirectReferences

_NETWORK_TROUBLE = re.compile(r"NewConnectionError|Connection refused|Max retries exceeded|timed out|Name or service not known")


class PythonSource(Source):
    kind = "python"

    def __init__(self, root: Path, inputs: PythonInputs) -> None:
        self.root = root
        self.inputs = inputs
        self._parsed: list[RequirementInput] | None = None

    @property
    def parsed(self) -> list[RequirementInput]:
        if self._parsed is None:
            self._parsed = read_inputs(self.root, self.inputs)
        return self._parsed

    def input_digests(self) -> dict[str, str]:
        return {i.name: i.digest for i in self.parsed}

    def input_records(self) -> dict[str, InputRecord]:
        return {i.name: InputRecord(i.digest, i.entries) for i in self.parsed}

    def verify(self, pins: tuple[Pin, ...], http: Http) -> list[Finding]:
        """Each pinned file still on its index with the same sha256, not yanked; newer versions as info."""
        from releaser.sources.pyverify import verify

        return verify(pins, http, self.inputs.index_urls)

    def resolver(self) -> str:
        from importlib import (
            metadata,  # not at the top: `releaser check` never needs it (~30 ms)
        )

        return f"pip-tools {metadata.version('pip-tools')} (pip {metadata.version('pip')})"

    def source_urls(self) -> tuple[str, ...]:
        return tuple(strip_credentials(u) for u in self.inputs.index_urls)

    def lock(self, request: LockRequest) -> list[Pin]:
        from releaser.sources.pydirect import DirectReferences
        from releaser.sources.pyindex import PackageIndexReader

        # `pkg @ git+...@branch` and `pkg @ https://...` pinned first (commit id, sha256).
        direct = DirectReferences([r for i in self.parsed for r in i.requirements], self.inputs, request)
        versions, direct_urls = self._compile(request, direct)
        reader = PackageIndexReader(request.http, self.inputs.index_urls)
        requested = self._requested()
        counter = Counter(request.progress, "index", "python: files of each pin read from the index", len(versions))

        def pin(item: tuple[str, str]) -> Pin:
            name, version = item
            found = reader.version_files(name, version, cutoff=request.as_of, dated=request.dated)
            counter.tick()
            if found.yanked:  # pip takes a yanked release only when pinned `==` to it: say so
                request.warnings.append(
                    f"python {name} {version} is yanked on {strip_credentials(found.index)} ({', '.join(found.yanked)})"
                )
            return Pin(
                kind=self.kind,
                name=name,
                version=version,
                source=strip_credentials(found.index),
                requested=requested.get(name),
                date=found.date,
                artifacts=found.artifacts,
            )

        from releaser.sources.pybuild import BuildPins

        pins = request.http.map(pin, sorted(versions.items())) + direct.pins(direct_urls, request.workdir)
        return BuildPins(request, reader, lambda reqs, work: self._compile_build(reqs, work, request)).add(pins)

    def _requested(self) -> dict[str, str]:
        """Canonical name -> what the inputs ask for, for direct requirements."""
        asked: dict[str, set[str]] = {}
        for item in self.parsed:
            for req in item.requirements:
                asked.setdefault(canonicalize_name(req.name), set()).add(str(req))
        return {name: " and ".join(sorted(specs)) for name, specs in asked.items()}

    # -- pip-compile ------------------------------------------------------

    def _compile(self, request: LockRequest, direct: DirectReferences) -> tuple[dict[str, str], dict[str, str]]:
        """Run pip-compile; return (canonical name -> exact version, name -> URL of each direct reference)."""
        work = request.workdir
        source_file, constraints_file, output = work / "requirements.in", work / "constraints.txt", work / "pinned.txt"
        requirements = [direct.line(r) for i in self.parsed for r in i.requirements]
        for req in (r for i in self.parsed for r in i.constraints):
            if req.url:
                raise ConfigError(
                    f"{shown(req)}: a direct reference cannot be a constraint; put it in a requirements file"
                )
        source_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        constraints_file.write_text("\n".join(str(r) for i in self.parsed for r in i.constraints) + "\n", encoding="utf-8")
        if not request.upgrade_all:
            # Direct references are pinned by their URL, not seeded as `name==version`.
            seeds = [p for p in request.previous if p.name not in direct.names and " @ " not in (p.requested or "")]
            output.write_text("".join(f"{p.name}=={p.version}\n" for p in seeds), encoding="utf-8")

        self._pip_compile(request, work, ["-c", str(constraints_file), str(source_file)], output, cwd=self.root)
        return _read_pins(output)

    def _pip_compile(self, request: LockRequest, work: Path, inputs: list[str], output: Path, *, cwd: Path) -> None:
        """pip-compile `inputs` into `output`: isolated, dated, only release.toml's indexes, their
        credentials from a private netrc (never the command line)."""
        indexes, credentials = private_netrc(self.inputs.index_urls, work)
        args = ["compile", *self._options(request, work, indexes), "-o", str(output), *inputs]
        done = run_pip(
            args, timeout=resolve_deadline(), timed_out="pip-compile did not finish", module="piptools", cwd=cwd,
            env=credentials,
        )
        if done.returncode != 0:
            self._fail(done.stderr, request)

    def _compile_build(self, requirements: list[str], work: Path, request: LockRequest) -> dict[str, str]:
        """pip-compile of an sdist's build requirements, as isolated and dated as the lock's own."""
        work.mkdir(parents=True, exist_ok=True)
        source, output = work / "build.in", work / "build.txt"
        source.write_text("".join(r + "\n" for r in requirements), encoding="utf-8")
        self._pip_compile(request, work, [str(source)], output, cwd=work)
        pins, direct = _read_pins(output)
        if direct:
            raise UpstreamError(f"a build requirement is a direct reference ({', '.join(sorted(direct))}); releaser pins only index ones")
        return pins

    def _options(self, request: LockRequest, work: Path, indexes: tuple[str, ...]) -> list[str]:
        options = [
            "--no-config", "--no-header", "--no-annotate", "--no-emit-index-url", "--no-emit-trusted-host",
            "--no-emit-find-links", "--no-emit-options", "--allow-unsafe", "--strip-extras",
            # pip-tools' dependency cache is keyed by name and version only, not by
            # index: a private one per lock keeps one index's metadata out of another's.
            "--cache-dir", str(work / "pip-tools-cache"),
            "--pip-args", shlex.join(["--cache-dir", str(cache_dir()), "--timeout", "30", "--retries", "3"]),
            *index_options(indexes),  # credentials come from a private netrc, never the command line
        ]
        if request.dated:
            options += ["--uploaded-prior-to", request.as_of.astimezone(timezone.utc).isoformat()]
        if request.upgrade_all:
            options.append("--upgrade")
        for name in sorted(request.upgrade):
            options += ["--upgrade-package", name]
        return options

    def _fail(self, stderr: str, request: LockRequest) -> None:
        """Turn pip-compile's failure into one line that names the requirement."""
        text = scrub(stderr)
        if request.dated:
            self._insist_on_upload_times(request, text)
        lines = [_newest_versions(line.strip()) for line in text.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("ERROR") or "Could not find a version" in line]
        summary = " / ".join(dict.fromkeys(errors[:3])) or (lines[-1] if lines else "no output")
        if _NETWORK_TROUBLE.search(text):
            indexes = ", ".join(self.source_urls())
            raise UpstreamError(f"pip-compile could not reach the index ({indexes}): {summary}")
        self._insist_on_answers(request, text)
        raise ResolutionError(f"pip-compile could not resolve the Python requirements: {summary}")

    def _insist_on_upload_times(self, request: LockRequest, stderr: str) -> None:
        """A dated lock fails when an index has no upload times; name that index."""
        from releaser.sources.pyindex import PackageIndexReader, missing_upload_times

        reader = PackageIndexReader(request.http, self.inputs.index_urls)
        for index in self.inputs.index_urls:
            for files in request.http.map(lambda n: reader.project_files(index, n), self._failed_names(stderr)):
                if files and all(f.uploaded is None for f in files):
                    raise missing_upload_times(index)

    def _insist_on_answers(self, request: LockRequest, stderr: str) -> None:
        """pip reads an index that refuses (401, 403), is not there (404) or fails (5xx) as one
        without versions; releaser asks it itself, so that is an outside failure naming the status."""
        from releaser.sources.pyindex import PackageIndexReader

        reader = PackageIndexReader(request.http, self.inputs.index_urls)
        names = self._failed_names(stderr)
        for index in self.inputs.index_urls:
            # A project page that answers an error status raises, naming it; 404 is "no such project"...
            pages = request.http.map(lambda n: reader.project_files(index, n), names)
            if names and all(page is None for page in pages):
                # ... unless the index itself is not there.
                root = index.rstrip("/") + "/"
                status = request.http.status(root, what="the index")
                if status in (401, 403, 404, 410) or status >= 500:
                    raise UpstreamError(f"the index {strip_credentials(root)} answered HTTP {status}; check its URL and credentials")

    def _failed_names(self, stderr: str) -> list[str]:
        """The requirements pip-compile could not satisfy, and every direct one."""
        names = set(self._requested())
        names |= {canonicalize_name(m) for m in re.findall(r"requirement ([A-Za-z0-9][A-Za-z0-9._-]*)", stderr)}
        return sorted(names)


_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")
SHOWN_VERSIONS = 5  # of pip's "from versions: ..." list, the newest few; the rest is "…"


def _newest_versions(line: str) -> str:
    """pip lists every version it saw (kilobytes for Django); keep the newest few."""

    def cut(match: re.Match[str]) -> str:
        versions = [v.strip() for v in match.group(1).split(",") if v.strip()]
        if len(versions) <= SHOWN_VERSIONS:
            return match.group(0)
        return f"(from versions: …, {', '.join(versions[-SHOWN_VERSIONS:])}; {len(versions)} in all)"

    return _FROM_VERSIONS.sub(cut, line)


def _read_pins(output: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> version of each `name==version` line, name -> URL of each `name @ url` line)."""
    pins: dict[str, str] = {}
    direct: dict[str, str] = {}
    for line in output.read_text(encoding="utf-8").splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip().rstrip("\\").strip()  # a URL's #fragment stays
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise UpstreamError(f"pip-compile wrote a line releaser cannot read: {scrub(line)!r}") from None
        if req.url:
            direct[canonicalize_name(req.name)] = req.url
            continue
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if len(exact) != 1:
            raise UpstreamError(f"pip-compile left {scrub(line)!r} unpinned")
        pins[canonicalize_name(req.name)] = exact[0]
    return pins, direct
