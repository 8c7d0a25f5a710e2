"""Python, as the stages see it: `[python]` requirements pinned per target, with their files
and the build requirements of each sdist built here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from releaser.core.config import ConfigReader, ReleaseConfig
from releaser.core.lockfile import EntryValue, InputRecord, Lock, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import Ecosystem, Export, Source

if TYPE_CHECKING:
    from releaser.core.verdict import Finding
    from releaser.ecosystems.python.settings import PythonInputs
    from releaser.plumbing.fetch import PinnedFile


class PythonEcosystem(Ecosystem):
    kind = "python"
    title = "Python"
    label = "[python]"
    role = "environment"
    folder = "python"

    def parse_inputs(self, reader: ConfigReader, data: dict[str, Any]) -> PythonInputs | None:
        from releaser.ecosystems.python.settings import parse

        return parse(reader, data)

    def inputs(self, config: ReleaseConfig) -> PythonInputs | None:
        return cast("PythonInputs | None", config.inputs_of(self.kind))

    def source(self, config: ReleaseConfig) -> Source | None:
        py = self.inputs(config)
        if py is None:
            return None
        from releaser.ecosystems.python.source import PythonSource

        return PythonSource(config.root, py)

    def config_entries(self, config: ReleaseConfig) -> Mapping[str, EntryValue] | None:
        py = self.inputs(config)
        if py is None:
            return None
        settings = {"index-url": strip_credentials(py.index_url)}
        if py.extra_index_urls:
            settings["extra-index-urls"] = " ".join(strip_credentials(u) for u in py.extra_index_urls)
        if py.requirements:
            settings["requirements"] = " ".join(_relative(config.root, p) for p in py.requirements)
        if py.pyproject:
            settings["pyproject"] = "true"
        for key, names in (("extras", py.extras), ("groups", py.groups)):
            if names:
                settings[key] = " ".join(names)
        if py.resolver != "pip-tools":
            settings["resolver"] = py.resolver
        if py.environments:
            settings["environments"] = " | ".join(py.environments)
        return settings

    def lock_header(self, config: ReleaseConfig) -> dict[str, Any]:
        """The lock's Python targets: the configured environments, else this interpreter."""
        from releaser.core.targets import here

        py = self.inputs(config)
        if py is None:
            return {}
        if py.environments:
            return {"environments": py.environments}
        return {"target": here().marker}

    def upgrade_names(self, name: str) -> frozenset[str]:
        from packaging.utils import canonicalize_name

        return frozenset({name, canonicalize_name(name)})

    # -- check ---------------------------------------------------------------------

    def floats(self, pin: Pin) -> str | None:
        """An exact PEP 440 version with files, each with a sha256 (a direct reference to git: a
        full commit id instead of files; to an archive whose name has no version: that archive's
        sha256 as its version), and every build pin exact too."""
        from packaging.version import InvalidVersion, Version

        from releaser.ecosystems import floats

        commit = pin.commit
        if commit is not None:
            from releaser.ecosystems.git.ids import FULL_COMMIT_ID

            if not FULL_COMMIT_ID.fullmatch(commit):
                return f"commit {commit!r} is not a full commit id"
        if commit is None and not pin.artifacts:
            return "has no hashed files"
        try:
            Version(pin.version)
        except InvalidVersion:
            if pin.version not in {commit, *(a.sha256 for a in pin.artifacts)}:
                return f"version {pin.version!r} is not an exact version"
        for b in pin.build:
            reason = floats(b)
            if reason:
                return f"build requirement {b.name} {b.version} {reason}"
        return None

    def uncovered(
        self, config: ReleaseConfig, lock: Lock, current: Mapping[str, InputRecord], lockname: str
    ) -> list[Finding]:
        """Requirements are read from the inputs' records (`current`: canonical name -> requirement),
        so an unchanged input needs no parsing; one with an environment marker is parsed, to
        evaluate the marker for the lock's targets."""
        from releaser.core.verdict import Finding
        from releaser.ecosystems.python.requirements import applies

        pinned = {p.name for p in lock.of_kind(self.kind)}
        found = []
        for input_name, record in sorted(current.items()):
            for key, text in sorted(record.entries.get("requirements", {}).items()):
                if key in pinned or not isinstance(text, str):
                    continue
                if ";" not in text or applies(text, lock.environments):
                    found.append(Finding("uncovered", input_name, f"requires {text}, which {lockname} does not pin"))
        return found

    def unlisted(self, config: ReleaseConfig, lock: Lock, lockname: str) -> list[Finding]:
        """Requirement files and pyproject.toml release.toml does not list, naming packages the lock does not pin."""
        from releaser.ecosystems.python.unlisted import unlisted

        return unlisted(config, self.inputs(config), lock, lockname)

    def notes(self, lock: Lock, lockname: str) -> list[Finding]:
        """When the lock, made without `environments`, was made for another interpreter: its Python
        pins are what that interpreter needed, so a dependency only this one needs (by environment
        marker) may be missing. Not a failure: CI may well run elsewhere."""
        from releaser.core.targets import any_covers, here
        from releaser.core.verdict import Finding

        if lock.target is None or lock.environments or any_covers((lock.target,)):
            return []
        why = (
            f"was made for {lock.target}, not this interpreter ({here().marker}); pins only other targets need "
            "may be missing: set [python] environments (resolver = \"uv\") to lock for every target"
        )
        return [Finding("other-target", lockname, why)]

    def insist_sources(self, config: ReleaseConfig, lock: Lock) -> None:
        from releaser.ecosystems.python.export import check_indexes

        check_indexes(config, lock)

    # -- people and files -------------------------------------------------------------

    def purl(self, pin: Pin) -> Any:
        from packageurl import PackageURL

        qualifiers = {"vcs_url": f"git+{pin.source}@{pin.commit}"} if pin.commit else {}
        return PackageURL(type="pypi", name=pin.name, version=pin.version, qualifiers=qualifiers)

    def files(self, pins: Sequence[Pin], *, here: bool) -> list[PinnedFile]:
        """Every recorded file, or (`here`) the one pip would choose on this interpreter per pin."""
        if not here:
            return super().files(pins, here=here)
        from releaser.ecosystems.python.files import choose_python_file

        placed = []
        for pin in pins:
            chosen = super().files((pin,), here=False)
            pick = choose_python_file(pin)
            placed += [item for item in chosen if item.artifact == pick]
        return placed

    def build_files(self, lock: Lock) -> list[PinnedFile]:
        """Every file of every pin's build requirements, at python/build/<file>."""
        from releaser.ecosystems.python.files import build_rel
        from releaser.plumbing.fetch import PinnedFile

        return [
            PinnedFile(b, art, build_rel(art.name, pin), f"python {pin.name} {pin.version}: build requirement {art.name}")
            for pin in lock.of_kind(self.kind)
            for b in pin.build
            for art in b.artifacts
        ]

    def exports(self) -> Mapping[str, Export]:
        from releaser.ecosystems.python.export import PylockExport, RequirementsExport

        return {PylockExport.name: PylockExport(), RequirementsExport.name: RequirementsExport()}


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


ECOSYSTEM = PythonEcosystem()
