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
(`releaser.ecosystems.python.sdists`). One level deep: a build requirement must have a wheel
for the target it is built on itself.

With `[python] environments`, "no wheel fits" is asked of each target the pin is needed
on (`releaser.ecosystems.python.tags`), and the build pins are resolved for each target that
builds it, with markers naming the targets they are for.
"""

from __future__ import annotations

import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from releaser.core.errors import UpstreamError
from releaser.core.lockfile import Artifact, Pin
from releaser.core.targets import Target, marker_targets, named, named_in, parse
from releaser.ecosystems.base import LockRequest
from releaser.ecosystems.python.index import PackageIndexReader
from releaser.ecosystems.python.tags import wheel_fits
from releaser.plumbing.credentials import userinfo_of, with_userinfo

Compile = Callable[[list[str], Path, Target | None], dict[str, str]]  # requirements, workdir, target -> name -> version
INSTALL_TIMEOUT = 30 * 60


def sdist_of(pin: Pin, target: Target | None = None) -> Artifact | None:
    """The sdist pip would build `pin` from on `target` (None: here): when no wheel of it fits there."""
    if any(wheel_fits(a.name, target) for a in pin.artifacts if a.name.endswith(".whl")):
        return None
    sdists = sorted((a for a in pin.artifacts if a.name.endswith((".tar.gz", ".zip"))), key=lambda a: a.name)
    return sdists[0] if sdists else None


class BuildPins:
    """Adds the `build` pins to each pin that some target of the lock builds from its sdist.

    Without `environments` that target is this interpreter, and the build pins carry no
    marker. With them, the build requirements are resolved for each target that builds
    the pin, and each build pin carries the marker naming the targets it is for, always,
    even when that is all of them: so a relock can tell for which targets they were made.
    The backend's own answer (`get_requires_for_build_wheel`) comes from this interpreter.
    """

    def __init__(self, request: LockRequest, reader: PackageIndexReader, compile: Compile, environments: tuple[str, ...] = ()) -> None:
        self.request = request
        self.reader = reader
        self.compile = compile
        self.environments = environments
        self.userinfo = userinfo_of(reader.index_urls)

    def add(self, pins: list[Pin]) -> list[Pin]:
        previous = {(p.name, p.version): p for p in self.request.previous}  # a name may be pinned per target
        return [self._pinned(pin, previous.get((pin.name, pin.version))) for pin in pins]

    def built_on(self, pin: Pin) -> list[Target | None]:
        """The targets that install `pin` from its sdist: those it is needed on with no wheel of it."""
        if not self.environments:
            return [None] if sdist_of(pin) is not None else []
        needed = [parse(m) for m in marker_targets(pin.marker, self.environments)]
        return [t for t in needed if sdist_of(pin, t) is not None]

    def _kept(self, previous: Pin, pin: Pin, built_on: list[Target | None]) -> bool:
        """True when `previous`'s build pins still hold: same version, not upgraded, made for these targets."""
        upgrading = self.request.upgrade_all or pin.name in self.request.upgrade
        if not previous.build or previous.version != pin.version or upgrading:
            return False
        markers = [b.marker for b in previous.build]
        if not self.environments:
            return not any(markers)
        made_for = {t for marker in markers if marker for t in named_in(marker)}
        return all(markers) and made_for == {t.marker for t in built_on if t}

    def _pinned(self, pin: Pin, previous: Pin | None) -> Pin:
        built_on = self.built_on(pin)
        if not built_on:
            return pin
        if previous is not None and self._kept(previous, pin, built_on):
            return replace(pin, build=previous.build)  # kept, as every earlier pin is
        sdist = sdist_of(pin, built_on[0])
        assert sdist is not None  # built_on holds only targets with one
        work = Path(tempfile.mkdtemp(prefix=f"build-{pin.name}-", dir=self.request.workdir))
        source = self._unpack(pin, sdist, work)
        from releaser.ecosystems.python.backend import Backend
        from releaser.plumbing.venvs import create_venv, venv_python

        venv = work / "venv"
        what = f"python {pin.name} {pin.version}: building {sdist.name}"
        backend = Backend(source, venv_python(venv), what)
        static = backend.build_system_requires()
        versions = self.compile(static, work / "static", None)
        create_venv(venv, what=f"the build environment of {pin.name}")
        self._install(venv, versions, work)
        dynamic = backend.requires_for_wheel()
        if (said := backend.summary()) is not None:
            self.request.notes.append(said)
        # What the backend adds is resolved with the rest, unless the environment it ran in has it already.
        reqs = static if all(_satisfied(req, versions) for req in dynamic) else static + dynamic
        where: dict[tuple[str, str], list[Target | None]] = {}
        for n, target in enumerate(built_on):
            found = versions if target is None and reqs == static else self.compile(reqs, work / f"for-{n}", target)
            for name, version in found.items():
                where.setdefault((name, version), []).append(target)
        wanted: dict[str, str] = {canonicalize_name(Requirement(r).name): r for r in static + dynamic}
        build = []
        for (name, version), targets in sorted(where.items()):
            b = self._pin(name, version, wanted.get(name))
            if self.environments:
                b = replace(b, marker=named([t for t in targets if t is not None]))
            for target in targets:
                if sdist_of(b, target) is not None:
                    raise UpstreamError(
                        f"{what}: its build requirement {b.name} {b.version} has no wheel for "
                        f"{target.marker if target else 'this interpreter'} either; releaser pins build requirements one level deep"
                    )
            build.append(b)
        return replace(pin, build=tuple(build))

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
        from releaser.plumbing.piprun import (
            cache_dir,
            index_options,
            pip_errors,
            trusted_hosts,
        )
        from releaser.plumbing.venvs import install_hashed

        indexes = index_options(self.reader.index_urls)
        lines = [" ".join(indexes[i : i + 2]) for i in range(0, len(indexes), 2) if indexes[i] != "--trusted-host"]
        for name, version in sorted(versions.items()):
            files = self.reader.version_files(name, version, cutoff=self.request.as_of, dated=self.request.dated)
            lines.append(f"{name}=={version} " + " ".join(f"--hash=sha256:{a.sha256}" for a in files.artifacts))
        # The indexes go in the (private) requirements file: they may carry credentials.
        options = ["--quiet", "--cache-dir", str(cache_dir()), *trusted_hosts(self.reader.index_urls)]
        done = install_hashed(venv, lines, work / "build-requirements.txt", options=options, timeout=INSTALL_TIMEOUT, once=True)
        if done.returncode != 0:
            raise UpstreamError(f"installing build requirements failed: {' / '.join(pip_errors(done.stderr)[:2])}")


def _satisfied(requirement: str, versions: dict[str, str]) -> bool:
    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return False
    version = versions.get(canonicalize_name(req.name))
    return version is not None and req.specifier.contains(version, prereleases=True)
