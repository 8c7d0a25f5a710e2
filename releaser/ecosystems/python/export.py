"""Python's exports: the lock's Python pins in the formats installers read.

- `pylock`: a PEP 751 `pylock.toml`, built and validated with `packaging.pylock`.
- `requirements`: a requirements file that `pip install --require-hashes --no-deps -r`
  accepts: every pin `==` its version, with the sha256 of every file of it.

A Python pin of a git repository (`pkg @ git+URL@ref` in the inputs) has no file:
its commit is its hash. It is exported as `pkg @ git+URL@<full commit id>` and as a
PEP 751 `vcs` entry. pip cannot hash-check a VCS requirement, so such lines come
last in the requirements file, after a comment saying so (`vcs_lines` gives them
alone, as `releaser cut` installs them).

A pin needed on some of the lock's targets only carries its marker in both, and the
pylock names the targets (`environments`) and the lowest Python they need
(`requires-python`), so an installer takes only what its environment needs.

Both are written from release.lock alone: no network, no resolver.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from releaser import __version__
from releaser.core.config import ReleaseConfig
from releaser.core.errors import ConfigError, Refused
from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.ecosystems.base import Export

KIND = "python"


class PylockExport(Export):
    name = "pylock"
    default_output = "pylock.toml"

    def render(self, lock: Lock) -> str:
        return to_pylock(lock)


class RequirementsExport(Export):
    name = "requirements"
    default_output = "requirements.txt"

    def render(self, lock: Lock) -> str:
        return to_requirements(lock)


def header(lock: Lock) -> str:
    return f"# Exported by releaser {__version__} from release.lock (cut-off {lock.as_of.isoformat()})."


def check_indexes(config: ReleaseConfig, lock: Lock) -> None:
    """The lock's Python indexes must be the ones release.toml names: an install never follows another."""
    from releaser.core.redact import strip_credentials

    py = config.inputs_of(KIND)
    configured = tuple(strip_credentials(u) for u in py.urls()) if py else ()
    recorded = lock.sources.get(KIND, ())
    if lock.of_kind(KIND) and recorded != configured:
        raise Refused(
            f"{config.lockfile}: its Python indexes ({', '.join(recorded) or 'none'}) are not the ones release.toml "
            f"names ({', '.join(configured) or 'none'}); run `releaser lock`"
        )


def to_requirements(lock: Lock) -> str:
    lines = [
        header(lock),
        "# Install with: pip install --require-hashes --no-deps -r <this file>",
    ]
    indexes = lock.sources.get(KIND, ())
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
    named = parse_qs(fragment).get("subdirectory")
    subdirectory = named[0] if named else None
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
    return header(lock) + "\n" + tomli_w.dumps(dict(pylock.to_dict()))


def _python_pins(lock: Lock) -> list[Pin]:
    pins = sorted(lock.of_kind(KIND), key=lambda p: p.name)
    for pin in pins:
        if not pin.artifacts and pin.commit is None:
            raise ConfigError(f"release.lock: python {pin.name} has no hashed files; run `releaser lock`")
    return pins


def _version(text: str) -> Any:
    """A git pin's version, when pip could read one (else the lock holds the commit id there)."""
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return None


def _file(kind: Any, artifact: Artifact) -> Any:
    return kind(
        name=PurePosixPath(artifact.name).name,
        url=artifact.url,
        size=artifact.size,
        upload_time=artifact.date,
        hashes={"sha256": artifact.sha256},
    )
