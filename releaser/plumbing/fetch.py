"""Pinned files fetched again: each put in place only once its bytes are the pinned ones.

A pinned file is a lock's or a record's `Artifact`: a URL, a sha256 and a size.
`releaser cut` fetches a lock's Maven and URL files into `dist/<rc>/deps/`;
`releaser reproduce` and `releaser bundle` fetch a record's files. Both through
`Fetcher`:

- a file already in place is hashed and kept when it is right (a re-run downloads
  nothing), replaced by the pinned bytes when it is not;
- a download (or a copy out of a bundle) lands under a hidden `.unverified` name
  and is renamed into place only when its sha256 and size are the pinned ones;
  otherwise nothing takes its place and the error names the file;
- files are fetched concurrently, and every failure is collected and told at once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from releaser.core.errors import Refused, ReleaserError, UpstreamError
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
        """'kept', 'downloaded' or 'copied'; a mismatch raises and leaves nothing at `dest`."""
        expected = item.artifact
        if dest.is_file():
            if sha256_of(dest) == (expected.sha256, expected.size):
                return "kept"
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
