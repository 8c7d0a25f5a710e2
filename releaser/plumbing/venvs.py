"""Virtual environments made without pip and filled only by a hash-verified install.

`releaser lock` makes one to ask an sdist's build backend what it needs
(`releaser.ecosystems.python.build`); `cut` and `reproduce` build and install in them
(`releaser.ecosystems.python.buildenv`). releaser's own pip (>= 26) installs into a venv with
`--python`, isolated from the machine's pip configuration (`releaser.plumbing.piprun`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from releaser.core.errors import UpstreamError
from releaser.core.redact import scrub
from releaser.plumbing.piprun import run_pip


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment `venv`."""
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def create_venv(path: Path, *, what: str = "the virtual environment") -> Path:
    """A fresh virtual environment at `path`, without pip (whatever was there is cleared)."""
    import venv as venvs

    try:
        venvs.EnvBuilder(with_pip=False, clear=True, symlinks=os.name != "nt").create(path)
    except (OSError, subprocess.SubprocessError) as exc:
        raise UpstreamError(f"cannot create {what}: {scrub(str(exc))}") from None
    return path


def install_hashed(
    venv: Path, lines: list[str], requirements: Path, *, options: Sequence[str], timeout: int, hashed: bool = True,
    env: dict[str, str] | None = None, once: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`pip --python VENV install --require-hashes --no-deps -r REQUIREMENTS`, REQUIREMENTS being `lines`.

    `requirements` is created afresh, readable by this user only (index URLs in it
    may carry credentials). `options` adds pip options (indexes, cache, trusted
    hosts); `env` adds to pip's environment (NETRC: credentials never on its command line). The finished run is returned for the caller to judge; one that takes
    longer than `timeout` seconds is an UpstreamError. `hashed=False` is for git
    requirements pinned to a full commit id, which is their hash (pip cannot hash them).
    `once=True` is for a venv one build uses and drops: pip does not compile every
    module it installs to bytecode (a build imports a few, once).
    """
    fd = os.open(requirements, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    args = [
        "--python", str(venv_python(venv)), "install", *(["--require-hashes"] if hashed else []), "--no-deps", "--no-input",
        "--disable-pip-version-check", *(["--no-compile"] if once else []), *options, "-r", str(requirements),
    ]
    return run_pip(args, timeout=timeout, timed_out=f"pip install into {venv} did not finish", env=env)
