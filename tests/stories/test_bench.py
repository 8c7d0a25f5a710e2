"""The benchmark command keeps working: `bench/run.py --quick` writes every section, with figures.

No timing is asserted: on a shared machine a time proves nothing. This only keeps
the benchmark from rotting while the code it measures changes.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\d+\.\d+"  # a measured figure, e.g. 0.139


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def table_rows(body: str) -> list[str]:
    """The data rows of the markdown tables in `body` (no header, no separator)."""
    rows = [line for line in body.splitlines() if line.startswith("|")]
    return [row for row in rows if not re.fullmatch(r"\|[-:| ]+\|", row) and not row.startswith("| command") and "wall" not in row]


def test_quick_run_writes_all_five_sections_with_figures(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--output", str(output)],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,  # a guard against a hang: seven sections, ~5 min loaded
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = output.read_text(encoding="utf-8")

    machine = section(text, "## The machine and the method")
    assert re.search(r"\| cores \(`os.cpu_count\(\)`\) \| \d+ \|", machine)
    assert re.search(r"\| Python \| 3\.\d+\.\d+ \|", machine)
    assert re.search(r"\| load average .* \| \d+\.\d\d / ", machine)
    assert "| 3 | " in section(text, "## Goals")  # each goal has a row

    for heading, rows in [
        ("## 1. `releaser check`", 3),  # three sizes
        ("## 2. `releaser lock`", 3 * 3),  # three sizes with pip-tools, three with uv, three with uv 20 ms away
        ("## 3. Maven", 5),  # three sizes with checksum headers, one with sidecar files only, one transitive graph
        ("## 4. How cost grows", 3 * 10),  # three sizes of ten commands
        ("## 5. Memory", 9),
        ("## 6. The migration gate", 2),  # one size, Django and Alembic
        ("## 7. `releaser check` with migrations", 1),  # one size
    ]:
        found = table_rows(section(text, heading))
        assert len(found) == rows, f"{heading}: {found}"
        for row in found:
            assert re.search(NUMBER, row), f"{heading}: no figure in {row}"
    assert re.search(rf"{NUMBER}× \(", section(text, "## 1.")), "speed-up per pair"
    assert re.search(rf"{NUMBER}× \(", section(text, "## 2.")), "ratio per pair"
    assert re.search(rf"{NUMBER}× \(", section(text, "## 3.")), "speed-up per pair"


def test_the_uv_floor_what_if_runs_and_reads_every_page() -> None:
    # Its bare process exits non-zero unless it read three files from each project's page.
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "uv_floor.py"), "--sizes", "3", "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(rf"\| 3 \| {NUMBER} .* \| {NUMBER}x \|", done.stdout), done.stdout


def test_the_site_benchmark_runs_at_a_small_size(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "site.py"), "--rcs", "3", "--pins", "5", "--runs", "1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(rf"releaser site, 3 RCs × 5 pins: median {NUMBER} s of 1 runs", done.stdout), done.stdout
