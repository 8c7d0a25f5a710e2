"""The one HTTP layer every source uses.

A shared session (connection reuse), timeouts on every request, retries with
backoff on 5xx answers and connection errors, and a bounded thread pool to fetch
independent things concurrently. Credentials come from the URL or `~/.netrc`
(requests reads it); every error message is scrubbed of them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterable, TypeVar

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from releaser import __version__
from releaser.core.errors import UpstreamError, UpstreamMissing
from releaser.core.redact import scrub, strip_credentials

T = TypeVar("T")
R = TypeVar("R")

TIMEOUT = (10, 60)  # connect, read (seconds)
WORKERS = 16


class Http:
    def __init__(self, *, retries: int = 3, backoff: float = 0.2, workers: int = WORKERS) -> None:
        self.workers = workers
        self.session = requests.Session()
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=("GET", "HEAD"),
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=workers, pool_maxsize=workers)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = f"releaser/{__version__}"

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def get(self, url: str, *, what: str, accept: str | None = None, ok_missing: bool = False) -> requests.Response | None:
        """GET `url`; UpstreamError naming `what` and the URL on failure.

        With `ok_missing`, a 404 returns None (the caller decides what absence means).
        """
        headers = {"Accept": accept} if accept else {}
        try:
            response = self.session.get(url, headers=headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise UpstreamError(scrub(f"{what}: cannot reach {strip_credentials(url)}: {reason(exc)}")) from None
        if ok_missing and response.status_code in (404, 410):
            return None
        if response.status_code >= 400:
            raise UpstreamError(
                f"{what}: {strip_credentials(url)} answered HTTP {response.status_code} {scrub(response.reason or '')}".rstrip()
            )
        return response

    def status(self, url: str, *, what: str) -> int:
        """The HTTP status `url` answers a GET with; the body is not read (an index root may be large)."""
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
        try:
            response = self.session.get(url, stream=True, timeout=TIMEOUT)
            if response.status_code in (404, 410):
                raise UpstreamMissing(f"{what}: {strip_credentials(url)} answered HTTP {response.status_code}")
            if response.status_code >= 400:
                raise UpstreamError(f"{what}: {strip_credentials(url)} answered HTTP {response.status_code}")
            if dest is not None:
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
                sink = os.fdopen(fd, "wb")
            digest, size = hashlib.sha256(), 0
            for chunk in response.iter_content(1 << 16):
                digest.update(chunk)
                size += len(chunk)
                if sink is not None:
                    sink.write(chunk)
            if sink is not None and tmp is not None and dest is not None:
                sink.close()
                os.replace(tmp, dest)
                tmp = None
        except requests.RequestException as exc:
            raise UpstreamError(scrub(f"{what}: download of {strip_credentials(url)} failed: {reason(exc)}")) from None
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
            response = self.session.head(url, timeout=TIMEOUT, allow_redirects=True)
        except requests.RequestException:
            return None
        header = response.headers.get("Last-Modified") if response.status_code < 400 else None
        if not header:
            return None
        try:
            moment = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:  # RFC 9110 dates are GMT
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)

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


def reason(exc: requests.RequestException) -> str:
    """A short cause: the innermost exception's text, not the whole chain."""
    cause: BaseException = exc
    while cause.__context__ is not None and cause.__context__ is not cause:
        cause = cause.__context__
    text = str(cause) or type(cause).__name__
    return scrub(text.splitlines()[0])[:200]
