"""The locked Python set installed into a venv, hash-verified: for `cut` and `rehearse` alike.

A pin with no wheel for this interpreter is built from its sdist with exactly its
locked build pins (`releaser.ecosystems.python.sdists`) first; git pins, whose commit is their
hash, are installed after, by commit.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from releaser.core.config import ReleaseConfig
from releaser.core.errors import Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Lock
from releaser.core.redact import output_tail
from releaser.ecosystems.python.buildenv import install_hashed
from releaser.ecosystems.python.sdists import build_files, build_wheel, built_here, refuse_unpinned
from releaser.plumbing.credentials import configured_userinfo, private_netrc
from releaser.plumbing.fetch import Fetcher, PinnedFile, session
from releaser.plumbing.piprun import cache_dir, trusted_hosts

if TYPE_CHECKING:
    from releaser.plumbing.http import Http

PIP_TIMEOUT = 60 * 60
TAIL = 20  # lines of pip's output shown when it fails


def install_python(config: ReleaseConfig, lock: Lock, venv: Path, work: Path, *, http: Http | None = None) -> None:
    """`pip install --require-hashes --no-deps` the locked Python set into `venv`.

    A pin with no wheel for this interpreter is first built from its sdist with exactly
    its locked build pins (`releaser.ecosystems.python.sdists`), and its wheel installed instead;
    one whose lock pins no build requirements is refused, as its build would float.

    The requirements are `releaser export --format requirements` (its git pins, whose
    commit is their hash, installed after, by commit), from the lock's indexes, which
    must be release.toml's (`check_indexes`); their credentials reach pip through a
    private netrc, never its arguments or the requirements file. Both files live in
    `work`, a private temp folder.
    """
    from releaser.ecosystems.python.export import check_indexes, to_requirements, vcs_lines
    from releaser.ecosystems.python.files import for_here

    if not lock.of_kind("python"):
        return
    lock = for_here(lock)
    check_indexes(config, lock)
    refuse_unpinned(lock, config.release.lockfile)
    built = _built_wheels(config, lock, work, http)
    py = config.inputs_of("python")
    _, credentials = private_netrc(py.urls() if py else ())
    options = ["--cache-dir", str(cache_dir()), *trusted_hosts(sorted(set(lock.sources.get("python", ()))))]
    vcs = vcs_lines(lock)
    rest = replace(lock, pins=tuple(p for p in lock.pins if p.name not in built or p.kind != "python"))
    lines = [line for line in to_requirements(rest).splitlines() if line not in vcs]
    lines += [f"{wheel} --hash=sha256:{sha256}" for wheel, sha256 in built.values()]
    done = install_hashed(venv, lines, work / "requirements.txt", options=options, timeout=PIP_TIMEOUT, env=credentials)
    if done.returncode == 0 and vcs:
        indexes = [line for line in lines if line.startswith("-")]
        done = install_hashed(
            venv, [*indexes, *vcs], work / "requirements-git.txt", options=options, timeout=PIP_TIMEOUT,
            hashed=False, env=credentials,
        )
    if done.returncode != 0:
        output = done.stdout + done.stderr
        if "HASHES" in output.upper() and "DO NOT MATCH" in output.upper():
            raise Refused(
                "a locked Python file did not match its sha256 in the lock: upstream serves other bytes now; "
                f"find out why (releaser check --online) before relocking:\n{output_tail(output, TAIL)}"
            )
        raise UpstreamError(f"installing the locked Python packages failed:\n{output_tail(output, TAIL)}")


def _built_wheels(config: ReleaseConfig, lock: Lock, work: Path, http: Http | None) -> dict[str, tuple[Path, str]]:
    """name -> (wheel, sha256) of each pin built here from its sdist, its files fetched and verified first."""
    from releaser.ecosystems.python.files import choose_python_file

    pins = built_here(lock)
    if not pins:
        return {}
    sdists = {p.name: choose_python_file(p) for p in pins}
    items = [PinnedFile(p, sdists[p.name], PurePosixPath("python", sdists[p.name].name), f"python {p.name} {p.version}") for p in pins]
    targets = [(item, work / "sdists" / Path(*item.rel.parts)) for item in items + build_files(lock)]
    with session(http) as web:
        Fetcher(rc="the build", mismatch=changed_upstream, http=web, userinfo=configured_userinfo(config)).fetch_all(targets)
    paths = {item.rel: path for item, path in targets}
    return {p.name: build_wheel(p, paths[PurePosixPath("python", sdists[p.name].name)], paths, work) for p in pins}


def changed_upstream(item: PinnedFile, _origin: str, sha256: str, _size: int) -> ReleaserError:
    pin, artifact = item.pin, item.artifact
    return Refused(
        f"{pin.kind} {pin.name} {pin.version}: {artifact.url} now serves other bytes "
        f"(sha256 {sha256[:12]}…, locked {artifact.sha256[:12]}…); find out why (releaser check --online) before relocking"
    )
