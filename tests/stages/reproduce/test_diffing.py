"""`releaser diff` between locks whose Python pins differ per target (a marker each)."""

from __future__ import annotations

from datetime import UTC, datetime

from releaser.core.lockfile import Artifact, Lock, Pin
from releaser.reproduce.diffing import Side, diff

LINUX = 'sys_platform == "linux"'
WINDOWS = 'sys_platform == "win32"'
INDEX = "https://index.example/simple"


def _pin(name: str, version: str, marker: str | None = None) -> Pin:
    wheel = Artifact(f"{name}-{version}-py3-none-any.whl", f"{INDEX}/{name}/{version}.whl", f"{hash((name, version)) & 0xFFFF:064x}", 100)
    return Pin("python", name, version, INDEX, date=datetime(2026, 1, 2, tzinfo=UTC), artifacts=(wheel,), marker=marker)


def _side(ref: str, *pins: Pin) -> Side:
    lock = Lock(datetime(2026, 2, 1, tzinfo=UTC), "releaser 0.1.0", "pip-tools", pins=pins, environments=(LINUX, WINDOWS))
    return Side(ref, "lockfile", lock)


def test_each_targets_pin_of_one_project_is_compared_with_the_same_targets():
    a = _side("a.lock", _pin("numpy", "1.0", LINUX), _pin("numpy", "1.0", WINDOWS), _pin("alpha", "1.0"))
    b = _side("b.lock", _pin("numpy", "2.0", LINUX), _pin("numpy", "1.0", WINDOWS), _pin("alpha", "1.0"))
    found = diff(a, b)
    assert found.summary == {"added": 0, "removed": 0, "changed": 1, "unchanged": 2}
    [change] = found.to_json()["changes"]
    assert (change["name"], change["marker"], change["from"]["version"], change["to"]["version"]) == ("numpy", LINUX, "1.0", "2.0")
    assert f"python  numpy; {LINUX}  1.0 (2026-01-02) -> 2.0 (2026-01-02)" in found.render()

    # A pin that one target no longer needs is removed for that target only; an unmarked pin has no marker key.
    c = _side("c.lock", _pin("numpy", "2.0", LINUX), _pin("alpha", "1.0"), _pin("beta", "1.0"))
    changes = {(ch["name"], ch.get("marker"), ch["change"]) for ch in diff(b, c).to_json()["changes"]}
    assert changes == {("numpy", WINDOWS, "removed"), ("beta", None, "added")}
