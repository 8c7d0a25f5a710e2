"""Index pages kept between runs, each revalidated with the index before it is used.

A page is kept with its validators (`ETag`, `Last-Modified`) under
`$XDG_CACHE_HOME/releaser/pages/` (`~/.cache` by default), one file per URL and Accept
header, named by their sha256 (a URL may carry credentials: it is never a file name, and
is kept stripped of them). The next request for it asks `If-None-Match` /
`If-Modified-Since`; an index that answers 304 Not Modified has said the kept body is
still its answer, so the body is not sent again. A page is never used without asking:
a lock sees what the index says now, only faster. An answer marked `no-store`, or
without a validator, is not kept. A kept file that cannot be read is a miss, never an
error; failing to keep one is no error either.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core.redact import strip_credentials

if TYPE_CHECKING:
    from collections.abc import Mapping

FORMAT = 1  # of the kept file's header line; another format is a miss


def default_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "releaser" / "pages"


@dataclass(frozen=True)
class Kept:
    """A page as an index last sent it, with the validators to ask whether it still is."""

    content: bytes
    content_type: str
    etag: str | None
    last_modified: str | None

    def conditions(self) -> dict[str, str]:
        """The headers that ask the index to answer 304 when this is still its page."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class PageCache:
    def __init__(self, directory: Path | None = None) -> None:
        from releaser.plumbing.cachetrim import prune_unused

        self.directory = directory or default_dir()
        prune_unused(self.directory)  # a stat of its stamp; once a day, the pages unused for long go

    def _path(self, url: str, accept: str | None) -> Path:
        key = hashlib.sha256(f"{url}\n{accept or ''}".encode()).hexdigest()
        return self.directory / key

    def lookup(self, url: str, accept: str | None) -> Kept | None:
        path = self._path(url, accept)
        try:
            raw = path.read_bytes()
            head, _, content = raw.partition(b"\n")
            meta = json.loads(head)
            if meta.get("format") != FORMAT or meta.get("size") != len(content):  # a torn or foreign file
                return None
            kept = Kept(content, str(meta["content-type"]), meta.get("etag"), meta.get("last-modified"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not kept.conditions():
            return None
        from releaser.plumbing.cachetrim import mark_used

        mark_used(path)
        return kept

    def keep(self, url: str, accept: str | None, content: bytes, headers: Mapping[str, str]) -> None:
        """Keep `content` as `url`'s page when the answer (`headers`) allows it and can be revalidated."""
        etag, modified = headers.get("ETag"), headers.get("Last-Modified")
        if not (etag or modified) or "no-store" in headers.get("Cache-Control", "").lower():
            return
        meta = {
            "format": FORMAT, "url": strip_credentials(url), "size": len(content),
            "content-type": headers.get("Content-Type", ""), "etag": etag, "last-modified": modified,
        }
        path = self._path(url, accept)
        # Private (0600 in a 0700 folder: a private index's page is the user's alone), and put in
        # place by a rename, so a reader sees a whole file or none; not synced: a page lost in a
        # crash is fetched again.
        import tempfile

        tmp = None
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=self.directory)
            with os.fdopen(fd, "wb") as f:
                f.write(json.dumps(meta).encode() + b"\n" + content)
            os.replace(tmp, path)
        except OSError:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
