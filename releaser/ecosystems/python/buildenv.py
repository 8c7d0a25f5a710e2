"""The isolated virtual environment, filled only by a hash-verified install.

`releaser cut` builds in one and `releaser rehearse` migrates in one (the locked Python
set, from the lock's indexes: `releaser.ecosystems.python.install`);
`releaser reproduce` makes one (an RC's recorded set, from files already verified).
Either way the venv is created without pip, so it holds only what is installed
into it, and releaser's own pip (>= 26) installs into it with `--python`, isolated
from the machine's pip configuration (`releaser.plumbing.piprun`): `install --require-hashes
--no-deps` from a requirements file private to the run, so every file is checked
against its sha256 and nothing unpinned comes along.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from releaser.plumbing.piprun import isolated_env
from releaser.plumbing.venvs import create_venv, install_hashed, venv_python

__all__ = ["activated_env", "create_venv", "install_hashed", "installed_set", "venv_python"]

# Variables that would let the caller's Python setup leak into the environment.
_LEAKS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "__PYVENV_LAUNCHER__")


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
        found: dict[str, str] = json.loads(done.stdout)
        return found
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


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
