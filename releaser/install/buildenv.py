"""The isolated virtual environment, filled only by a hash-verified install.

`releaser cut` builds in one (the locked Python set, from the lock's indexes);
`releaser reproduce` makes one (an RC's recorded set, from files already verified).
Either way the venv is created without pip, so it holds only what is installed
into it, and releaser's own pip (>= 26) installs into it with `--python`, isolated
from the machine's pip configuration (`releaser.core.piprun`): `install --require-hashes
--no-deps` from a requirements file private to the run, so every file is checked
against its sha256 and nothing unpinned comes along.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from releaser.core.errors import UpstreamError
from releaser.core.piprun import isolated_env, run_pip
from releaser.core.redact import scrub

# Variables that would let the caller's Python setup leak into the environment.
_LEAKS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "__PYVENV_LAUNCHER__")


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
    venv: Path, lines: list[str], requirements: Path, *, options: list[str], timeout: int,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`pip --python VENV install --require-hashes --no-deps -r REQUIREMENTS`, REQUIREMENTS being `lines`.

    `requirements` is created afresh, readable by this user only (index URLs in it
    may carry credentials). `options` adds pip options (indexes, cache, trusted
    hosts); `env` adds to pip's environment (NETRC). The finished run is returned for the caller to judge; one that takes
    longer than `timeout` seconds is an UpstreamError.
    """
    fd = os.open(requirements, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    args = [
        "--python", str(venv_python(venv)), "install", "--require-hashes", "--no-deps", "--no-input",
        "--disable-pip-version-check", *options, "-r", str(requirements),
    ]
    return run_pip(args, timeout=timeout, timed_out=f"pip install into {venv} did not finish", env=env)


def installed_set(venv: Path) -> dict[str, str] | None:
    """canonical name -> version of every distribution in the venv, or None when it is not one."""
    python = venv_python(venv)
    if not python.exists():
        return None
    code = (
        "import importlib.metadata as m, json, re\n"
        "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version for d in m.distributions()}))"
    )
    done = subprocess.run([str(python), "-I", "-c", code], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None


def activated_env(venv: Path) -> dict[str, str]:
    """The environment of a command run in `venv`: its bin first on PATH, nothing of pip's config."""
    env = isolated_env()
    for name in _LEAKS:
        env.pop(name, None)
    env.update(
        PATH=str(venv_python(venv).parent) + os.pathsep + env.get("PATH", os.defpath),
        VIRTUAL_ENV=str(venv),
        PYTHONNOUSERSITE="1",
    )
    return env
