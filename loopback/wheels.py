"""Real, minimal distribution files, built in milliseconds without setuptools.

The loopback index needs wheels and sdists that pip and pip-tools accept as
genuine. Building them with `build` would take seconds each; writing the
archives directly takes microseconds. Every archive is deterministic (fixed
timestamps, sorted entries, fixed modes and owners) so that tests can compare
hashes: the same inputs always give the same bytes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Mapping, Sequence
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import Version

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_TAR_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the same instant as the zip epoch
_FILE_MODE = 0o644
_GENERATOR = "loopback"


def dist_name(name: str) -> str:
    """The project name as it appears in file names: normalized, '-' turned into '_'."""
    return canonicalize_name(name).replace("-", "_")


def build_wheel(
    dest_dir: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    tag: str = "py3-none-any",
    requires_python: str | None = None,
    files: Mapping[str, str] | None = None,
) -> Path:
    """Write `{dist}-{version}-{tag}.whl` into `dest_dir` and return its path.

    The wheel holds an importable package named after the project, any extra
    `files` (archive path -> text), and a dist-info directory whose RECORD
    carries correct hashes, so `pip install` accepts it.
    """
    dist, version = dist_name(name), str(Version(version))
    info = f"{dist}-{version}.dist-info"
    payload = {f"{dist}/__init__.py": f'__version__ = "{version}"\n'}
    payload.update(_checked_paths(files or {}))
    metadata = _metadata("2.1", name, version, requires, requires_python)
    wheel = "".join(
        ["Wheel-Version: 1.0\n", f"Generator: {_GENERATOR}\n", "Root-Is-Purelib: true\n"]
        + [f"Tag: {t}\n" for t in sorted(str(t) for t in parse_tag(tag))]
    )
    entries = {path: text.encode() for path, text in sorted(payload.items())}
    entries[f"{info}/METADATA"] = metadata.encode()
    entries[f"{info}/WHEEL"] = wheel.encode()
    entries[f"{info}/RECORD"] = _record(entries, f"{info}/RECORD").encode()
    target = Path(dest_dir) / f"{dist}-{version}-{tag}.whl"
    _write_zip(target, entries)
    return target


def build_sdist(
    dest_dir: Path, name: str, version: str, *, requires: Sequence[str] = (), files: Mapping[str, str] | None = None
) -> Path:
    """Write `{dist}-{version}.tar.gz` into `dest_dir` and return its path.

    PKG-INFO uses Metadata-Version 2.2 so tools may trust its Requires-Dist
    without running a build; pyproject.toml makes the sdist buildable anyway.
    `files` (path inside the project folder -> text) adds to it, a `setup.py` for one.
    """
    dist, version = dist_name(name), str(Version(version))
    base = f"{dist}-{version}"
    deps = "".join(f"    {_toml_string(r)},\n" for r in requires)
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f"[project]\nname = {_toml_string(name)}\nversion = {_toml_string(version)}\n"
        f"dependencies = [\n{deps}]\n"
    )
    entries = {
        f"{base}/PKG-INFO": _metadata("2.2", name, version, requires, None),
        f"{base}/pyproject.toml": pyproject,
        f"{base}/{dist}/__init__.py": f'__version__ = "{version}"\n',
    }
    entries.update({f"{base}/{path}": text for path, text in _checked_paths(files or {}).items()})
    target = Path(dest_dir) / f"{base}.tar.gz"
    target.write_bytes(_tar_gz({path: text.encode() for path, text in sorted(entries.items())}))
    return target


def read_metadata(path: Path) -> Message:
    """The core metadata inside a wheel (METADATA) or an sdist (PKG-INFO).

    The index reads it to advertise Requires-Python without being told twice.
    """
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as archive:
            member = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
            text = archive.read(member).decode()
    else:
        with tarfile.open(path, "r:*") as archive:
            member = next(m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
            text = archive.extractfile(member).read().decode()  # type: ignore[union-attr]
    return HeaderParser().parsestr(text)


def _metadata(
    metadata_version: str, name: str, version: str, requires: Sequence[str], requires_python: str | None
) -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    return "\n".join(lines) + "\n\n"


def _checked_paths(files: Mapping[str, str]) -> dict[str, str]:
    """Refuse archive paths that would escape the install root."""
    for path in files:
        pure = PurePosixPath(path)
        if pure.is_absolute() or ".." in pure.parts or "\\" in path:
            raise ValueError(f"unsafe path inside a wheel: {path!r}")
    return dict(files)


def _record(entries: Mapping[str, bytes], record_path: str) -> str:
    """RECORD as the wheel spec wants it: urlsafe base64 sha256 without padding."""
    lines = []
    for path, data in entries.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(data)}")
    lines.append(f"{record_path},,")
    return "\n".join(lines) + "\n"


def _write_zip(target: Path, entries: Mapping[str, bytes]) -> None:
    with zipfile.ZipFile(target, "w") as archive:
        for path, data in entries.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_EPOCH)
            info.external_attr = (0o100000 | _FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def _tar_gz(entries: Mapping[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in entries.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime, info.mode = len(data), _TAR_EPOCH, _FILE_MODE
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0) as stream:
        stream.write(raw.getvalue())
    return compressed.getvalue()


def _toml_string(text: str) -> str:
    """A TOML basic string; JSON escaping is a valid subset of it."""
    return json.dumps(text)
