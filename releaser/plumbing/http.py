"""The one HTTP layer every source uses.

A shared session (connection reuse), timeouts on every request, retries with
backoff on 429/5xx answers and connection errors, an overall deadline per request
(retries and body included), a stall limit (a body arriving slower than a minimum rate
for a window fails, long before the deadline) and a size cap on metadata documents
(`Limits`, from the environment), and a bounded thread pool to fetch independent things concurrently. Credentials come from the URL or `~/.netrc`
(requests reads it); every error message is scrubbed of them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from releaser import __version__
from releaser.core.errors import ConfigError, UpstreamError, UpstreamMissing
from releaser.core.redact import scrub, strip_credentials

if TYPE_CHECKING:  # imported with the session, on the first request (`Http.session`)
    import requests

    from releaser.plumbing.pagecache import PageCache

T = TypeVar("T")
R = TypeVar("R")

WORKERS = 16
# Connections kept open per origin: more than WORKERS, for the project pages read beside a
# resolver (`releaser.ecosystems.python.source`), which keep as many in flight as this.
CONNECTIONS = 32
TIMEOUT = (10, 60)  # (connect, read) for code that calls `session` itself; prefer `Http.request` (deadline, retries)
RETRY_STATUS = (429, 500, 502, 503, 504)
CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """How long and how much, from the environment (docs/check.md, "Network limits").

    `timeout`: seconds to connect, and without a byte, before an attempt fails;
    `metadata_deadline`: seconds for an index page, metadata, a checksum or a HEAD, retries and body included;
    `download_deadline`: the same for a file; `metadata_max`: bytes a metadata document may have;
    `stall_rate` (bytes/s) and `stall_window` (s): a body slower than the rate over a whole window fails
    (curl's --speed-limit/--speed-time), so a server that drips a large promise is given up on in a minute.
    """

    timeout: float = 30.0
    metadata_deadline: float = 120.0
    download_deadline: float = 1800.0
    metadata_max: int = 64 << 20
    stall_rate: float = 1024.0
    stall_window: float = 60.0

    @classmethod
    def from_env(cls) -> Limits:
        values: dict[str, float] = {}
        for name, key in _ENV.items():
            text = os.environ.get(name)
            if text is None:
                continue
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not value > 0 or value == float("inf"):
                raise ConfigError(f"{name}={text[:20]!r}: must be a positive number")
            values[key] = int(value) if key == "metadata_max" else value
        return cls(**values)  # type: ignore[arg-type]


_ENV = {
    "RELEASER_HTTP_TIMEOUT": "timeout",
    "RELEASER_METADATA_DEADLINE": "metadata_deadline",
    "RELEASER_DOWNLOAD_DEADLINE": "download_deadline",
    "RELEASER_METADATA_MAX_BYTES": "metadata_max",
    "RELEASER_STALL_RATE": "stall_rate",
    "RELEASER_STALL_WINDOW": "stall_window",
}


@dataclass(frozen=True)
class Page:
    """A metadata document as `Http.page` got it: sent now, or kept and confirmed by a 304."""

    content: bytes
    content_type: str  # the Content-Type header, parameters included

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        """The body decoded as requests decodes it (the charset named, else HTTP's default for text)."""
        from requests.utils import get_encoding_from_headers

        encoding = get_encoding_from_headers({"content-type": self.content_type}) or "utf-8"
        try:
            return self.content.decode(encoding, errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")


class Http:
    """The session, made on first use: importing `requests` costs about 0.05 s, which
    `releaser lock` spends while its resolver already runs, not before starting it.

    `pages`: where `page` keeps documents to revalidate (releaser.plumbing.pagecache):
    True, the user's cache; False, nowhere."""

    def __init__(
        self, *, retries: int = 3, backoff: float = 0.2, workers: int = WORKERS, limits: Limits | None = None,
        pages: PageCache | bool = True,
    ) -> None:
        self.workers = workers
        self.retries, self.backoff = retries, backoff
        self.limits = limits or Limits.from_env()
        self._pages: PageCache | bool = pages
        self._session: requests.Session | None = None
        self._making = threading.Lock()

    @property
    def pages(self) -> PageCache | None:
        if self._pages is True:
            from releaser.plumbing.pagecache import PageCache

            self._pages = PageCache()
        return self._pages if not isinstance(self._pages, bool) else None

    @property
    def session(self) -> requests.Session:
        with self._making:
            if self._session is None:
                from releaser.plumbing.httpsession import Session

                self._session = Session(connections=max(self.workers, CONNECTIONS), user_agent=f"releaser/{__version__}")
            return self._session

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._session is not None:
            self._session.close()

    def request(
        self, method: str, url: str, *, what: str, deadline: Deadline | None = None,
        headers: dict[str, str] | None = None, stream: bool = False,
    ) -> requests.Response:
        """One answer to `method url`, retried on 429/5xx and connection errors within the deadline.

        After the retries the last answer is returned, whatever its status; a failure
        to connect, or the deadline passing, is an UpstreamError naming `what` and the URL.
        """
        import requests

        deadline = deadline or Deadline(self.limits.metadata_deadline, url)
        session = self.session
        attempt = 0
        while True:
            left = deadline.left(what)
            timeout = (min(self.limits.timeout, left), min(self.limits.timeout, left))
            try:
                response = session.request(
                    method, url, headers=headers, stream=True, timeout=timeout, allow_redirects=True
                )
            except requests.RequestException as exc:
                if attempt >= self.retries:
                    deadline.left(what)  # a timeout because the deadline passed says so
                    raise UpstreamError(scrub(f"{what}: cannot reach {strip_credentials(url)}: {reason(exc)}")) from None
                wait = self.backoff * 2**attempt
            else:
                if response.status_code not in RETRY_STATUS or attempt >= self.retries:
                    if not stream:
                        self.read(response, url, what=what, deadline=deadline, cap=self.limits.metadata_max)
                    return response
                wait = _retry_after(response, self.backoff * 2**attempt)
                response.close()
            attempt += 1
            time.sleep(max(0.0, min(wait, deadline.left(what) - 0.01)))

    def read(self, response: requests.Response, url: str, *, what: str, deadline: Deadline, cap: int | None) -> bytes:
        """The body, read within `deadline` and at most `cap` bytes; kept as `response.content`."""
        parts, size = [], 0
        for chunk in self.chunks(response, url, what=what, deadline=deadline):
            size += len(chunk)
            if cap is not None and size > cap:
                response.close()
                raise UpstreamError(
                    f"{what}: {strip_credentials(url)} sends more than {cap} bytes, the limit for a metadata "
                    "document (RELEASER_METADATA_MAX_BYTES)"
                )
            parts.append(chunk)
        body = b"".join(parts)
        response._content = body  # what .content, .text, .json() read
        response._content_consumed = True  # type: ignore[attr-defined]  # requests has it; its stubs do not
        return body

    def chunks(self, response: requests.Response, url: str, *, what: str, deadline: Deadline) -> Iterator[bytes]:
        """The body as it arrives (read1: a server that drips cannot hold a read past the deadline)."""
        import requests
        import urllib3

        stall = Stall(self.limits, url)
        try:
            while True:
                deadline.left(what)
                chunk = response.raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    return
                stall.arrived(len(chunk), what)
                yield chunk
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            deadline.left(what)
            raise UpstreamError(scrub(f"{what}: reading {strip_credentials(url)} failed: {str(exc)[:200]}")) from None

    def get(self, url: str, *, what: str, accept: str | None = None, ok_missing: bool = False) -> requests.Response | None:
        """GET a metadata document at `url` (size-capped, within the metadata deadline).

        UpstreamError naming `what` and the URL on failure. With `ok_missing`, a 404
        returns None (the caller decides what absence means).
        """
        response = self.request("GET", url, what=what, headers={"Accept": accept} if accept else None)
        return None if _missing(response, url, what=what, ok_missing=ok_missing) else response

    def page(self, url: str, *, what: str, accept: str, ok_missing: bool = False) -> Page | None:
        """`get`, through the page cache: a page kept from an earlier run is asked for with its
        validators, and an index that answers 304 has it reused instead of sent again."""
        pages = self.pages
        kept = pages.lookup(url, accept) if pages is not None else None
        headers = {"Accept": accept, **(kept.conditions() if kept is not None else {})}
        response = self.request("GET", url, what=what, headers=headers)
        if response.status_code == 304:
            if kept is None:
                raise UpstreamError(f"{what}: {strip_credentials(url)} answered 304 Not Modified to a request for the page itself")
            return Page(kept.content, kept.content_type)
        if _missing(response, url, what=what, ok_missing=ok_missing):
            return None
        if pages is not None:
            pages.keep(url, accept, response.content, response.headers)
        return Page(response.content, response.headers.get("Content-Type", ""))

    def status(self, url: str, *, what: str) -> int:
        """The HTTP status `url` answers a GET with; the body is not read (an index root may be large)."""
        import requests

        try:
            with self.session.get(url, stream=True, timeout=TIMEOUT) as response:
                return response.status_code
        except requests.RequestException as exc:
            raise UpstreamError(scrub(f"{what}: cannot reach {strip_credentials(url)}: {reason(exc)}")) from None

    def download(self, url: str, dest: Path | None, *, what: str) -> tuple[str, int]:
        """Stream `url` into `dest` (or nowhere, when None); return (sha256, size).

        The bytes go to a temporary file renamed into place when complete, so an
        interrupted download never leaves a file that looks whole.
        """
        tmp: str | None = None
        sink = None
        deadline = Deadline(self.limits.download_deadline, url)
        try:
            response = self.request("GET", url, what=what, deadline=deadline, stream=True)
            if response.status_code in (404, 410):
                raise UpstreamMissing(f"{what}: {strip_credentials(url)} answered HTTP {response.status_code}")
            if response.status_code >= 400:
                raise UpstreamError(f"{what}: {strip_credentials(url)} answered HTTP {response.status_code}")
            if dest is not None:
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
                sink = os.fdopen(fd, "wb")
            digest, size = hashlib.sha256(), 0
            for chunk in self.chunks(response, url, what=what, deadline=deadline):
                digest.update(chunk)
                size += len(chunk)
                if sink is not None:
                    sink.write(chunk)
            if sink is not None and tmp is not None and dest is not None:
                sink.close()
                os.replace(tmp, dest)
                tmp = None
        finally:
            if sink is not None:
                sink.close()
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
        return digest.hexdigest(), size

    def last_modified(self, url: str) -> datetime | None:
        """The Last-Modified time the server gives for `url` (a HEAD request), UTC, or None.

        Any failure is None: callers ask after a download that succeeded, so a
        failing HEAD only means "no date".
        """
        try:
            response = self.request("HEAD", url, what="HEAD")
        except UpstreamError:
            return None
        header = response.headers.get("Last-Modified") if response.status_code < 400 else None
        if not header:
            return None
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:  # RFC 9110 dates are GMT
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`fn` over `items` on the pool, results in input order; the first error is raised."""
        return concurrently(fn, items, workers=self.workers)


def concurrently(fn: Callable[[T], R], items: Iterable[T], *, workers: int = WORKERS) -> list[R]:
    """`fn` over `items` on a bounded thread pool, results in input order; the first error is raised."""
    items = list(items)
    if len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


class Deadline:
    """The time one request may take in all: attempts, waits between them and the body."""

    def __init__(self, seconds: float, url: str) -> None:
        self.seconds, self.url = seconds, url
        self.end = time.monotonic() + seconds

    def left(self, what: str) -> float:
        """Seconds left; UpstreamError naming `what` and the URL once there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise UpstreamError(
                f"{what}: {strip_credentials(self.url)} did not answer in full within {self.seconds:g} s "
                "(RELEASER_METADATA_DEADLINE, RELEASER_DOWNLOAD_DEADLINE)"
            )
        return left


class Stall:
    """The stall limit over one body: each whole window must bring `stall_rate` bytes a second on average."""

    def __init__(self, limits: Limits, url: str) -> None:
        self.rate, self.window, self.url = limits.stall_rate, limits.stall_window, url
        self.start, self.seen = time.monotonic(), 0

    def arrived(self, size: int, what: str) -> None:
        """Count `size` bytes; UpstreamError naming `what` and the URL when a window closed below the rate."""
        self.seen += size
        elapsed = time.monotonic() - self.start
        if elapsed < self.window:
            return
        if self.seen < self.rate * elapsed:
            raise UpstreamError(
                f"{what}: {strip_credentials(self.url)} sent {self.seen} bytes in {elapsed:.0f} s, slower than "
                f"{self.rate:g} bytes/s over {self.window:g} s: stalled (RELEASER_STALL_RATE, RELEASER_STALL_WINDOW)"
            )
        self.start, self.seen = time.monotonic(), 0


def _missing(response: requests.Response, url: str, *, what: str, ok_missing: bool) -> bool:
    """True for a 404 or 410 when `ok_missing`; UpstreamError naming `what`, the URL and the status for any other error."""
    if ok_missing and response.status_code in (404, 410):
        return True
    if response.status_code >= 400:
        raise UpstreamError(
            f"{what}: {strip_credentials(url)} answered HTTP {response.status_code} {scrub(response.reason or '')}".rstrip()
        )
    return False


def _retry_after(response: requests.Response, default: float) -> float:
    """A 429's or 503's Retry-After in seconds (capped at a minute), else `default`."""
    try:
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", ""))))
    except ValueError:
        return default


def reason(exc: requests.RequestException) -> str:
    """A short cause: the innermost exception's text, not the whole chain."""
    cause: BaseException = exc
    while cause.__context__ is not None and cause.__context__ is not cause:
        cause = cause.__context__
    text = str(cause) or type(cause).__name__
    return scrub(text.splitlines()[0])[:200]
