"""Files that hold a secret in clear while a child process reads it (pip's netrc).

They live in one folder per process, inside a folder private to the user (mode 0700,
owned by them): `$XDG_RUNTIME_DIR/releaser-private-UID/PID-XXXXXXXX/`, else the same under
the temp folder. The process removes its folder when it exits, a SIGTERM or SIGHUP
included (the command line turns them into an interrupt); what a `kill -9` leaves is
removed by the next releaser that writes such a file or holds the project lock: a folder
whose process is gone is a leftover.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import tempfile
import threading
from pathlib import Path

from releaser.core.errors import ConfigError

_FOLDER = re.compile(r"^(?P<pid>[0-9]+)-\w+$")
_guard = threading.Lock()
_own: Path | None = None


def private_folder() -> Path:
    """This process's folder for secret files, made on first use (and leftovers of dead runs removed)."""
    global _own
    with _guard:
        if _own is None or not _own.is_dir():
            base = _base()
            sweep(base)
            if _own is None:
                atexit.register(_remove_own)
            _own = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=base))  # mode 0700
        return _own


def sweep(base: Path | None = None) -> list[str]:
    """Remove the folders of releasers that are gone (killed before they could clean up)."""
    base = base or _base(create=False)
    removed = []
    for entry in sorted(base.iterdir()) if base is not None and base.is_dir() else ():
        found = _FOLDER.match(entry.name)
        if found and not _alive(int(found["pid"])):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _base(create: bool = True) -> Path | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    parent = Path(runtime) if runtime and Path(runtime).is_dir() else Path(tempfile.gettempdir())
    base = parent / f"releaser-private-{os.getuid()}"
    if create:
        try:
            base.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{base}: cannot make a private folder for credentials: {exc.strerror}") from None
    try:
        found = os.lstat(base)
    except FileNotFoundError:
        return None
    # Another user could have made it first, in a shared temp folder: never write a secret there.
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        raise ConfigError(f"{base}: is not a folder private to this user (mode 0700); remove it")
    return base


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_own() -> None:
    with _guard:
        if _own is not None:
            shutil.rmtree(_own, ignore_errors=True)
