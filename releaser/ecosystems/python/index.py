"""Read a Python package index: every file of a pinned version, for every platform.

PEP 691 JSON first (with PEP 700 sizes and upload times), PEP 503 HTML as the
fallback. pip-compile decides *which* version; this module records *all* of that
version's files, so the lock holds the wheels of every platform, not only this
machine's.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from releaser.core import documents
from releaser.core.errors import UpstreamError
from releaser.core.lockfile import Artifact
from releaser.core.redact import strip_credentials
from releaser.plumbing.http import Http

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_SHA256 = re.compile(r"[0-9a-f]{64}")
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str  # absolute, may carry the index's credentials: never write it as is
    sha256: str | None
    size: int | None
    uploaded: datetime | None
    yanked: bool
    # PEP 503 `data-requires-python`, PEP 691 `requires-python`: the Pythons it installs on,
    # as written (a resolver skips a file whose specifier excludes its Python).
    requires_python: str | None = None


@dataclass(frozen=True)
class VersionFiles:
    index: str  # the index URL, as configured
    artifacts: tuple[Artifact, ...]
    date: datetime | None  # the first upload: when this version appeared
    yanked: tuple[str, ...] = ()  # the files of it the index marks yanked (PEP 592)


class PackageIndexReader:
    """Project pages of several indexes, each fetched once and shared across threads.

    A page is kept as the index sent it and read into files only for what is asked: every
    file (`project_files`), or one version's (`version_files`): a lock never validates the
    thousands of files of the versions it does not pin (botocore's page is 2 MB)."""

    def __init__(self, http: Http, index_urls: tuple[str, ...]) -> None:
        self.http = http
        self.index_urls = index_urls
        self._pages: dict[tuple[str, str], _Document | None] = {}
        self._lock = threading.Lock()

    def fetch(self, index_url: str, name: str) -> _Document | None:
        """Project `name`'s page on `index_url`, fetched once; None when the index does not know it."""
        key = (index_url, canonicalize_name(name))
        with self._lock:
            if key in self._pages:
                return self._pages[key]
        page = index_url.rstrip("/") + f"/{key[1]}/"
        response = self.http.page(page, what=f"index page of {name}", accept=ACCEPT, ok_missing=True)
        document = None
        if response is not None:
            if response.media_type == JSON_TYPE:
                found = documents.json_document(response.content, strip_credentials(page), UpstreamError)
                document = _Document(page, _json_files(page, found), True)
            else:
                document = _Document(page, _anchors(response.text), False)
        with self._lock:
            self._pages[key] = document
        return document

    def project_files(self, index_url: str, name: str) -> list[IndexFile] | None:
        """The files the index lists for project `name`, each checked; None when it does not know it."""
        document = self.fetch(index_url, name)
        return None if document is None else document.files()

    def version_files(self, name: str, version: str, *, cutoff: datetime, dated: bool) -> VersionFiles:
        """Every file of `name==version` uploaded before `cutoff`, from the first index with any.

        With `dated`, a file without an upload time is an error naming the index:
        a lock that claims a cut-off must be able to prove it.
        """
        wanted = Version(version)

        def of_version(filename: str) -> bool:
            return _quick_version(filename) == wanted and filename_version(filename, name) == wanted

        for index_url in self.index_urls:
            document = self.fetch(index_url, name)
            chosen = document.files(of_version) if document is not None else []
            if dated and any(f.uploaded is None for f in chosen):
                raise missing_upload_times(index_url)
            chosen = [f for f in chosen if f.uploaded is None or f.uploaded < cutoff]
            if chosen:
                artifacts = tuple(self._artifact(f, name) for f in chosen)
                dates = [f.uploaded for f in chosen if f.uploaded is not None]
                yanked = tuple(sorted(f.filename for f in chosen if f.yanked))
                return VersionFiles(index_url, artifacts, min(dates) if dates else None, yanked)
        indexes = ", ".join(strip_credentials(u) for u in self.index_urls)
        raise UpstreamError(f"{name}=={version}: no file of it uploaded before the cut-off on {indexes}")

    def _artifact(self, f: IndexFile, name: str) -> Artifact:
        sha256, size = f.sha256, f.size
        if sha256 is None or size is None:
            # The index did not say: hash the real bytes rather than record a guess.
            sha256, size = self.http.download(f.url, None, what=f"{name} file {f.filename}")
        return Artifact(name=f.filename, url=strip_credentials(f.url), sha256=sha256, size=size, date=f.uploaded)


def missing_upload_times(index_url: str) -> UpstreamError:
    """The error for a dated lock against an index that cannot date its files."""
    return UpstreamError(
        f"{strip_credentials(index_url)} gives no upload times (PEP 700); --as-of needs them. "
        "Lock without --as-of, or use an index that publishes them"
    )


def filename_version(filename: str, name: str) -> Version | None:
    """The version in a wheel's or sdist's file name, when it is a file of project `name`."""
    try:
        if filename.endswith(".whl"):
            project, version, *_ = parse_wheel_filename(filename)
        else:
            project, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return version if project == canonicalize_name(name) else None


@dataclass(frozen=True)
class _Document:
    """A project page as the index sent it, not yet checked file by file."""

    page: str  # its URL
    entries: list[Any]  # JSON: the `files` array; HTML: (href, text, yanked, requires-python) of each anchor
    json: bool

    def files(self, wanted: Callable[[str], bool] | None = None) -> list[IndexFile]:
        """The page's files (those whose name is `wanted`, when given), every field checked."""
        if self.json:
            return _json_entries(self.page, self.entries, wanted)
        return _html_files(self.page, self.entries, wanted)


@functools.lru_cache(maxsize=4096)
def _parsed_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _quick_version(filename: str) -> Version | None:
    """The version a wheel's or sdist's file name carries, split as `packaging` splits it, its
    name unchecked: a cheap first cut over thousands of files, confirmed by `filename_version`."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        text = parts[1] if len(parts) in (5, 6) else ""
    elif filename.endswith(".tar.gz"):
        text = filename[: -len(".tar.gz")].rpartition("-")[2]
    elif filename.endswith(".zip"):
        text = filename[: -len(".zip")].rpartition("-")[2]
    else:
        return None
    return _parsed_version(text)


def _parse_json(page: str, doc: object) -> list[IndexFile]:
    """A PEP 691 project page; every field checked before it can reach a lock (UpstreamError)."""
    return _json_entries(page, _json_files(page, doc), None)


def _json_files(page: str, doc: object) -> list[Any]:
    """The `files` array of a PEP 691 project page, its entries not yet checked."""
    if not isinstance(doc, dict) or not isinstance(doc.get("files", []), list):
        raise _bad(page, "is not a PEP 691 project page (no list of files)")
    return list(doc.get("files", []))


def _json_entries(page: str, entries: list[Any], wanted: Callable[[str], bool] | None) -> list[IndexFile]:
    """The files of a PEP 691 page (only those whose name is `wanted`, when given): UpstreamError
    for any of them with a field releaser could not record as it is."""
    files = []
    for i, f in enumerate(entries):
        if wanted is not None and not (isinstance(f, dict) and isinstance(f.get("filename"), str) and wanted(f["filename"])):
            continue
        if not isinstance(f, dict):
            raise _bad(page, f"files[{i}] is not an object")
        filename, href = _field(page, f, "filename", str), _field(page, f, "url", str)
        url, fragment = urldefrag(urljoin(page, href))
        hashes = f.get("hashes") or {}
        if not isinstance(hashes, dict):
            raise _bad(page, f"{_short(filename)}: hashes is not an object")
        size = f.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_SIZE):
            raise _bad(page, f"{_short(filename)}: size {_short(size)} is not a byte count")
        files.append(
            IndexFile(
                filename=_file_name(page, filename),
                url=_file_url(page, url, filename),
                sha256=_sha256(page, filename, hashes.get("sha256") or _fragment_sha256(fragment)),
                size=size,
                uploaded=_upload_time(page, filename, f.get("upload-time")),
                yanked=bool(f.get("yanked")),
                requires_python=_requires_python(f.get("requires-python")),
            )
        )
    return files


MAX_FILE_SIZE = 2**63 - 1  # what a lock (TOML, 64-bit integers) can hold; PyPI's largest file is a few GB


def _bad(page: str, what: str) -> UpstreamError:
    return UpstreamError(f"{strip_credentials(page)}: {what}; refused (nothing from it is recorded)")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field(page: str, f: dict[str, Any], key: str, kind: type) -> Any:
    value = f.get(key)
    if not isinstance(value, kind):
        raise _bad(page, f"a file's {key} is {'missing' if value is None else 'not a ' + kind.__name__}")
    return value


def _file_name(page: str, name: str) -> str:
    """A file name that can be a path segment: no separators, no `..`, no control characters."""
    if not name or len(name) > 255 or "/" in name or "\\" in name or name in (".", "..") or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise _bad(page, f"file name {_short(name)} is not a plain file name")
    return name


def _file_url(page: str, url: str, name: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(page, f"{_short(name)}: its URL is not http(s)")
    return url


def _sha256(page: str, name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise _bad(page, f"{_short(name)}: sha256 {_short(value)} is not 64 hex digits")
    return value.lower()


def _upload_time(page: str, name: str, value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise _bad(page, f"{_short(name)}: upload-time {_short(value)} is not an ISO 8601 time with a zone")
    return moment


def _requires_python(value: object) -> str | None:
    """A file's Requires-Python as the page gives it; anything but a string is none, as pip takes it."""
    return value if isinstance(value, str) and value.strip() else None


def _parse_html(page: str, text: str) -> list[IndexFile]:
    """A PEP 503 project page, every file checked."""
    return _html_files(page, _anchors(text), None)


def _anchors(text: str) -> list[tuple[str, str, bool, str | None]]:
    parser = _Anchors()
    parser.feed(text)
    return parser.anchors


def _html_files(page: str, anchors: list[tuple[str, str, bool, str | None]], wanted: Callable[[str], bool] | None) -> list[IndexFile]:
    """The files a PEP 503 page links to (only those whose name is `wanted`, when given). A file's
    name is the last segment of its URL's path, as pip takes it: the bytes pip would install are
    those of that URL, whatever the anchor says. An anchor whose text names another file is
    refused, not trusted either way."""
    files = []
    for href, text_name, yanked, requires_python in anchors:
        url, fragment = urldefrag(urljoin(page, href))
        if urlsplit(url).scheme not in ("http", "https") or not text_name:
            continue  # not a file of this index (a mailto:, a javascript: link)
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if wanted is not None and not (wanted(filename) or wanted(text_name)):
            continue
        if filename != text_name:
            raise _bad(page, f"the anchor {_short(text_name)} links to a file named {_short(filename)}")
        sha256 = _sha256(page, filename, _fragment_sha256(fragment))
        files.append(IndexFile(_file_name(page, filename), url, sha256, None, None, yanked, _requires_python(requires_python)))
    return files


def _fragment_sha256(fragment: str) -> str | None:
    algo, _, value = fragment.partition("=")
    return value if algo == "sha256" and value else None


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str, bool, str | None]] = []  # href, text, yanked, requires-python
        self._current: dict[str, str | None] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._current, self._text = dict(attrs), ""

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._current is not None:
            href = self._current.get("href")
            if href:
                requires_python = self._current.get("data-requires-python")  # unescaped by HTMLParser
                self.anchors.append((href, self._text.strip(), "data-yanked" in self._current, requires_python))
            self._current = None

