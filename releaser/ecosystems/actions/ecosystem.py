"""GitHub Actions, as the stages see them: every `uses:` of the workflows pinned to a full commit, no files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from releaser.core.config import ConfigReader, ReleaseConfig
from releaser.core.lockfile import EntryValue, InputRecord, Lock, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import Ecosystem, Source

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.ecosystems.actions.settings import ActionsInputs
    from releaser.plumbing.fetch import PinnedFile
    from releaser.plumbing.http import Http


class ActionsEcosystem(Ecosystem):
    kind = "actions"
    title = "GitHub Actions"
    label = "action"
    role = "checkout"
    folder = "actions"

    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> ActionsInputs | None:
        from releaser.ecosystems.actions.settings import parse

        return parse(reader, data)

    def settings(self, config: ReleaseConfig) -> ActionsInputs | None:
        return cast("ActionsInputs | None", config.inputs_of(self.kind))

    def source(self, config: ReleaseConfig) -> Source | None:
        inputs = self.settings(config)
        if inputs is None:
            return None
        from releaser.ecosystems.actions.source import ActionsSource
        from releaser.ecosystems.containers.ecosystem import ECOSYSTEM as IMAGES

        # docker:// steps are pinned as [containers] pins its images: its platforms, registries, witness log
        return ActionsSource(inputs, IMAGES.pinner(config))

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        inputs = self.settings(config)
        if inputs is None:
            return None
        return {"server": strip_credentials(inputs.server), "workflows": " ".join(inputs.workflows)}

    def floats(self, pin: Pin) -> str | None:
        from releaser.ecosystems.git.ids import FULL_COMMIT_ID

        if not FULL_COMMIT_ID.fullmatch(pin.version):
            return f"{pin.version!r} is not a full commit id (a branch or tag can move)"
        return None

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        """Every `uses:` of the workflows that neither the lock nor a full commit id pins, and every
        `docker://` image neither the lock's image pins nor a digest pin: it floats."""
        from releaser.core.verdict import Finding
        from releaser.ecosystems.actions.source import pinned_by_commit, read_all
        from releaser.ecosystems.containers.resolve import KIND as IMAGE

        inputs = self.settings(config)
        if inputs is None:
            return []
        found = read_all(inputs)
        pinned = {p.name for p in lock.of_kind(self.kind)}
        images = {p.name for p in lock.of_kind(IMAGE)}
        return [
            *(
                Finding(
                    "uncovered", f"{use.file}:{use.line}",
                    f"uses: {use.name} floats: {lockname} does not pin it and {use.ref!r} is not a full commit id",
                )
                for use in found.actions if use.name not in pinned and not pinned_by_commit(use)
            ),
            *(
                Finding("uncovered", image.where, f"uses: docker://{image.image} floats: {lockname} does not pin it and it names no digest")
                for image in found.images if image.image not in images and image.ref.digest is None
            ),
        ]

    def verify(
        self, config: ReleaseConfig, source: Source | None, pins: tuple[Pin, ...], http: Http,
        userinfo: Mapping[str, str], targets: tuple[str, ...] = (),
    ) -> list[Finding] | None:
        """Every pinned commit still there (as git's are), and each tag or branch that moved since, as news."""
        from releaser.ecosystems.actions.online import moved, repository_of
        from releaser.ecosystems.upstream import verify_generic

        inputs = self.settings(config)
        if inputs is None:
            return None
        # Each commit is asked of the server as release.toml writes it (credentials and all).
        remotes = {p.name: inputs.remote(repository_of(p)) for p in pins}
        return verify_generic(pins, http, userinfo=userinfo, remotes=remotes) + moved(inputs, pins, http)

    def shown_version(self, version: str) -> str:
        return version[:12]

    def commit(self, pin: Pin) -> str | None:
        return pin.version

    def purl(self, pin: Pin) -> Any:
        from packageurl import PackageURL

        action = pin.name.rsplit("@", 1)[0]
        owner, repo, *path = action.split("/")
        return PackageURL(type="github", namespace=owner, name=repo, version=pin.version, subpath="/".join(path) or None)

    def checkout_name(self, pin: Pin) -> str:
        # owner/repo[/path]@ref as one file name: `+` is in no owner or repository name
        return pin.name.replace("/", "+")

    def files(self, pins: Sequence[Pin], *, here: bool) -> list[PinnedFile]:
        """None: an action is a checkout. Its commit and name are checked all the same."""
        from releaser.core.paths import plain
        from releaser.ecosystems.git.ids import commit_of

        for pin in pins:
            commit_of(pin)
            plain(self.checkout_name(pin), f"{self.kind} {pin.name}")
        return []

    file_formats = ("workflows",)

    def pinned_files(self, config: ReleaseConfig, fmt: str, pins: tuple[Pin, ...]) -> dict[Path, str]:
        from releaser.ecosystems.actions.pinning import pinned_workflows

        inputs = self.settings(config)
        return pinned_workflows(inputs, pins) if inputs is not None else {}


ECOSYSTEM = ActionsEcosystem()
