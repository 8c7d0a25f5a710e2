"""The container images source: every FROM of the Dockerfiles and every `image:` of the compose files,
pinned by `releaser.ecosystems.containers.pinning` (as any other kind's images are)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core.errors import ConfigError
from releaser.core.lockfile import InputRecord, Pin
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.containers import compose, dockerfile
from releaser.ecosystems.containers.dockerfile import ImageUse
from releaser.ecosystems.containers.pinning import ImagePinner
from releaser.ecosystems.containers.resolve import KIND, registry_base
from releaser.ecosystems.containers.settings import ContainerInputs

if TYPE_CHECKING:
    from releaser.plumbing.http import Http


class ContainerSource(Source):
    """`[containers]`: the images of Dockerfiles and compose files, pinned by digest."""

    kind = KIND

    def __init__(self, root: Path, inputs: ContainerInputs, lockfile_path: Path | None = None) -> None:
        self.root, self.inputs = root, inputs
        self.lockfile_path = lockfile_path
        self._uses: list[ImageUse] | None = None

    # -- the inputs (offline) -------------------------------------------------

    def uses(self) -> list[ImageUse]:
        """Every image every input file names, in file order; ConfigError naming the file and line."""
        if self._uses is None:
            found: list[ImageUse] = []
            for path in self.inputs.dockerfiles:
                found += dockerfile.images(self._shown(path), _read(path))
            for path in self.inputs.compose:
                found += compose.images(self._shown(path), _read(path))
            self._uses = found
        return self._uses

    def wanted(self) -> dict[str, tuple[str, ...]]:
        """Each written reference -> the platforms to pin (configured, plus any FROM --platform); () for all."""
        found: dict[str, tuple[str, ...]] = {}
        for use in self.uses():
            platforms = found.get(use.ref.written, self.inputs.platforms)
            if use.platform and platforms and use.platform not in platforms:
                platforms = (*platforms, use.platform)
            elif use.platform and not platforms and not self.inputs.platforms:
                platforms = ()  # every platform the index offers includes this one
            found[use.ref.written] = platforms
        return found

    def input_digests(self) -> dict[str, str]:
        """Each file's digest: of the images it names (and their platforms), so that an edit
        elsewhere in a Dockerfile or a compose file leaves the lock fresh."""
        return {name: record.digest for name, record in self.input_records().items()}

    def input_records(self) -> dict[str, InputRecord]:
        entries: dict[str, dict[str, str]] = {self._name(p): {} for p in self.inputs.files}
        for use in self.uses():
            entries[self._name(self.root / use.path)][use.ref.written] = use.platform or "every platform"
        return {
            name: InputRecord(_digest(found), {"image": found} if found else {}) for name, found in entries.items()
        }

    def input_paths(self) -> list[Path]:
        return list(self.inputs.files)

    def source_urls(self) -> tuple[str, ...]:
        hosts = {use.ref.api_host for use in self.uses()}
        return tuple(sorted(registry_base(self.inputs, h) for h in hosts))

    def unpinned(self, pinned: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """(file:line, message) for each image neither pinned by the lock nor by digest."""
        return [
            (use.where, f"image {use.ref.written} is neither pinned in the lock nor by digest")
            for use in self.uses()
            if use.ref.digest is None and (KIND, use.ref.written) not in pinned
        ]

    # -- export and cut: the files with their pins ----------------------------------

    def pinned_files(self, fmt: str, pins: tuple[Pin, ...]) -> dict[Path, str]:
        digests = {p.name: p.version for p in pins if p.kind == KIND}
        paths, rewrite = (self.inputs.dockerfiles, dockerfile.pinned_text) if fmt == "dockerfile" else (self.inputs.compose, compose.pinned_text)
        return {path: rewrite(self._shown(path), _read(path), digests) for path in paths}

    def cut_inputs(self, pins: tuple[Pin, ...], folder: Path, http: Http) -> dict[str, Path]:
        """Refused when a tag names another digest than the lock's; the pinned copies under `folder`.

        `{dockerfile}` and `{compose}` name the copies of the first Dockerfile and compose file.
        """
        from releaser.plumbing.fsutil import write_atomic

        self.pinner().insist_unmoved(pins, http)
        placeholders: dict[str, Path] = {}
        for fmt, first in (("dockerfile", "dockerfile"), ("compose", "compose")):
            for path, text in self.pinned_files(fmt, pins).items():
                copy = folder / self._name(path)
                copy.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(copy, text.encode("utf-8"))
                placeholders.setdefault(first, copy)
        return placeholders

    # -- lock -----------------------------------------------------------------------

    def pinner(self) -> ImagePinner:
        return ImagePinner(self.root, self.inputs, self.lockfile_path)

    def lock(self, request: LockRequest) -> list[Pin]:
        where: dict[str, str] = {}
        for use in self.uses():
            where.setdefault(use.ref.written, use.where)
        return self.pinner().lock(self.wanted(), request, where)

    # -- helpers ----------------------------------------------------------------------

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def _shown(self, path: Path) -> Path:
        return Path(self._name(path))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None


def _digest(entries: dict[str, str]) -> str:
    blob = json.dumps(sorted(entries.items()), separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


