"""Build pins: what building a Python sdist needs, pinned like everything else.

A pin with no wheel for this interpreter is installed (by `cut`, `reproduce`) by
building its sdist, and pip's build isolation would install whatever setuptools is
newest that day: the build would float. So `releaser lock` pins the build too:

1. the sdist's `[build-system] requires` (PEP 518; `setuptools >= 40.8.0` when it
   names none, as pip and pypa/build do), resolved by pip-compile under the same
   cut-off from the same indexes;
2. those installed, hash-verified, into a private venv, where the backend's
   `get_requires_for_build_wheel` (PEP 517, through pypa/build) says what else it
   needs (setuptools before 70.1 asks for `wheel`); when that adds anything,
   both are resolved again, together.

Each build pin is recorded, with every file hashed and dated, in the `build` list of
the pin that needs it. `cut` and `reproduce` install them, hash-verified, into a
private build environment and build the sdist there with `--no-build-isolation`
(`releaser.install.sdists`). One level deep: a build requirement must have a wheel
for this interpreter itself.
"""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from releaser.core.credentials import userinfo_of, with_userinfo
from releaser.core.errors import UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.core.redact import scrub
from releaser.sources.base import LockRequest
from releaser.sources.pyindex import PackageIndexReader

Compile = Callable[[list[str], Path], dict[str, str]]  # requirements, workdir -> name -> version
INSTALL_TIMEOUT = 30 * 60


def wheel_fits(filename: str) -> bool:
    """True when the wheel `filename` installs on this interpreter."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    return not tags.isdisjoint(_here())


_TAGS: frozenset[object] | None = None


def _here() -> frozenset[object]:
    global _TAGS
    if _TAGS is None:
        from packaging.tags import sys_tags

        _TAGS = frozenset(sys_tags())
    return _TAGS


def sdist_of(pin: Pin) -> Artifact | None:
    """The sdist pip would build `pin` from here: when no wheel of it fits this interpreter."""
    if any(wheel_fits(a.name) for a in pin.artifacts if a.name.endswith(".whl")):
        return None
    sdists = sorted((a for a in pin.artifacts if a.name.endswith((".tar.gz", ".zip"))), key=lambda a: a.name)
    return sdists[0] if sdists else None


class BuildPins:
    """Adds the `build` pins to each pin that is built from its sdist here."""

    def __init__(self, request: LockRequest, reader: PackageIndexReader, compile: Compile) -> None:
        self.request = request
        self.reader = reader
        self.compile = compile
        self.userinfo = userinfo_of(reader.index_urls)

    def add(self, pins: list[Pin]) -> list[Pin]:
        previous = {p.name: p for p in self.request.previous}
        return [self._pinned(pin, previous.get(pin.name)) for pin in pins]

    def _pinned(self, pin: Pin, previous: Pin | None) -> Pin:
        sdist = sdist_of(pin)
        if sdist is None:
            return pin
        upgrading = self.request.upgrade_all or pin.name in self.request.upgrade
        if previous is not None and previous.build and previous.version == pin.version and not upgrading:
            return replace(pin, build=previous.build)  # kept, as every earlier pin is
        work = Path(tempfile.mkdtemp(prefix=f"build-{pin.name}-", dir=self.request.workdir))
        source = self._unpack(pin, sdist, work)
        from build import BuildBackendException, BuildException, ProjectBuilder
        from pyproject_hooks import quiet_subprocess_runner

        from releaser.core.venvs import create_venv, venv_python

        venv = work / "venv"
        what = f"python {pin.name} {pin.version}: building {sdist.name}"
        try:
            builder = ProjectBuilder(source, python_executable=str(venv_python(venv)), runner=quiet_subprocess_runner)
            static = sorted(builder.build_system_requires)
            versions = self.compile(static, work / "static")
            create_venv(venv, what=f"the build environment of {pin.name}")
            self._install(venv, versions, work)
            dynamic = sorted(builder.get_requires_for_build("wheel"))
        except (BuildException, BuildBackendException) as exc:
            raise UpstreamError(f"{what}: {scrub(str(exc))[:300]}") from None
        if not all(_satisfied(req, versions) for req in dynamic):
            versions = self.compile(static + dynamic, work / "dynamic")
        wanted = {canonicalize_name(Requirement(r).name): r for r in static + dynamic}
        build = tuple(self._pin(name, version, wanted.get(name)) for name, version in sorted(versions.items()))
        for b in build:
            if sdist_of(b) is not None:
                raise UpstreamError(
                    f"{what}: its build requirement {b.name} {b.version} has no wheel for this interpreter either; "
                    "releaser pins build requirements one level deep"
                )
        return replace(pin, build=build)

    def _pin(self, name: str, version: str, requested: str | None) -> Pin:
        request = self.request
        found = self.reader.version_files(name, version, cutoff=request.as_of, dated=request.dated)
        from releaser.core.redact import strip_credentials

        return Pin("python", name, version, strip_credentials(found.index), requested, found.date, found.artifacts)

    def _unpack(self, pin: Pin, sdist: Artifact, work: Path) -> Path:
        """The sdist downloaded, checked against its locked sha256, unpacked; its project folder."""
        what = f"python {pin.name} {pin.version} file {sdist.name}"
        archive = work / sdist.name
        sha256, _ = self.request.http.download(with_userinfo(sdist.url, self.userinfo), archive, what=what)
        if sha256 != sdist.sha256:
            raise UpstreamError(f"{what}: {sdist.url} served other bytes than the index's sha256 says; nothing was recorded")
        into = work / "source"
        try:
            if sdist.name.endswith(".zip"):
                with zipfile.ZipFile(archive) as z:
                    for member in z.namelist():
                        if member.startswith("/") or ".." in Path(member).parts:
                            raise UpstreamError(f"{what}: {member!r} would unpack outside the folder")
                    z.extractall(into)
            else:
                with tarfile.open(archive) as t:
                    t.extractall(into, filter="data")  # no links out, no absolute paths, no devices
        except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
            raise UpstreamError(f"{what}: cannot be unpacked: {exc}") from None
        tops = [p for p in into.iterdir() if p.is_dir()]
        if len(tops) != 1:
            raise UpstreamError(f"{what}: is not one project folder, as an sdist is")
        return tops[0]

    def _install(self, venv: Path, versions: dict[str, str], work: Path) -> None:
        from releaser.core.piprun import cache_dir, index_options, pip_errors, trusted_hosts
        from releaser.core.venvs import install_hashed

        indexes = index_options(self.reader.index_urls)
        lines = [" ".join(indexes[i : i + 2]) for i in range(0, len(indexes), 2) if indexes[i] != "--trusted-host"]
        for name, version in sorted(versions.items()):
            files = self.reader.version_files(name, version, cutoff=self.request.as_of, dated=self.request.dated)
            lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{a.sha256}" for a in files.artifacts))
        # The indexes go in the (private) requirements file: they may carry credentials.
        options = ["--quiet", "--cache-dir", str(cache_dir()), *trusted_hosts(self.reader.index_urls)]
        done = install_hashed(venv, lines, work / "build-requirements.txt", options=options, timeout=INSTALL_TIMEOUT)
        if done.returncode != 0:
            raise UpstreamError(f"installing build requirements failed: {' / '.join(pip_errors(done.stderr)[:2])}")


def _satisfied(requirement: str, versions: dict[str, str]) -> bool:
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    version = versions.get(canonicalize_name(req.name))
    return version is not None and req.specifier.contains(version, prereleases=True)
