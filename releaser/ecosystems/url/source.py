"""The URL source: `[[artifact]]` files pinned by the sha256 of their bytes.

A URL serves only its current bytes, so the pin is what was downloaded: its
sha256 and size, and its date when the server gives a Last-Modified header.
A relock downloads again and keeps the earlier pin while the bytes hash the
same; new bytes are pinned anew, and the lock change shows in review. With
`--as-of T`, a file last modified at or after T (or of unknown date) is an
error: releaser cannot fetch the bytes a URL served in the past.

The helpers here are shared with the Python source, which pins
`pkg @ https://.../pkg-1.0.tar.gz` requirements the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from releaser.core.errors import ConfigError, UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.git.source import keeps
from releaser.ecosystems.url.settings import UrlInput

if TYPE_CHECKING:  # `releaser check` builds this source and must not pay for requests
    from releaser.plumbing.http import Http


@dataclass(frozen=True)
class Fetched:
    """A downloaded file and what the server said about it."""

    path: Path
    sha256: str
    size: int
    date: datetime | None  # Last-Modified, UTC; None when the server did not say


def file_name(url: str, fallback: str, *, what: str) -> str:
    """The URL's last path segment as a plain file name; `fallback` when the URL ends in '/'.

    A segment that is not a plain name (`..`, `/` or `\\` once unquoted, control
    characters) is refused: the name is used as a path when files are fetched again.
    """
    segment = unquote(urlsplit(url).path.rpartition("/")[2])
    if not segment:
        return fallback
    if "/" in segment or "\\" in segment or ".." in segment or segment == "." or any(ord(c) < 32 for c in segment):
        raise ConfigError(f"{what}: {strip_credentials(url)} ends in {segment!r}, which is not a plain file name")
    return segment


def fetch(http: Http, url: str, dest: Path, *, what: str) -> Fetched:
    """Download `url` into `dest` (hashing it) and ask the server when it last changed it."""
    sha256, size = http.download(url, dest, what=what)
    return Fetched(dest, sha256, size, http.last_modified(url))


def check_cutoff(date: datetime | None, cutoff: datetime, *, what: str, url: str) -> None:
    """With --as-of: the bytes must be known to predate the cut-off."""
    iso = cutoff.astimezone(UTC).isoformat().replace("+00:00", "Z")
    shown = strip_credentials(url)
    if date is None:
        raise UpstreamError(
            f"{what}: {shown} gives no Last-Modified date, so releaser cannot establish that its bytes "
            f"predate the cut-off {iso}; lock without --as-of"
        )
    if date >= cutoff:
        raise UpstreamError(
            f"{what}: {shown} was last modified at {date.isoformat().replace('+00:00', 'Z')}, after the cut-off "
            f"{iso}; a URL serves only its current bytes, so releaser cannot lock it as of that time"
        )


class UrlSource(Source):
    """`[[artifact]]` inputs: each URL pinned to the sha256, size and date of its bytes."""

    kind = "artifact"

    def __init__(self, inputs: tuple[UrlInput, ...]) -> None:
        self.inputs = inputs

    def input_digests(self) -> dict[str, str]:
        # release.toml's [[artifact]] tables are digested with the rest of it; this
        # validates each file name before anything is downloaded.
        for item in self.inputs:
            file_name(item.url, item.name, what=f"[[artifact]] {item.name}")
        return {}

    def input_paths(self) -> list[Path]:
        return []

    def source_urls(self) -> tuple[str, ...]:
        return tuple(sorted({strip_credentials(i.url) for i in self.inputs}))

    def lock(self, request: LockRequest) -> list[Pin]:
        previous = {p.name: p for p in request.previous}
        return request.http.map(lambda item: self._pin(item, previous.get(item.name), request), self.inputs)

    def _pin(self, item: UrlInput, previous: Pin | None, request: LockRequest) -> Pin:
        what = f"artifact {item.name}"
        url = strip_credentials(item.url)
        name = file_name(item.url, item.name, what=what)
        got = fetch(request.http, item.url, request.workdir / item.name / name, what=what)
        if item.sha256 is not None and got.sha256 != item.sha256:
            raise UpstreamError(
                f"{what}: {url} has sha256 {got.sha256}, but release.toml requires {item.sha256}; nothing was recorded"
            )
        if previous is not None and previous.version == got.sha256 and keeps(previous, url, url, item.name, request):
            pin = previous
        else:
            artifact = Artifact(name=name, url=url, sha256=got.sha256, size=got.size, date=got.date)
            pin = Pin(self.kind, item.name, got.sha256, source=url, requested=url, date=got.date, artifacts=(artifact,))
        if request.dated:
            check_cutoff(pin.date, request.as_of, what=what, url=item.url)
        return pin
