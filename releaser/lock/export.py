"""`releaser export`: the lock in the formats installers read.

- `pylock`: a PEP 751 `pylock.toml`, built and validated with `packaging.pylock`.
- `requirements`: a requirements file that `pip install --require-hashes --no-deps -r`
  accepts: every pin `==` its version, with the sha256 of every file of it.
- `maven`: a BOM pinning every Maven artifact (`export_maven.py`).
- `cyclonedx`: a CycloneDX 1.6 JSON SBOM of every pin, of every kind (`releaser.lock.sbom`).

A Python pin of a git repository (`pkg @ git+URL@ref` in the inputs) has no file:
its commit is its hash. It is exported as `pkg @ git+URL@<full commit id>` and as a
PEP 751 `vcs` entry. pip cannot hash-check a VCS requirement, so such lines come
last in the requirements file, after a comment saying so (`vcs_lines` gives them
alone, as `releaser cut` installs them).

A pin needed on some of the lock's targets only carries its marker in both, and the
pylock names the targets (`environments`) and the lowest Python they need
(`requires-python`), so an installer takes only what its environment needs.

All are written from release.lock alone: no network, no resolver.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from releaser import __version__
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import Artifact, Lock, Pin

FORMATS = ("pylock", "requirements", "maven", "cyclonedx")
DEFAULT_OUTPUT = {"pylock": "pylock.toml", "requirements": "requirements.txt", "maven": "maven-pins.pom", "cyclonedx": "sbom.cdx.json"}


def current_lock(config: ReleaseConfig) -> Lock:
    """The lock to export from; refused (exit 1) when there is none yet, it was edited, or names other indexes."""
    from releaser.core import lockfile

    found = lockfile.read_recorded(config.lockfile)
    if found is None:
        raise Refused(f"{config.lockfile}: no lockfile yet; run `releaser lock` first")
    lock, recorded = found
    if recorded != lock.content_digest:
        raise Refused(f"{config.lockfile}: was edited by hand (its content-digest does not match); run `releaser lock`")
    check_indexes(config, lock)
    return lock


def check_indexes(config: ReleaseConfig, lock: Lock) -> None:
    """The lock's Python indexes must be the ones release.toml names: an install never follows another."""
    from releaser.core.redact import strip_credentials

    configured = tuple(strip_credentials(u) for u in config.python.index_urls) if config.python else ()
    recorded = lock.sources.get("python", ())
    if lock.of_kind("python") and recorded != configured:
        raise Refused(
            f"{config.lockfile}: its Python indexes ({', '.join(recorded) or 'none'}) are not the ones release.toml "
            f"names ({', '.join(configured) or 'none'}); run `releaser lock`"
        )


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
    if fmt == "maven":
        from releaser.lock.export_maven import to_maven

        return to_maven(lock)
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
        if pin.commit is None:
            hashes = sorted({a.sha256 for a in pin.artifacts})
            requirement = f"{pin.name}=={pin.version}{_marker(pin)}"
            lines.append(" \\\n".join([requirement, *(f"    --hash=sha256:{h}" for h in hashes)]))
    vcs = vcs_lines(lock)
    if vcs:
        lines.append("# Pinned to a git commit (the commit id is the hash; pip cannot check it with --require-hashes):")
        lines += vcs
    return "\n".join(lines) + "\n"


def vcs_lines(lock: Lock) -> list[str]:
    """`name @ git+URL@<commit>` for each Python pin of a git repository."""
    return [f"{pin.name} @ {_vcs(pin)[0]}{_marker(pin)}" for pin in _python_pins(lock) if pin.commit is not None]


def _marker(pin: Pin) -> str:
    """` ; MARKER` for a pin only some of the lock's targets need; else nothing."""
    return f" ; {pin.marker}" if pin.marker else ""


def _vcs(pin: Pin) -> tuple[str, str | None, str | None]:
    """(the pinned `git+URL@commit[#fragment]`, the ref asked for, the subdirectory) of a git pin."""
    from urllib.parse import parse_qs

    from releaser.ecosystems.python.direct import requested_vcs

    ref, fragment = requested_vcs(pin) or (None, "")
    subdirectory = next(iter(parse_qs(fragment).get("subdirectory", [])), None)
    url = f"git+{pin.source}@{pin.commit}" + (f"#{fragment}" if fragment else "")
    return url, ref, subdirectory


def to_pylock(lock: Lock) -> str:
    import tomli_w
    from packaging.markers import Marker
    from packaging.pylock import Package, PackageSdist, PackageVcs, PackageWheel, Pylock
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    from releaser.core.targets import parse

    packages = []
    for pin in _python_pins(lock):
        if pin.commit is not None:
            _url, ref, subdirectory = _vcs(pin)
            vcs = PackageVcs(
                type="git", url=pin.source, requested_revision=ref, commit_id=pin.commit, subdirectory=subdirectory
            )
            packages.append(
                Package(
                    name=canonicalize_name(pin.name), version=_version(pin.version), vcs=vcs,
                    marker=Marker(pin.marker) if pin.marker else None,
                )
            )
            continue
        wheels = [a for a in pin.artifacts if a.name.endswith(".whl")]
        sdists = [a for a in pin.artifacts if not a.name.endswith(".whl")]
        packages.append(
            Package(
                name=canonicalize_name(pin.name),
                version=Version(pin.version),
                index=pin.source,
                sdist=_file(PackageSdist, sdists[0]) if sdists else None,
                wheels=[_file(PackageWheel, a) for a in wheels] or None,
                marker=Marker(pin.marker) if pin.marker else None,
            )
        )
    targets = lock.targets
    lowest = min((parse(t).python for t in targets), key=lambda v: Version(v), default=None)
    pylock = Pylock(
        lock_version=Version("1.0"),
        created_by="releaser",
        packages=packages,
        environments=[Marker(t) for t in targets] or None,
        requires_python=SpecifierSet(f">={lowest}") if lowest else None,
    )
    pylock.validate()
    return _header(lock) + "\n" + tomli_w.dumps(dict(pylock.to_dict()))


def write(lock: Lock, fmt: str, output: Path, config: ReleaseConfig | None = None) -> None:
    from releaser.plumbing.fsutil import write_atomic

    write_atomic(output, render(lock, fmt, config))


def _header(lock: Lock) -> str:
    return f"# Exported by releaser {__version__} from release.lock (cut-off {lock.as_of.isoformat()})."


def _python_pins(lock: Lock) -> list[Pin]:
    pins = sorted(lock.of_kind("python"), key=lambda p: p.name)
    for pin in pins:
        if not pin.artifacts and pin.commit is None:
            raise ConfigError(f"release.lock: python {pin.name} has no hashed files; run `releaser lock`")
    return pins


def _version(text: str):  # type: ignore[no-untyped-def]
    """A git pin's version, when pip could read one (else the lock holds the commit id there)."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def _file(kind: type, artifact: Artifact):  # type: ignore[no-untyped-def]
    return kind(
        name=PurePosixPath(artifact.name).name,
        url=artifact.url,
        size=artifact.size,
        upload_time=artifact.date,
        hashes={"sha256": artifact.sha256},
    )
