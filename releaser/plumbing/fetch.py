"""Pinned files fetched again: each put in place only once its bytes are the pinned ones.

A pinned file is a lock's or a record's `Artifact`: a URL, a sha256 and a size.
`releaser cut` fetches a lock's Python files into releaser's cache of verified files
(`verified_cache`) and its Maven and URL files into `dist/<rc>/deps/`; `releaser
reproduce` and `releaser bundle` fetch a record's files. All through `Fetcher`:

- a file already in place is hashed and kept when it is right (a re-run downloads
  nothing), replaced by the pinned bytes when it is not; one with the pinned sha256 but
  not the stated size is the pinned bytes and the statement is wrong: refused, the
  file left as it is;
- a download (or a copy out of a bundle) lands under a hidden `.unverified` name
  and is renamed into place only when its sha256 and size are the pinned ones;
  otherwise nothing takes its place and the error (`other_bytes`) names the file, and
  what was stated against what came;
- files are fetched concurrently, and every failure is collected and told at once.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from releaser.core.errors import ConfigError, Refused, ReleaserError, UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.core.progress import Counter, Progress
from releaser.core.redact import strip_credentials
from releaser.plumbing.credentials import with_userinfo
from releaser.plumbing.fsutil import sha256_of

if TYPE_CHECKING:
    from releaser.plumbing.http import Http


@dataclass(frozen=True)
class PinnedFile:
    """One pinned file, its path in a tree (`python/...`, `maven/...`) and how messages name it."""

    pin: Pin
    artifact: Artifact
    rel: PurePosixPath
    what: str


_SHA256 = re.compile(r"[0-9a-f]{64}")

# (the file, where its bytes came from, their sha256, their size) -> the error to raise
Mismatch = Callable[[PinnedFile, str, str, int], ReleaserError]


class Fetcher:
    """Puts pinned files in place: kept when right, else downloaded (or copied from a bundle) and verified.

    `rc` names the RC the files are fetched for; `mismatch` makes the error for bytes
    other than the pinned ones; `hint` ends the message of a failed download;
    `userinfo` gives credentials by host (see `releaser.plumbing.credentials`). With `bundle`,
    every file is copied from `bundle/<rel>` instead.
    """

    def __init__(
        self,
        *,
        rc: str,
        mismatch: Mismatch,
        http: Http | None = None,
        bundle: Path | None = None,
        userinfo: Mapping[str, str] | None = None,
        hint: str = "",
    ) -> None:
        if (http is None) == (bundle is None):
            raise ValueError("a Fetcher takes its files from http or from a bundle")
        self.rc, self.mismatch, self.http, self.bundle = rc, mismatch, http, bundle
        self.userinfo, self.hint = userinfo or {}, hint

    def fetch(self, item: PinnedFile, dest: Path) -> str:
        """'kept', 'downloaded' or 'copied'; a mismatch raises and leaves nothing new at `dest`."""
        expected = item.artifact
        if dest.is_file():
            found = sha256_of(dest)
            if found == (expected.sha256, expected.size):
                return "kept"
            if found[0] == expected.sha256:  # the pinned bytes, kept: it is the stated size that is wrong
                raise self.mismatch(item, "the file in place", *found)
            dest.unlink()  # not the pinned bytes: replaced by them, never kept
        dest.parent.mkdir(parents=True, exist_ok=True)
        unverified = dest.with_name(f".{dest.name}.unverified")
        unverified.unlink(missing_ok=True)
        try:
            if self.bundle is not None:
                source = self.bundle / item.rel
                if not source.is_file():
                    raise Refused(f"{item.what}: the bundle {self.bundle} has no {item.rel}; it is not a complete bundle of {self.rc}")
                sha256, size = _copy_hashing(source, unverified)
                origin = f"the bundle's {item.rel}"
            else:
                assert self.http is not None
                try:
                    sha256, size = self.http.download(with_userinfo(expected.url, self.userinfo), unverified, what=item.what)
                except UpstreamError as exc:
                    raise type(exc)(f"{exc}{self.hint}") from None
                origin = f"upstream ({strip_credentials(expected.url)})"
            if (sha256, size) != (expected.sha256, expected.size):
                raise self.mismatch(item, origin, sha256, size)
            os.replace(unverified, dest)
        finally:
            unverified.unlink(missing_ok=True)
        return "copied" if self.bundle is not None else "downloaded"

    def fetch_all(
        self, items: list[tuple[PinnedFile, Path]], *, doing: str = "fetched", progress: Progress | None = None
    ) -> dict[str, list[PinnedFile]]:
        """Every (file, destination), concurrently: status -> files. Every failure is raised together."""
        from releaser.plumbing.http import concurrently

        counter = Counter(progress, "fetch", f"files {doing}", len(items))

        def one(pair: tuple[PinnedFile, Path]) -> str | ReleaserError:
            try:
                return self.fetch(*pair)
            except ReleaserError as exc:
                return exc
            finally:
                counter.tick()

        outcome = self.http.map(one, items) if self.http is not None else concurrently(one, items)
        raise_failures([(item.artifact.name, e) for (item, _), e in zip(items, outcome)], doing=doing)
        done: dict[str, list[PinnedFile]] = {}
        for (item, _), status in zip(items, outcome):
            done.setdefault(status, []).append(item)  # type: ignore[arg-type]
        return done


def other_bytes(item: PinnedFile, origin: str, sha256: str, size: int, *, stated_by: str) -> str:
    """One line: `item`'s bytes from `origin` are not what `stated_by` (the lock, an RC's record) states.

    The same sha256 with another size means the bytes are the pinned ones and the stated
    size is wrong (an edited lock, an index that misstated it): said so, sizes first.
    """
    expected = item.artifact
    if sha256 == expected.sha256:
        return f"{item.what}: {stated_by} states {expected.size} bytes, but the file with that sha256 has {size} bytes"
    return (
        f"{item.what}: {origin} now has other bytes than {stated_by} states: "
        f"sha256 {sha256} ({size} bytes), not {expected.sha256} ({expected.size} bytes)"
    )


def raise_failures(outcomes: list[tuple[str, object]], *, doing: str) -> None:
    """Raise the errors among (name, outcome) as one: every name, then the first one's whole story."""
    failed = [(name, e) for name, e in outcomes if isinstance(e, ReleaserError)]
    if not failed:
        return
    if len(failed) == 1:
        raise failed[0][1]
    worst = max((e for _, e in failed), key=lambda e: e.exit_code)
    names = ", ".join(name for name, _ in failed)
    raise type(worst)(f"{len(failed)} could not be {doing} ({names}); the first: {failed[0][1]}")


@contextmanager
def verified_cache() -> Iterator[Path]:
    """releaser's cache of verified files, `<sha256>/<file>`, held by this process alone while it fetches.

    Every file there was renamed into place only once its bytes were verified, and is
    hashed again whenever it is used (`Fetcher.fetch`), so a run fetches only what an
    earlier one did not; the folder may be deleted at any time. Two runs filling it at
    once would write the same `.unverified` file: the second waits for the first. Its user
    marks each entry it used (`cachetrim.mark_used`); what none used for 30 days goes.
    """
    import fcntl

    from releaser.plumbing.cachetrim import prune_unused
    from releaser.plumbing.piprun import cache_dir

    folder = cache_dir().parent / "files"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # released when the file is closed, or the process dies
        yield folder
        prune_unused(folder)  # held still: no other run is using an entry; what this one used is marked


def cached(cache: Path, item: PinnedFile) -> Path:
    """Where `item` lives in the verified cache; a stated sha256 that is not one is a bad lock (exit 2)."""
    sha256 = item.artifact.sha256
    if not _SHA256.fullmatch(sha256):
        raise ConfigError(f"{item.what}: its stated sha256 {sha256[:80]!r} is not 64 lowercase hex digits")
    return cache / sha256 / item.rel.name


@contextmanager
def session(http: Http | None) -> Iterator[Http]:
    """`http`, or a new session closed afterwards."""
    if http is not None:
        yield http
        return
    from releaser.plumbing.http import Http

    with Http() as new:
        yield new


def _copy_hashing(source: Path, dest: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with source.open("rb") as src, dest.open("wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return digest.hexdigest(), size
