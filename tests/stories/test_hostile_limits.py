"""Hostile input, second pass (issue 26): inputs built to cost, long or deep rather than malformed.

Each case made a command run for hours, or ended in "a bug in releaser". Now each is
linear in its input, or refused with one line naming the file or URL and its exit code.
A child process given a generous timeout stands for "did not hang": the fixed parsers
finish in well under a second, the old ones took hours on these inputs.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import python_project, run_releaser

from loopback.faults import Answer, FaultServer
from releaser.core.errors import UpstreamError
from releaser.ecosystems.python.index import JSON_TYPE, PackageIndexReader
from releaser.plumbing.http import Http

HANG = 120  # seconds; the inputs below took minutes to hours before


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr + done.stdout and "bug in releaser" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_long_whitespace_run_in_a_requirements_file_is_read_in_linear_time(tmp_path: Path) -> None:
    project = python_project(tmp_path / "p", "https://pypi.example.org/simple")
    (project.root / "requirements.in").write_text("alpha==1.0" + " \t" * 150_000 + "x\n")
    done = run_releaser(project.root, "check", timeout=HANG)
    assert done.returncode == 2 and "requirements.in:1: invalid requirement" in one_line(done)


def test_sql_of_unterminated_comments_is_digested_in_linear_time() -> None:
    code = "from releaser.migrations.flyway import sql_digest; print(sql_digest(b'/* ' * 300_000 + b\"' x\" * 100_001))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0 and done.stdout.startswith("sha256:"), done.stderr


DEEP_TOML = "x = " + "[" * 5000 + "]" * 5000 + "\n"


@pytest.mark.parametrize("name", ["release.toml", "release.lock", "pyproject.toml"])
def test_deeply_nested_toml_is_bad_input_naming_the_file(tmp_path: Path, name: str) -> None:
    project = python_project(tmp_path / "p", "https://pypi.example.org/simple", python="pyproject = true")
    (project.root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = []\n')
    path = project.root / name
    path.write_text((path.read_text() if path.exists() else "") + DEEP_TOML)
    done = run_releaser(project.root, "check", timeout=HANG)
    line = one_line(done)
    assert done.returncode == 2 and f"{name}: TOML nested more than" in line, done.stderr


@pytest.mark.parametrize("nesting", [b"[" * 100_000, b'{"files": ' * 2_000 + b"[]" + b"}" * 2_000], ids=["arrays", "objects"])
def test_a_deeply_nested_json_index_page_is_an_upstream_error_naming_the_page(nesting: bytes) -> None:
    with FaultServer() as faults, Http(backoff=0.01) as http:
        faults.script("simple/alpha/", Answer(200, nesting, JSON_TYPE))
        reader = PackageIndexReader(http, (faults.url("simple"),))
        with pytest.raises(UpstreamError, match=r"127\.0\.0\.1:\d+/simple/alpha/: JSON nested more than \d+ levels"):
            reader.project_files(faults.url("simple"), "alpha")


@functools.cache
def gzip_bomb(size: int) -> bytes:
    """A gzip stream of `size` spaces, made a MiB at a time: about size/1000 bytes on the wire."""
    import zlib

    packer, block = zlib.compressobj(9, zlib.DEFLATED, 31), b" " * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


@pytest.mark.parametrize("resolver", ["pip-tools", "uv"])
def test_a_gzip_index_page_that_expands_to_gigabytes_costs_the_resolver_at_most_its_ceiling(tmp_path: Path, resolver: str) -> None:
    with FaultServer() as faults:
        faults.script("simple/alpha/", Answer(200, gzip_bomb(512 << 20), "text/html", {"Content-Encoding": "gzip"}))
        index = faults.url("simple")
        project = python_project(tmp_path / "p", index, python=f'resolver = "{resolver}"')
        done = run_releaser(project.root, "lock", env={"RELEASER_RESOLVER_MAX_BYTES": str(256 << 20)}, timeout=HANG)
    assert done.returncode == 3, done.stderr
    line = one_line(done)
    assert "memory ceiling of 256 MiB (RELEASER_RESOLVER_MAX_BYTES)" in line and index in line
    assert not project.lockfile.exists()
