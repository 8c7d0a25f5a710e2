"""git, as the stages see it: `[[git]]` repositories pinned to a full commit id, no files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from releaser.core.config import CONFIG_NAME, ConfigReader, ReleaseConfig
from releaser.core.lockfile import EntryValue, InputRecord, Lock, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import Ecosystem, Source

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.ecosystems.git.settings import GitInput, GitRepositories
    from releaser.plumbing.fetch import PinnedFile
    from releaser.plumbing.http import Http


class GitEcosystem(Ecosystem):
    kind = "git"
    title = "git"
    label = "git"
    role = "checkout"
    folder = "git"

    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> GitRepositories | None:
        from releaser.ecosystems.git.settings import parse

        return parse(reader, data)

    def items(self, config: ReleaseConfig) -> tuple[GitInput, ...]:
        """release.toml's `[[git]]` tables, in order (none: empty)."""
        found = cast("GitRepositories | None", config.inputs_of(self.kind))
        return found.items if found is not None else ()

    def source(self, config: ReleaseConfig) -> Source | None:
        if not self.items(config):
            return None
        from releaser.ecosystems.git.source import GitSource

        return GitSource(self.items(config))

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        return {g.name: {"url": strip_credentials(g.url), "ref": g.ref} for g in self.items(config)} or None

    def floats(self, pin: Pin) -> str | None:
        from releaser.ecosystems.git.ids import FULL_COMMIT_ID

        if not FULL_COMMIT_ID.fullmatch(pin.version):
            return f"{pin.version!r} is not a full commit id (a branch or tag can move)"
        return None

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        from releaser.core.verdict import Finding

        pinned = {p.name for p in lock.of_kind(self.kind)}
        return [
            Finding("uncovered", CONFIG_NAME, f"{self.kind} {g.name} is not pinned in {lockname}")
            for g in self.items(config) if g.name not in pinned
        ]

    def verify(
        self, config: ReleaseConfig, source: Source | None, pins: tuple[Pin, ...], http: Http,
        userinfo: Mapping[str, str], targets: tuple[str, ...] = (),
    ) -> list[Finding] | None:
        from releaser.ecosystems.upstream import verify_generic

        # Each commit is asked of the remote as release.toml writes it (credentials and all).
        return verify_generic(pins, http, userinfo=userinfo, remotes={g.name: g.url for g in self.items(config)})

    def shown_version(self, version: str) -> str:
        return version[:12]

    def commit(self, pin: Pin) -> str | None:
        return pin.version

    def purl(self, pin: Pin) -> Any:
        from packageurl import PackageURL

        return PackageURL(type="generic", name=pin.name, version=pin.version, qualifiers={"vcs_url": f"git+{pin.source}@{pin.version}"})

    def files(self, pins: Sequence[Pin], *, here: bool) -> list[PinnedFile]:
        """None: a git pin is a checkout. Its commit and name are checked all the same."""
        from releaser.core.paths import plain
        from releaser.ecosystems.git.ids import commit_of

        for pin in pins:
            commit_of(pin)
            plain(pin.name, f"{self.kind} {pin.name}")
        return []


ECOSYSTEM = GitEcosystem()
