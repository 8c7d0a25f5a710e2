"""Container images, as the stages see them: `[containers]`, every image of its Dockerfiles and
compose files pinned by digest, kept as an OCI image layout (docs/containers.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from releaser.core.config import ConfigReader, ReleaseConfig
from releaser.core.lockfile import EntryValue, InputRecord, Lock, Pin
from releaser.ecosystems.base import Ecosystem, Source

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.ecosystems.containers.pinning import ImagePinner
    from releaser.ecosystems.containers.settings import ContainerInputs
    from releaser.ecosystems.containers.source import ContainerSource
    from releaser.plumbing.fetch import PinnedFile
    from releaser.plumbing.http import Http

IMAGES = "images"  # the OCI image layout's folder in a bundle and in a reproduction


class ContainerEcosystem(Ecosystem):
    kind = "image"
    title = "Container images"
    label = "image"  # an entry of a Dockerfile or compose file; the [containers] table is recorded by its name
    role = "own"
    folder = IMAGES
    file_formats = ("dockerfile", "compose")

    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> ContainerInputs | None:
        from releaser.ecosystems.containers.settings import parse

        return parse(reader, data)

    def settings(self, config: ReleaseConfig) -> ContainerInputs | None:
        """`[containers]`, when release.toml has it (perhaps only the registries `bundle --push` uses)."""
        return cast("ContainerInputs | None", config.inputs_of(self.kind))

    def source(self, config: ReleaseConfig) -> ContainerSource | None:
        found = self.settings(config)
        if found is None or not found.files:  # registries only: no images to pin
            return None
        from releaser.ecosystems.containers.source import ContainerSource

        return ContainerSource(config.root, found, config.lockfile)

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        box = self.settings(config)
        if box is None:
            return None
        return {
            key: " ".join(values)
            for key, values in (
                ("dockerfiles", [_relative(config.root, p) for p in box.dockerfiles]),
                ("compose", [_relative(config.root, p) for p in box.compose]),
                ("platforms", list(box.platforms)),
                ("insecure", list(box.insecure)),
            )
            if values
        }

    # -- check ---------------------------------------------------------------------

    def floats(self, pin: Pin) -> str | None:
        from releaser.plumbing.oci import DIGEST

        if not DIGEST.fullmatch(pin.version):
            return f"{pin.version[:40]!r} is not a sha256 digest (a tag can move)"
        if not pin.artifacts:
            return "records no platform manifest"
        return None

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        """Each FROM or `image:` neither pinned in the lock nor by digest, named by file and line."""
        from releaser.core.verdict import Finding

        source = self.source(config)
        if source is None:
            return []
        pinned = {(p.kind, p.name) for p in lock.pins}
        return [Finding("uncovered", where, message) for where, message in source.unpinned(pinned)]

    def verify(
        self, config: ReleaseConfig, source: Source | None, pins: tuple[Pin, ...], http: Http,
        userinfo: Mapping[str, str], targets: tuple[str, ...] = (),
    ) -> list[Finding]:
        """Every image pin asked of its registry, whichever file named it (a workflow's `docker://` step
        has no `[containers]` source): `gone`, or its tag moved (`newer`)."""
        return self.pinner(config).verify(pins, http)

    def pinner(self, config: ReleaseConfig) -> ImagePinner:
        """How images are pinned and verified in this project: `[containers]`' platforms, insecure
        registries and logins (every default without the table). Other kinds that name images ask it."""
        from releaser.ecosystems.containers.pinning import ImagePinner

        return ImagePinner(config.root, self.settings(config), config.lockfile)

    # -- how people read a pin ------------------------------------------------------

    def shown_version(self, version: str) -> str:
        return version[:19] if version.startswith("sha256:") and len(version) == 71 else version

    def purl(self, pin: Pin) -> Any:
        """`pkg:oci/<name>@sha256:...?repository_url=<registry>/<repository>&tag=<tag>` (the purl spec's oci type)."""
        from packageurl import PackageURL

        from releaser.ecosystems.containers.reference import parse

        ref = parse(pin.requested or pin.name)
        qualifiers = {"repository_url": f"{ref.registry}/{ref.repository}"}
        if ref.tag:
            qualifiers["tag"] = ref.tag
        return PackageURL(type="oci", name=ref.repository.rpartition("/")[2], version=pin.version, qualifiers=qualifiers)

    # -- files: none fetched generically (a manifest answers only with its Accept headers) --

    def files(self, pins: Sequence[Pin], *, here: bool) -> list[PinnedFile]:
        return []

    def pinned_files(self, config: ReleaseConfig, fmt: str, pins: tuple[Pin, ...]) -> dict[Path, str]:
        source = self.source(config)
        return source.pinned_files(fmt, pins) if source is not None else {}

    def cut_inputs(self, config: ReleaseConfig, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, Path]:
        """Refused when a tag names another digest than the lock's (every image pin, a workflow's too); the
        pinned copies under `folder` (`{dockerfile}` and `{compose}` name the first Dockerfile's and compose file's)."""
        source = self.source(config)
        if source is None:
            self.pinner(config).insist_unmoved(pins, http)
            return {}
        return source.cut_inputs(pins, folder, http)

    def bundle_pins(self, config: ReleaseConfig, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, str]:
        """Every pinned image as one OCI image layout in `folder/images/`."""
        from releaser.ecosystems.containers import layout
        from releaser.ecosystems.containers.resolve import Registries
        from releaser.plumbing.fsutil import sha256_of

        target = folder / IMAGES
        layout.store(Registries(http, self.settings(config)), pins, target)
        return {
            path.relative_to(folder).as_posix(): sha256_of(path)[0]
            for path in sorted(target.rglob("*")) if path.is_file() and not path.name.startswith(".")
        }

    def restore_pins(
        self, config: ReleaseConfig, pins: tuple[Pin, ...], into: Path, bundle: Path | None, http: Http | None,
        push: str | None = None,
    ) -> list[str]:
        """The pinned images as an OCI layout in `into/images/` (from the bundle, or upstream); with `push`
        (a registry host[:port]), put into that registry too."""
        from contextlib import nullcontext

        from releaser.ecosystems.containers import layout
        from releaser.ecosystems.containers.resolve import Registries
        from releaser.plumbing.http import Http

        target = into / IMAGES
        with nullcontext(http) if http is not None else Http() as web:
            registries = Registries(web, self.settings(config))
            if bundle is not None:
                layout.copy_layout(bundle / IMAGES, pins, target)
            else:
                layout.store(registries, pins, target)
            lines = [f"  images    {len(pins)} pinned, as an OCI image layout: {target}"]
            if push:
                lines += [f"  pushed    {line}" for line in layout.push(target, pins, registries(push))]
        return lines


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


ECOSYSTEM = ContainerEcosystem()
