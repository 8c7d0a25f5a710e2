"""releaser's own pip, run as a subprocess, isolated from the machine's pip configuration.

Every pip and pip-compile run of releaser goes through the environment made here
(no pip.conf, no `PIP_*` variable), trusts exactly the plain-http indexes
release.toml names, and has its failure told in one scrubbed line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from textwrap import dedent
from typing import Any
from urllib.parse import urlsplit

from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.redact import scrub


def isolated_env() -> dict[str, str]:
    """This process's environment without pip's configuration.

    PIP_CONFIG_FILE=os.devnull is pip's documented switch for "load no config
    file at all" (site, user and global); every other PIP_* variable is dropped.
    """
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PYTHONIOENCODING="utf-8")
    return env


def cache_dir() -> Path:
    """pip's HTTP and wheel cache, keyed by URL and hash, so safe to keep across locks."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "releaser" / "pip"


def trusted_hosts(index_urls: Iterable[str]) -> list[str]:
    """`--trusted-host HOST` for each plain-http index (pip refuses them otherwise)."""
    options: list[str] = []
    for url in index_urls:
        parts = urlsplit(url)
        if parts.scheme == "http" and parts.hostname:
            options += ["--trusted-host", parts.hostname]
    return options


def index_options(index_urls: tuple[str, ...]) -> list[str]:
    """`--index-url FIRST`, `--extra-index-url` for each other, and their `--trusted-host`s."""
    options = ["--index-url", index_urls[0]]
    for url in index_urls[1:]:
        options += ["--extra-index-url", url]
    return options + trusted_hosts(index_urls)


def resolve_deadline(default: int = 30 * 60) -> int:
    """Seconds a resolver run (pip-compile, pip's metadata report) may take: RELEASER_RESOLVE_DEADLINE.

    pip bounds each request only by its idle timeout, so an index that drips bytes
    would hold it for as long as it likes: this bounds the whole run.
    """
    text = os.environ.get("RELEASER_RESOLVE_DEADLINE")
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise ConfigError(f"RELEASER_RESOLVE_DEADLINE={text[:20]!r}: must be a whole number of seconds")
    return int(text)


DEFAULT_RESOLVER_MEMORY = 2 << 30  # a real lock's resolver holds tens of MiB; PyPI's largest pages parse to a few hundred


def resolver_memory() -> int:
    """Bytes of memory a resolver child (pip-compile, uv, pip's metadata report) may hold: RELEASER_RESOLVER_MAX_BYTES.

    releaser caps the index pages it reads itself (RELEASER_METADATA_MAX_BYTES), but a
    resolver reads its own: a 1 MiB gzip page that expands to gigabytes would take the
    machine's memory with it. The ceiling bounds what any page can cost.
    """
    text = os.environ.get("RELEASER_RESOLVER_MAX_BYTES")
    if text is None:
        return DEFAULT_RESOLVER_MEMORY
    if not text.isascii() or not text.isdigit() or int(text) < 1 << 26:
        raise ConfigError(f"RELEASER_RESOLVER_MAX_BYTES={text[:20]!r}: must be a whole number of bytes, at least 67108864 (64 MiB)")
    return int(text)


def start(command: list[str], *, memory: int | None = None, **popen: Any) -> subprocess.Popen[str]:
    """`subprocess.Popen(command, text=True, **popen)`, its data (heap and private mappings,
    what a page parsed into memory takes) capped at `memory` bytes where the system can cap
    another process's (Linux).

    The cap is set from outside once the child has started, not by `preexec_fn`: Python run
    between fork and exec is unsafe beside releaser's page-reading threads, and it runs the
    at-fork hooks, where a SIGTERM's KeyboardInterrupt is swallowed with logging's lock still
    held (a stopped lock then hung). The child has only just exec'd when Popen returns; its first
    page is a network round trip away. RLIMIT_DATA, not RLIMIT_AS: uv reserves far more address
    space than it uses, and a cap on that would fail it on a harmless lock.
    """
    process = subprocess.Popen(command, text=True, **popen)
    if memory:
        try:
            import resource

            _soft, hard = resource.prlimit(process.pid, resource.RLIMIT_DATA)
            limit = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
            resource.prlimit(process.pid, resource.RLIMIT_DATA, (limit, hard))
        except (ImportError, AttributeError, ProcessLookupError):  # no such cap here (not Linux), or it has already exited
            pass
    return process


def out_of_memory(stderr: str) -> bool:
    """Whether a child failed for the memory ceiling: Python's MemoryError, Rust's failed allocation."""
    return "MemoryError" in stderr or "memory allocation of" in stderr


def over_ceiling(tool: str, index_urls: Iterable[str], limit: int) -> UpstreamError:
    from releaser.core.redact import strip_credentials

    indexes = ", ".join(strip_credentials(u) for u in index_urls)
    return UpstreamError(
        f"{tool} needed more than its memory ceiling of {limit >> 20} MiB (RELEASER_RESOLVER_MAX_BYTES) reading {indexes}: "
        "a page there expands far beyond any real index page; nothing was written"
    )


def run_pip(
    args: list[str], *, timeout: int, timed_out: str, module: str = "pip", cwd: Path | None = None,
    env: dict[str, str] | None = None, memory: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -P -m MODULE ARGS` (pip, or piptools) in the isolated environment, its output captured.

    -P: files in the working directory must not shadow pip's own imports. A run
    that takes longer than `timeout` seconds is an UpstreamError saying
    `timed_out` "within N minutes"; any other outcome is the caller's to read.
    `env` adds to the isolated environment (NETRC: credentials never go in `args`).
    `memory`: the child's memory ceiling in bytes (`start`), for a resolver run.
    """
    command = [sys.executable, "-P", "-m", module, *args]
    env = {**isolated_env(), **(env or {})}
    with start(command, memory=memory, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise UpstreamError(f"{timed_out} within {timeout} s (RELEASER_RESOLVE_DEADLINE)") from None
        except BaseException:  # an interrupt, or any error: no child left behind
            process.kill()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def pip_errors(stderr: str, *, otherwise: int = 1) -> list[str]:
    """pip's `ERROR` lines, scrubbed; without any, its last `otherwise` lines."""
    lines = [line.strip() for line in scrub(stderr).splitlines() if line.strip()]
    return [line for line in lines if line.startswith("ERROR")] or lines[-otherwise:]


# The output of a failed build as pip fences it (`╰─> [N lines of output]` ... `[end of output]`),
# and as uv does (`[stdout]` and `[stderr]`, indented, until its `hint:`).
_PIP_BUILD_OUTPUT = re.compile(r"╰─> \[\d+ lines? of output\]\n(.*?)\n\s*\[end of output\]", re.S)
_UV_BUILD_OUTPUT = re.compile(r"^([ \t]+\[(?:stdout|stderr)\]\n.*?)(?=^\S|\Z)", re.S | re.M)


def build_output(text: str) -> str | None:
    """What a failed sdist build said, out of pip's or uv's output (the last one fenced), or None when none failed."""
    fenced = _PIP_BUILD_OUTPUT.findall(text) or _UV_BUILD_OUTPUT.findall(text)
    return dedent(fenced[-1]) if fenced else None
