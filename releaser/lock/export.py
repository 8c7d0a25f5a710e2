"""`releaser export`: the Python part of the lock in the formats installers read.

- `pylock`: a PEP 751 `pylock.toml`, built and validated with `packaging.pylock`.
- `requirements`: a requirements file that `pip install --require-hashes --no-deps -r`
  accepts: every pin `==` its version, with the sha256 of every file of it.
- `cyclonedx`: a CycloneDX 1.6 JSON SBOM of every pin, of every kind (`releaser.lock.sbom`).

All are written from release.lock alone: no network, no resolver.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from releaser import __version__
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import Artifact, Lock, Pin

FORMATS = ("pylock", "requirements", "cyclonedx")
DEFAULT_OUTPUT = {"pylock": "pylock.toml", "requirements": "requirements.txt", "cyclonedx": "sbom.cdx.json"}


def current_lock(config: ReleaseConfig) -> Lock:
    """The lock to export from; refused (exit 1) when there is none yet."""
    from releaser.core import lockfile

    found = lockfile.read(config.lockfile)
    if found is None:
        raise Refused(f"{config.lockfile}: no lockfile yet; run `releaser lock` first")
    return found


def render(lock: Lock, fmt: str, config: ReleaseConfig | None = None) -> str:
    """`lock` in format `fmt`; the SBOM names the project of `config`."""
    if fmt == "cyclonedx":
        from releaser.lock.sbom import to_cyclonedx

        if config is None:
            raise ValueError("the SBOM names the project: render it with the project's config")
        return to_cyclonedx(lock, name=config.release.name, version=config.release.version)
    if fmt == "pylock":
        return to_pylock(lock)
    if fmt == "requirements":
        return to_requirements(lock)
    raise ConfigError(f"--format {fmt}: unknown export format (expected one of: {', '.join(FORMATS)})")


def to_requirements(lock: Lock) -> str:
    lines = [
        _header(lock),
        "# Install with: pip install --require-hashes --no-deps -r <this file>",
    ]
    indexes = lock.sources.get("python", ())
    if indexes:
        lines.append(f"--index-url {indexes[0]}")
        lines += [f"--extra-index-url {url}" for url in indexes[1:]]
    for pin in _python_pins(lock):
        hashes = sorted({a.sha256 for a in pin.artifacts})
        lines.append(" \\\n".join([f"{pin.name}=={pin.version}", *(f"    --hash=sha256:{h}" for h in hashes)]))
    return "\n".join(lines) + "\n"


def to_pylock(lock: Lock) -> str:
    import tomli_w
    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    packages = []
    for pin in _python_pins(lock):
        wheels = [a for a in pin.artifacts if a.name.endswith(".whl")]
        sdists = [a for a in pin.artifacts if not a.name.endswith(".whl")]
        packages.append(
            Package(
                name=canonicalize_name(pin.name),
                version=Version(pin.version),
                index=pin.source,
                sdist=_file(PackageSdist, sdists[0]) if sdists else None,
                wheels=[_file(PackageWheel, a) for a in wheels] or None,
            )
        )
    pylock = Pylock(lock_version=Version("1.0"), created_by="releaser", packages=packages)
    pylock.validate()
    return _header(lock) + "\n" + tomli_w.dumps(dict(pylock.to_dict()))


def write(lock: Lock, fmt: str, output: Path, config: ReleaseConfig | None = None) -> None:
    from releaser.core.fsutil import write_atomic

    write_atomic(output, render(lock, fmt, config))


def _header(lock: Lock) -> str:
    return f"# Exported by releaser {__version__} from release.lock (cut-off {lock.as_of.isoformat()})."


def _python_pins(lock: Lock) -> list[Pin]:
    pins = sorted(lock.of_kind("python"), key=lambda p: p.name)
    for pin in pins:
        if not pin.artifacts:
            raise ConfigError(f"release.lock: python {pin.name} has no hashed files; run `releaser lock`")
    return pins


def _file(kind: type, artifact: Artifact):  # type: ignore[no-untyped-def]
    return kind(
        name=PurePosixPath(artifact.name).name,
        url=artifact.url,
        size=artifact.size,
        upload_time=artifact.date,
        hashes={"sha256": artifact.sha256},
    )
