"""`releaser list` and `releaser show` on records as a long-lived project has them: RC ids
of every width (rc9, rc10, a later major), cut times with and without microseconds, a
hundred pins beside two, long names, undated pins, and a record edited by hand."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import days, run_releaser
from releaser.core import lockfile
from releaser.core.lockfile import Lock
from releaser.record import records

# (rc, cut_at, commit, pins)
RECORDED = [
    ("3.9.0rc9", "2024-01-02T03:04:05+00:00", "1" * 40, 2),
    ("3.9.0rc10", "2024-11-12T13:14:15.123456+00:00", "2" * 40, 120),
    ("3.10.0rc1", "2025-02-03T04:05:06Z", "3" * 40, 7),
    ("12.0.0rc13", "2026-03-04T05:06:07.5+00:00", "4" * 40, 1),
]


def record(root: Path, rc: str, cut_at: str, commit: str, pins: list[dict[str, object]]) -> None:
    data = lockfile.dumps(Lock(days(1), "0.1.0", "none")).encode()
    manifest = {
        "schema": records.SCHEMA, "rc": rc, "lock_digest": records.lock_digest(data), "name": "hc", "version": rc,
        "cut_at": cut_at, "commit": commit, "tag": f"v{rc}", "pins": pins,
    }
    records.write(root / "releases", rc, {"manifest.json": json.dumps(manifest).encode(), "release.lock": data})


def pin(name: str, version: str, date: str | None) -> dict[str, object]:
    return {"kind": "python", "name": name, "version": version, "date": date, "artifacts": [{"name": f"{name}.whl"}]}


def test_list_lines_up_its_columns_whatever_the_widths(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "release.toml").write_text('[release]\nname = "hc"\nversion = "3.9.0"\n')
    for rc, cut_at, commit, count in RECORDED:
        record(root, rc, cut_at, commit, [pin(f"p{n}", "1.0", None) for n in range(count)])
    (root / "releases" / "3.10.0rc1" / "release.lock").write_text("# edited\n")

    done = run_releaser(root, "list")
    assert done.returncode == 1, done.stderr  # one record does not verify
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["3.9.0rc9", "3.9.0rc10", "3.10.0rc1", "12.0.0rc13"]
    verified = [(line, cut_at, commit) for line, (_, cut_at, commit, _) in zip(lines, RECORDED) if "NOT VERIFIED" not in line]
    assert len(verified) == 3
    assert len({line.index(cut_at) for line, cut_at, _ in verified}) == 1, done.stdout
    assert len({line.index(commit[:12]) for line, _, commit in verified}) == 1, done.stdout
    assert len({line.index(" pin") for line, _, _ in verified}) == 1, done.stdout  # counts right-aligned
    assert [line.split()[-2:] for line, _, _ in verified] == [["2", "pins"], ["120", "pins"], ["1", "pin"]]
    assert lines[2].index("NOT VERIFIED: ") == verified[0][0].index(RECORDED[0][1])  # in the cut time's column
    assert all(line == line.rstrip() for line in lines)


def test_show_lines_up_pins_of_every_width(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "release.toml").write_text('[release]\nname = "hc"\nversion = "3.9.0"\n')
    pins = [
        pin("a", "1.0", "2024-01-02T03:04:05+00:00"),
        pin("opentelemetry-instrumentation-asgi", "0.48b0.dev20240101", None),
        pin("django", "4.2.11", "2024-03-04T05:06:07.123456+00:00"),
    ]
    record(root, "3.9.0rc1", "2024-05-06T07:08:09Z", "5" * 40, pins)
    done = run_releaser(root, "show", "3.9.0rc1")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("    ") and "file" in line]
    assert len(rows) == 3, done.stdout
    assert len({row.index("1 file") for row in rows}) == 1, done.stdout
    assert {row.index(v) for row, v in zip(rows, ("1.0", "0.48b0", "4.2.11"))} == {rows[0].index("1.0")}
    assert {row.index(d) for row, d in zip(rows, ("2024-01-02", "undated", "2024-03-04"))} == {rows[0].index("2024-01-02")}
