"""Maven, as the stages see it: `[[maven]]` dependencies (and a project's POM) pinned with their files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from releaser.core.config import CONFIG_NAME, ConfigReader, ReleaseConfig
from releaser.core.lockfile import Artifact, EntryValue, InputRecord, Lock, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import Ecosystem, Export, Source

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.ecosystems.maven.settings import MavenInputs, MavenTables


class MavenEcosystem(Ecosystem):
    kind = "maven"
    title = "Maven"
    label = "Maven dependency"
    role = "repository"
    folder = "maven"

    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> MavenTables | None:
        from releaser.ecosystems.maven.settings import parse

        return parse(reader, data)

    def blocks(self, config: ReleaseConfig) -> tuple[MavenInputs, ...]:
        """release.toml's `[[maven]]` tables, in order (none: empty)."""
        found = cast("MavenTables | None", config.inputs_of(self.kind))
        return found.blocks if found is not None else ()

    def source(self, config: ReleaseConfig) -> Source | None:
        if not self.blocks(config):
            return None
        from releaser.ecosystems.maven.source import MavenSource

        return MavenSource(config.path, self.blocks(config))  # one source for every [[maven]] table

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        return {
            c.key: {"version": c.version, "repository": strip_credentials(block.repository)}
            for block in self.blocks(config)
            for c in block.dependencies
        } or None

    def floats(self, pin: Pin) -> str | None:
        version = pin.version
        if version.endswith("-SNAPSHOT"):
            return "is a -SNAPSHOT, not a timestamped build"
        if version in ("LATEST", "RELEASE"):
            return f"{version} is whatever the repository says today"
        if version[:1] in "[(" or "," in version:
            return "is a version range"
        if not pin.artifacts:
            return "has no sha256"
        return None

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        from releaser.core.verdict import Finding

        pinned = {p.name for p in lock.of_kind(self.kind)}
        return [
            Finding("uncovered", CONFIG_NAME, f"Maven dependency {coordinate} is not pinned in {lockname}")
            for block in self.blocks(config)
            for coordinate in block.dependencies
            if coordinate.key not in pinned and str(coordinate) not in pinned
        ]

    def purl(self, pin: Pin) -> Any:
        from packageurl import PackageURL

        group, artifact, *rest = pin.name.split(":")
        qualifiers = {"type": rest[0]} if rest and rest[0] != "jar" else {}
        if len(rest) > 1:
            qualifiers["classifier"] = rest[1]
        return PackageURL(type="maven", namespace=group, name=artifact, version=pin.version, qualifiers=qualifiers)

    def sbom_group(self, pin: Pin) -> str | None:
        return pin.name.split(":")[0]

    def place(self, pin: Pin, artifact: Artifact) -> PurePosixPath:
        from releaser.ecosystems.maven.layout import maven_rel

        return maven_rel(pin, artifact)

    def exports(self) -> Mapping[str, Export]:
        from releaser.ecosystems.maven.export import PomExport

        return {PomExport.name: PomExport()}


ECOSYSTEM = MavenEcosystem()
