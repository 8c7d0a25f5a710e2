"""The targets of a Python lock: where the pinned set is meant to be installed.

A target is written as a PEP 508 marker of one simple form, an `and` of `==`
comparisons on `sys_platform`, `python_version` and (optionally) `platform_machine`:

    sys_platform == 'linux' and python_version == '3.11'
    sys_platform == 'win32' and python_version == '3.12' and platform_machine == 'AMD64'

That form is what `[python] environments` accepts, what the lock header records
(`environments`, or `target` for the one interpreter a lock without environments was
made on), and what a pin's `marker` is made of. It names one concrete platform and
Python version, which is what lets uv resolve for it (`--python-platform`,
`--python-version`) and lets `releaser check` compare it with the running
interpreter without importing `packaging` (this module is on check's path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from releaser.core import interpreter

KEYS = ("sys_platform", "python_version", "platform_machine")
PLATFORMS = ("linux", "win32", "darwin")
_CLAUSE = re.compile(r"""\s*([a-z_]+)\s*==\s*(?:'([^'"]*)'|"([^'"]*)")\s*""")
_VERSION = re.compile(r"[0-9]+\.[0-9]+")
# Machine names differ by platform (`AMD64` on Windows, `arm64` on macOS): one spelling each.
_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
# (sys_platform, machine) -> (uv's --python-platform, the machine as wheel tags spell it).
_PLATFORMS = {
    ("linux", "x86_64"): ("x86_64-unknown-linux-gnu", "x86_64"),
    ("linux", "aarch64"): ("aarch64-unknown-linux-gnu", "aarch64"),
    ("win32", "x86_64"): ("x86_64-pc-windows-msvc", "amd64"),
    ("win32", "aarch64"): ("aarch64-pc-windows-msvc", "arm64"),
    ("darwin", "x86_64"): ("x86_64-apple-darwin", "x86_64"),
    ("darwin", "aarch64"): ("aarch64-apple-darwin", "arm64"),
}
_DEFAULT_MACHINE = {"linux": "x86_64", "win32": "x86_64", "darwin": "aarch64"}


@dataclass(frozen=True)
class Target:
    platform: str  # sys_platform: linux, win32, darwin
    python: str  # python_version: "3.11"
    machine: str | None = None  # platform_machine as written, or None for any

    @property
    def marker(self) -> str:
        """The target as a marker, in the one form this module reads back."""
        text = f"sys_platform == '{self.platform}' and python_version == '{self.python}'"
        return text + (f" and platform_machine == '{self.machine}'" if self.machine else "")

    @property
    def arch(self) -> str:
        """The machine, spelled one way (x86_64, aarch64); the platform's most common one when not named."""
        return _MACHINES[self.machine.lower()] if self.machine else _DEFAULT_MACHINE[self.platform]

    @property
    def uv_platform(self) -> str:
        """uv's `--python-platform` for this target."""
        return _PLATFORMS[(self.platform, self.arch)][0]

    @property
    def wheel_arch(self) -> str:
        """The machine as this platform's wheel tags spell it (`amd64` on Windows, `arm64` on macOS)."""
        return _PLATFORMS[(self.platform, self.arch)][1]

    def environment(self) -> dict[str, str]:
        """The marker environment of a CPython on this target, for evaluating requirement markers."""
        machine = self.machine or {"win32": "AMD64", "darwin": "arm64"}.get(self.platform, "x86_64")
        return {
            "sys_platform": self.platform,
            "platform_system": {"linux": "Linux", "win32": "Windows", "darwin": "Darwin"}[self.platform],
            "os_name": "nt" if self.platform == "win32" else "posix",
            "platform_machine": machine,
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "implementation_version": f"{self.python}.0",
            "platform_release": "",
            "platform_version": "",
            "extra": "",
        }

    def covers(self, other: Target) -> bool:
        """True when an interpreter described by `other` is this target."""
        same_machine = self.machine is None or (
            other.machine is not None and _MACHINES.get(self.machine.lower()) == _MACHINES.get(other.machine.lower())
        )
        return self.platform == other.platform and self.python == other.python and same_machine


def parse(text: str) -> Target:
    """`text` as a Target; ValueError saying what form is expected."""
    values: dict[str, str] = {}
    expected = (
        "must be an `and` of == comparisons on sys_platform, python_version and optionally "
        "platform_machine, e.g. \"sys_platform == 'linux' and python_version == '3.12'\""
    )
    for clause in text.split(" and "):
        match = _CLAUSE.fullmatch(clause)
        if not match or match.group(1) not in KEYS or match.group(1) in values:
            raise ValueError(f"{text!r} {expected}")
        values[match.group(1)] = match.group(2) if match.group(2) is not None else match.group(3)
    if "sys_platform" not in values or "python_version" not in values:
        raise ValueError(f"{text!r} {expected}")
    if values["sys_platform"] not in PLATFORMS:
        raise ValueError(f"{text!r}: sys_platform must be one of {', '.join(PLATFORMS)}")
    if not _VERSION.fullmatch(values["python_version"]):
        raise ValueError(f"{text!r}: python_version must be MAJOR.MINOR, e.g. '3.12'")
    machine = values.get("platform_machine")
    if machine is not None and machine.lower() not in _MACHINES:
        raise ValueError(f"{text!r}: platform_machine must be one of {', '.join(sorted(set(_MACHINES)))}")
    return Target(values["sys_platform"], values["python_version"], machine)


def configured(listed: list[str] | None, resolver: str) -> tuple[str, ...]:
    """`[python] environments` as normalized markers; ValueError saying what is wrong with them."""
    if listed is None:
        return ()
    environments = [parse(text).marker for text in listed]
    if not environments:
        raise ValueError("is empty: name at least one target, or leave it out")
    if len(set(environments)) != len(environments):
        raise ValueError("names the same target twice")
    if resolver != "uv":
        raise ValueError('needs the uv resolver (resolver = "uv"): pip-tools resolves only for the interpreter that runs it')
    return tuple(environments)


def here() -> Target:
    """The running interpreter as a target (with its machine)."""
    platform, python, machine = interpreter.target()
    return Target(platform, python, machine or None)


def any_covers(markers: tuple[str, ...], current: Target | None = None) -> bool:
    """True when one of `markers` (targets) is the running interpreter (or `current`)."""
    current = current or here()
    return any(parse(m).covers(current) for m in markers)


def needed_under(targets: list[Target], everywhere: list[Target]) -> str | None:
    """The marker of a pin needed on `targets` out of `everywhere`: None when needed on all."""
    return None if set(targets) == set(everywhere) else named(targets)


def named(targets: list[Target]) -> str:
    """The marker naming exactly `targets`, in the form `marker_targets` reads back."""
    if len(targets) == 1:
        return targets[0].marker
    return " or ".join(f"({t.marker})" for t in targets)


def marker_targets(marker: str | None, everywhere: tuple[str, ...]) -> list[str]:
    """The targets among `everywhere` that a pin's marker (written by `needed_under`) names."""
    if marker is None:
        return list(everywhere)
    names = named_in(marker)
    return [t for t in everywhere if parse(t).marker in names]


def named_in(marker: str) -> set[str]:
    """The targets, as markers, that a marker written by `named` names."""
    return {part.strip().removeprefix("(").removesuffix(")") for part in marker.split(" or ")}
