"""The uv resolver: `uv pip compile`, for this interpreter or for one named target.

uv comes from the `uv` package (the `releaser[uv]` extra; `uv.find_uv_bin()` is the
binary) and runs isolated exactly as pip-compile is:

- no configuration file: `--no-config` (no uv.toml, no `[tool.uv]` in pyproject.toml),
  and no `UV_*` or `PIP_*` variable from the machine reaches it;
- only the indexes release.toml names, passed in the environment (`UV_DEFAULT_INDEX`,
  `UV_INDEX`), never on its command line, where credentials would show; with
  `--index-strategy unsafe-best-match`, which is pip's rule: every index is asked and
  the best version wins wherever it is (uv's default stops at the first index that
  has the project);
- a cache private to this lock (`--cache-dir` in its work directory), so nothing the
  machine cached, from whatever index, answers for the configured ones, and a release
  published a minute ago is seen by the next `--upgrade` whatever the index's caching
  headers allow (releaser's own page reads are revalidated, `releaser.plumbing.pagecache`);
- the cut-off as `--exclude-newer` when the lock is dated (`--as-of`), as pip-compile
  gets `--uploaded-prior-to`;
- a target as `--python-platform` and `--python-version`; without one, the
  interpreter that runs releaser (`--python`), as pip-compile resolves.

uv runs with `--verbose`: each project it adds to the resolution is told to the Python
source as it comes, which reads that project's index page meanwhile, not afterwards.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import UTC

from packaging.utils import canonicalize_name

from releaser.core.errors import UpstreamError
from releaser.ecosystems.python.resolve import Job, Resolver, fail, not_installed, prepare, read_pins, upgrade_options
from releaser.plumbing.piprun import isolated_env, out_of_memory, over_ceiling, resolve_deadline, resolver_memory, start

# uv's debug log as it resolves: `Adding direct dependency: NAME...` and `Adding
# transitive dependency for A==1: NAME...`. Only a hint: if it reads otherwise, the pages
# are read after the resolution, as they were.
_ADDED = re.compile(r"DEBUG Adding (?:direct|transitive) dependency(?: for [^:]*)?: ([A-Za-z0-9][A-Za-z0-9._-]*)")


def added(line: str) -> str | None:
    """The canonical name of the project a line of uv's debug log says it adds; None for any other line."""
    match = _ADDED.match(line)
    return canonicalize_name(match.group(1)) if match else None


def describe() -> str:
    from importlib import metadata

    return f"uv {metadata.version('uv')}"


_found: list[str] = []
_finding = threading.Lock()


def uv_binary() -> str:
    """The uv executable of the `uv` package. Found once, under a lock: one resolver per target
    runs on its own thread, and `uv.find_uv_bin()` reads `sysconfig`, which is not thread-safe."""
    with _finding:
        if not _found:
            try:
                import uv
            except ImportError:
                raise not_installed("uv", "uv") from None
            _found.append(uv.find_uv_bin())
        return _found[0]


def uv_env(index_urls: tuple[str, ...]) -> dict[str, str]:
    """This process's environment without any uv or pip configuration; the indexes set."""
    env = {k: v for k, v in isolated_env().items() if not k.upper().startswith("UV_")}
    env.update(UV_NO_CONFIG="1", UV_NO_PROGRESS="1", UV_DEFAULT_INDEX=index_urls[0])
    if index_urls[1:]:
        env["UV_INDEX"] = " ".join(index_urls[1:])
    return env


def resolve(job: Job) -> tuple[dict[str, str], dict[str, str]]:
    deadline, memory = resolve_deadline(), resolver_memory()
    command = [uv_binary(), "pip", "compile", *_options(job), "-c", str(job.constraints), "-o", str(job.output), str(job.requirements)]
    prepare(job)
    try:
        code, stderr = _run(command, job, deadline, memory)
    except OSError as exc:
        raise UpstreamError(f"uv could not be run: {exc}") from None
    if code is None:
        raise UpstreamError(f"uv did not finish within {deadline // 60} minutes")
    if code != 0 and out_of_memory(stderr):
        raise over_ceiling("uv", job.index_urls, memory)
    if code != 0:
        fail("uv", stderr, job)
    return read_pins(job.output, "uv")


def _run(command: list[str], job: Job, deadline: float, memory: int) -> tuple[int | None, str]:
    """Run uv with `-v`, telling `job.hints` each project as uv adds it; (exit code, or None
    when it ran past `deadline` and was killed; what it said but its debug lines)."""
    process = start(
        command, memory=memory, cwd=job.root, env=uv_env(job.index_urls), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, errors="replace",
    )
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        process.kill()

    timer = threading.Timer(deadline, expire)
    timer.start()
    said = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if not line.startswith("DEBUG "):
                said.append(line)
            elif job.hints is not None and (name := added(line)) is not None:
                job.hints.add(name)
        code = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:  # an error in the loop: no uv left behind
            process.kill()
            process.wait()
    return (None if expired.is_set() else code), "".join(said)


def _options(job: Job) -> list[str]:
    request = job.request
    options = [
        "--no-config", "--no-header", "--no-annotate", "--verbose", "--no-python-downloads",
        "--index-strategy", "unsafe-best-match",
        "--cache-dir", str(job.work / "uv-cache"),
        "--python", sys.executable,
    ]
    if job.target is not None:
        options += ["--python-platform", job.target.uv_platform, "--python-version", job.target.python]
    if request.dated:
        options += ["--exclude-newer", request.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z")]
    return options + upgrade_options(request)


class Uv(Resolver):
    name = "uv"

    def describe(self) -> str:
        return describe()

    def resolve(self, job: Job) -> tuple[dict[str, str], dict[str, str]]:
        return resolve(job)


RESOLVER = Uv()
