"""A fake GitHub for [actions] tests: the actions it serves, a project whose workflow uses them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from loopback.actionserver import ActionServer, composite, node
from releaser.core import lockfile

JAN = datetime(2024, 1, 1, 12, tzinfo=UTC)
FEB = datetime(2024, 2, 1, 12, tzinfo=UTC)
MAR = datetime(2024, 3, 1, 12, tzinfo=UTC)

REUSABLE = """on: workflow_call
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: acme/tool@v2
"""

WORKFLOW = """name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      # check the code out first
      - uses: acme/checkout@v4
      - uses: acme/setup@v1   # composite: it uses acme/tool
      - uses: ./.github/actions/local
      - uses: acme/tool@{tool}
  shared:
    uses: acme/flows/.github/workflows/build.yml@v1
"""


def project(root: Path, server: ActionServer, workflow: str | None = None, *, local: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = f'[release]\nname = "cosmo"\nversion = "0.9.0"\n\n[actions]\nserver = "{server.url}"\n'
    (root / "release.toml").write_text(text + ("allow-local = true\n" if local else ""), encoding="utf-8")
    (root / ".github/workflows").mkdir(parents=True, exist_ok=True)
    tool = server.repos["acme/tool"].rev("v2")
    (root / ".github/workflows/ci.yml").write_text(workflow or WORKFLOW.format(tool=tool), encoding="utf-8")
    return root


def pins(root: Path) -> dict[str, lockfile.Pin]:
    current = lockfile.read(root / "release.lock")
    assert current is not None
    return {p.name: p for p in current.of_kind("actions")}


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "releaser", *args], cwd=root, capture_output=True, text=True, env=dict(os.environ), timeout=120)


def released(s: ActionServer) -> ActionServer:
    """acme/checkout v4 (Jan), acme/tool v2 (Jan), acme/setup v1 (Feb: composite, uses acme/tool@v2),
    acme/flows v1 (Feb: a reusable workflow using acme/tool@v2)."""
    s.release("acme/checkout", {"action.yml": node("checkout")}, tag="v4", when=JAN)
    s.release("acme/tool", {"action.yml": node("tool")}, tag="v2", when=JAN)
    s.release("acme/setup", {"action.yml": composite("setup", "acme/tool@v2")}, tag="v1", when=FEB)
    s.release("acme/flows", {".github/workflows/build.yml": REUSABLE}, tag="v1", when=FEB)
    return s
