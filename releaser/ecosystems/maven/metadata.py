"""What a Maven repository says about an artifact: maven-metadata.xml and directory listings.

XML is parsed only with defusedxml: a document that declares entities (the
"billion laughs") or reaches for external ones is refused, never expanded.
Every name taken from a repository's answer is checked before it becomes part
of a URL or a file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from releaser.core.errors import UpstreamError
from releaser.core.redact import strip_credentials

METADATA = "maven-metadata.xml"
BUILD = re.compile(r"^(?P<base>.+)-(?P<stamp>[0-9]{8}\.[0-9]{6})-(?P<number>[0-9]+)$")
_SAFE = re.compile(r"^[A-Za-z0-9_.+\-]+$", re.ASCII)


@dataclass(frozen=True)
class ArtifactMetadata:
    """`{group}/{artifact}/maven-metadata.xml`: the versions a repository has."""

    versions: tuple[str, ...]
    latest: str | None
    release: str | None
    last_updated: datetime | None


@dataclass(frozen=True)
class SnapshotMetadata:
    """`{group}/{artifact}/{v}-SNAPSHOT/maven-metadata.xml`: the builds of one snapshot."""

    last_updated: datetime | None
    # (classifier, extension) -> (value, updated), the model 1.1.0 form
    entries: dict[tuple[str, str], tuple[str, datetime | None]] = field(default_factory=dict)
    # (timestamp, build number), the older form (still written beside the new one)
    snapshot: tuple[str, int] | None = None

    def build_for(self, base_version: str, classifier: str, extension: str) -> tuple[str, datetime | None] | None:
        """(timestamped version, updated) of the build for one file, as Maven picks it.

        The entry keyed by classifier and extension wins; without one, the
        `<snapshot>` element names the build of every file of the version.
        """
        if (classifier, extension) in self.entries:
            return self.entries[(classifier, extension)]
        if self.snapshot is not None:
            stamp, number = self.snapshot
            value = f"{base_version.removesuffix('-SNAPSHOT')}-{stamp}-{number}"
            return value, self.last_updated or build_time(value)
        return None


def parse_xml(data: bytes, url: str) -> Any:
    """The document's root with namespaces removed; UpstreamError for hostile or broken XML."""
    shown = strip_credentials(url)
    root = xml_root(data, UpstreamError, hostile=f"refused hostile XML in {shown}", broken=f"{shown}: malformed XML")
    if root.tag != "metadata":
        raise UpstreamError(f"{shown}: not Maven metadata (root element <{root.tag}>)")
    return root


def xml_root(data: bytes, error: type[Exception], *, hostile: str, broken: str) -> Any:
    """The root of a document parsed only with defusedxml, namespaces removed.

    `error(hostile + ...)` for entity declarations or external references (never
    expanded), `error(broken + ": ...")` for anything else that is not XML.
    """
    try:
        root = SafeET.fromstring(data)
    except defusedxml.DefusedXmlException:
        raise error(f"{hostile} (entity declarations or external references)") from None
    except ParseError as exc:
        raise error(f"{broken}: {exc}") from None
    except (LookupError, ValueError, UnicodeError) as exc:  # e.g. encoding="x-evil": expat cannot decode it
        raise error(f"{broken}: unreadable XML ({type(exc).__name__}: {str(exc)[:80]})") from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.rpartition("}")[2]
    return root


def artifact_metadata(data: bytes, url: str) -> ArtifactMetadata:
    root = parse_xml(data, url)
    versioning = root.find("versioning")
    if versioning is None:
        return ArtifactMetadata((), None, None, None)
    versions = tuple(safe_name(_text(v), url) for v in versioning.findall("versions/version") if _text(v))
    latest, release = _text(versioning.find("latest")), _text(versioning.find("release"))
    return ArtifactMetadata(
        versions,
        safe_name(latest, url) if latest else None,
        safe_name(release, url) if release else None,
        maven_time(_text(versioning.find("lastUpdated")), url),
    )


def snapshot_metadata(data: bytes, url: str) -> SnapshotMetadata:
    root = parse_xml(data, url)
    versioning = root.find("versioning")
    if versioning is None:
        return SnapshotMetadata(None)
    last_updated = maven_time(_text(versioning.find("lastUpdated")), url)
    entries: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    for sv in versioning.findall("snapshotVersions/snapshotVersion"):
        value = _text(sv.find("value"))
        if not value:
            continue
        key = (_text(sv.find("classifier")), _text(sv.find("extension")) or "jar")
        updated = maven_time(_text(sv.find("updated")), url) or last_updated
        known = entries.get(key)
        if known is None or (updated and (known[1] is None or updated > known[1])):
            entries[key] = (safe_name(value, url), updated)
    snapshot = None
    element = versioning.find("snapshot")
    if element is not None:
        stamp, number = _text(element.find("timestamp")), _text(element.find("buildNumber"))
        if stamp and number:
            if not re.fullmatch(r"[0-9]{8}\.[0-9]{6}", stamp) or not re.fullmatch(r"[0-9]{1,9}", number):
                raise UpstreamError(f"{strip_credentials(url)}: malformed snapshot timestamp {stamp!r}-{number!r}")
            snapshot = (stamp, int(number))
    return SnapshotMetadata(last_updated, entries, snapshot)


def maven_time(text: str, url: str) -> datetime | None:
    """`yyyyMMddHHmmss` (lastUpdated, updated) or `yyyyMMdd.HHmmss` (a build), in UTC."""
    if not text:
        return None
    for layout in ("%Y%m%d%H%M%S", "%Y%m%d.%H%M%S") if _ascii_digits(text.replace(".", "", 1)) else ():
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise UpstreamError(f"{strip_credentials(url)}: malformed timestamp {text[:40]!r}")


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def build_time(value: str) -> datetime | None:
    """The UTC build time inside a timestamped snapshot version, e.g. 1.0-20071115.230503-12."""
    match = BUILD.match(value)
    return maven_time(match["stamp"], value) if match else None


def safe_name(name: str, url: str) -> str:
    """`name` if it can be part of a path: no separators, no `..`, nothing exotic."""
    if "/" in name or "\\" in name or ".." in name:
        raise UpstreamError(f"refused path trick {name[:80]!r} in {strip_credentials(url)}")
    if not _SAFE.match(name):
        raise UpstreamError(f"refused unexpected characters in {name[:80]!r} in {strip_credentials(url)}")
    return name


def listing_names(html: str) -> list[str] | None:
    """The file names a directory listing links to, or None when it has no anchors at all.

    Nexus links absolute URLs, Apache and Artifactory relative ones: only the last
    path segment counts. Parent and sub-directory links are kept out.
    """
    parser = _Anchors()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # an HTML parser error means: no listing we can read
        return None
    if not parser.hrefs:
        return None
    names = []
    for href in parser.hrefs:
        path = unquote(urlsplit(href).path)
        if not path or path.endswith("/"):
            continue
        name = path.rpartition("/")[2]
        if name and "\\" not in name and ".." not in name:
            names.append(name)
    return names


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def listed_builds(names: list[str], artifact: str, base_version: str, classifier: str, extension: str) -> list[str]:
    """Timestamped versions of `base_version` whose file for (classifier, extension) is listed.

    `{artifact}-{base}-{yyyyMMdd.HHmmss}-{n}[-{classifier}].{extension}`, e.g.
    ical4j-1.0-20071115.230503-12.jar for 1.0-SNAPSHOT.
    """
    base = base_version.removesuffix("-SNAPSHOT")
    suffix = (f"-{re.escape(classifier)}" if classifier else "") + "." + re.escape(extension)
    pattern = re.compile(rf"^{re.escape(artifact)}-(?P<value>{re.escape(base)}-[0-9]{{8}}\.[0-9]{{6}}-[0-9]+){suffix}$")
    return sorted({m["value"] for m in map(pattern.match, names) if m})
