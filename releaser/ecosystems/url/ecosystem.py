"""URL artifacts, as the stages see them: `[[artifact]]` files pinned by their sha256."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from releaser.core.config import CONFIG_NAME, ConfigReader, ReleaseConfig
from releaser.core.lockfile import EntryValue, InputRecord, Lock, Pin
from releaser.core.paths import plain
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import Ecosystem, Source

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.ecosystems.url.settings import UrlArtifacts, UrlInput
    from releaser.plumbing.fetch import PinnedFile

_SHA256 = re.compile(r"[0-9a-f]{64}")


class UrlEcosystem(Ecosystem):
    kind = "artifact"
    title = "URL artifacts"
    label = "artifact"
    role = "files"
    folder = "artifacts"

    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> UrlArtifacts | None:
        from releaser.ecosystems.url.settings import parse

        return parse(reader, data)

    def items(self, config: ReleaseConfig) -> tuple[UrlInput, ...]:
        """release.toml's `[[artifact]]` tables, in order (none: empty)."""
        found = cast("UrlArtifacts | None", config.inputs_of(self.kind))
        return found.items if found is not None else ()

    def source(self, config: ReleaseConfig) -> Source | None:
        if not self.items(config):
            return None
        from releaser.ecosystems.url.source import UrlSource

        return UrlSource(self.items(config))

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        return {
            a.name: {"url": strip_credentials(a.url), **({"sha256": a.sha256} if a.sha256 else {})}
            for a in self.items(config)
        } or None

    def floats(self, pin: Pin) -> str | None:
        return None if pin.artifacts else "has no recorded sha256"

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        from releaser.core.verdict import Finding

        pinned = {p.name for p in lock.of_kind(self.kind)}
        return [
            Finding("uncovered", CONFIG_NAME, f"{self.kind} {a.name} is not pinned in {lockname}")
            for a in self.items(config) if a.name not in pinned
        ]

    def shown_version(self, version: str) -> str:
        return "sha256:" + version[:12] if _SHA256.fullmatch(version) else version

    def purl(self, pin: Pin) -> Any:
        from packageurl import PackageURL

        qualifiers = {"download_url": pin.source}
        if pin.artifacts:
            qualifiers["checksum"] = f"sha256:{pin.artifacts[0].sha256}"
        return PackageURL(type="generic", name=pin.name, version=pin.version, qualifiers=qualifiers)

    def files(self, pins: Sequence[Pin], *, here: bool) -> list[PinnedFile]:
        """artifacts/<file>; files of different bytes under one name go under artifacts/<pin>/."""
        from releaser.plumbing.fetch import PinnedFile

        placed = super().files(pins, here=here)
        counts: dict[str, set[str]] = {}
        for item in placed:
            counts.setdefault(item.artifact.name, set()).add(item.artifact.sha256)
        return [
            PinnedFile(item.pin, item.artifact, PurePosixPath(self.folder, plain(item.pin.name, f"{self.kind} {item.pin.name}"), item.artifact.name), item.what)
            if len(counts[item.artifact.name]) > 1 else item
            for item in placed
        ]


ECOSYSTEM = UrlEcosystem()
