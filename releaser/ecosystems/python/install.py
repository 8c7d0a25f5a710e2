"""The locked Python set installed into a venv, every file verified first: for `cut` and `rehearse` alike.

The file pip would choose here for each pin (`python_files_here`, as `reproduce`
chooses it) is fetched by releaser's own `Fetcher` into its cache of
verified files and checked against the lock's sha256 and size before pip sees it
(pip's `--require-hashes` checks the sha256 only); pip then installs those files
and only those, offline. A pin with no wheel for this interpreter is built from its
sdist with exactly its locked build pins (`releaser.ecosystems.python.sdists`) first; git pins,
whose commit is their hash, are installed after, by commit.
"""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from releaser.core.config import ReleaseConfig
from releaser.core.errors import Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Lock
from releaser.core.progress import Progress
from releaser.core.redact import output_tail
from releaser.ecosystems.python.buildenv import install_hashed
from releaser.ecosystems.python.sdists import OFFLINE, build_files, install_lines, refuse_unpinned
from releaser.plumbing.cachetrim import mark_used
from releaser.plumbing.credentials import configured_userinfo, private_netrc
from releaser.plumbing.fetch import Fetcher, PinnedFile, cached, other_bytes, session, verified_cache
from releaser.plumbing.piprun import cache_dir, index_options

if TYPE_CHECKING:
    from releaser.plumbing.http import Http

PIP_TIMEOUT = 60 * 60
TAIL = 20  # lines of pip's output shown when it fails


def install_python(
    config: ReleaseConfig, lock: Lock, venv: Path, work: Path, *, http: Http | None = None, progress: Progress | None = None
) -> None:
    """Install the locked Python set into `venv`, each file verified against the lock first.

    A file whose bytes are not the ones the lock states (its sha256 or its size) is
    refused (exit 1) naming the pin and the file, before anything is installed. A pin
    with no wheel for this interpreter is first built from its sdist with exactly its
    locked build pins, and its wheel installed instead; one whose lock pins no build
    requirements is refused, as its build would float.

    The files come from the lock's indexes, which must be release.toml's (`check_indexes`),
    with the credentials release.toml gives their hosts. Git pins are installed after,
    by commit (`pip install --no-deps`), their build requirements from those indexes,
    whose credentials reach pip through a private netrc, never its arguments. The
    requirements files live in `work`, a private temp folder. `progress` hears of the
    files fetched, N of M.
    """
    from releaser.ecosystems.python.export import vcs_lines

    if not lock.of_kind("python"):
        return
    lock = installable(config, lock)
    chosen = python_files_here(lock)
    paths = fetch_verified(config, [*chosen, *build_files(lock)], http=http, progress=progress)
    lines = install_lines([(item, paths[item.rel]) for item in chosen], paths, work)
    if lines:
        done = install_hashed(venv, lines, work / "requirements.txt", options=OFFLINE, timeout=PIP_TIMEOUT)
        _raise_if_failed(done)
    vcs = vcs_lines(lock)
    if vcs:
        py = config.inputs_of("python")
        indexes, credentials = private_netrc(py.urls() if py else ())
        options = ["--cache-dir", str(cache_dir()), *(index_options(indexes) if indexes else ())]
        done = install_hashed(
            venv, vcs, work / "requirements-git.txt", options=options, timeout=PIP_TIMEOUT, hashed=False, env=credentials,
        )
        _raise_if_failed(done)


def installable(config: ReleaseConfig, lock: Lock) -> Lock:
    """`lock`'s pins for this interpreter, refused (exit 1) as an install refuses them before fetching a
    file: an interpreter none of its targets covers, indexes other than release.toml's, a build that floats."""
    from releaser.ecosystems.python.export import check_indexes
    from releaser.ecosystems.python.files import for_here

    if not lock.of_kind("python"):
        return lock
    lock = for_here(lock)
    check_indexes(config, lock)
    refuse_unpinned(lock, config.release.lockfile)
    return lock


def _raise_if_failed(done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        raise UpstreamError(f"installing the locked Python packages failed:\n{output_tail(done.stdout + done.stderr, TAIL)}")


def python_files_here(lock: Lock) -> list[PinnedFile]:
    """The file pip would install here of each Python pin of `lock` (already `for_here`), at python/<file>,
    as `reproduce` chooses it. A pin of a git repository has none: its commit is its hash."""
    from releaser.ecosystems.python.ecosystem import ECOSYSTEM

    return ECOSYSTEM.files([p for p in lock.of_kind("python") if p.artifacts], here=True)


def fetch_verified(
    config: ReleaseConfig, items: list[PinnedFile], *, http: Http | None = None, progress: Progress | None = None
) -> dict[PurePosixPath, Path]:
    """rel -> the verified file of each of `items`, fetched into releaser's cache of verified files
    unless an earlier run put it there; any file not as the lock states it is refused (`changed_upstream`)."""
    with verified_cache() as cache:
        targets = [(item, cached(cache, item)) for item in items]
        # One download per file: a pin's file may be a build requirement too. Each other
        # statement of it is then checked against the file in place (hashed, not fetched).
        first: dict[Path, PinnedFile] = {}
        for item, path in targets:
            first.setdefault(path, item)
        again = [(item, path) for item, path in targets if first[path] is not item]
        with session(http) as web:
            fetcher = Fetcher(rc="the build", mismatch=changed_upstream, http=web, userinfo=configured_userinfo(config))
            fetcher.fetch_all([(item, path) for path, item in first.items()], progress=progress)
            fetcher.fetch_all(again)
        for path in first:
            mark_used(path.parent)
    return {item.rel: path for item, path in targets}


def changed_upstream(item: PinnedFile, origin: str, sha256: str, size: int) -> ReleaserError:
    """A file not as the lock states it: refused (exit 1), as a lock that does not match its bytes is."""
    return Refused(f"{other_bytes(item, origin, sha256, size, stated_by='the lock')}; find out why (releaser check --online) before relocking")
