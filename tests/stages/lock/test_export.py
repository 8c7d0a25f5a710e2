"""Exports: a PEP 751 pylock.toml and a requirements file pip installs with --require-hashes."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from packaging.pylock import Pylock

from releaser.lock.locking import lock
from releaser.plumbing.piprun import isolated_env


def pip_install(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-cache-dir", *args],
        capture_output=True, text=True, env=isolated_env(), timeout=300,
    )


def test_pylock_export_is_valid_pep_751_with_every_file(populated, make_project):
    project = make_project(populated.url, requirements="alpha\nbeta==1.0\n")
    lock(project.config())
    done = project.releaser("export", "--format", "pylock")
    assert done.returncode == 0, done.stderr

    doc = tomllib.loads((project.root / "pylock.toml").read_text())
    pylock = Pylock.from_dict(doc)  # raises on anything PEP 751 forbids
    by_name = {p.name: p for p in pylock.packages}
    beta = by_name["beta"]
    assert str(beta.version) == "1.0" and beta.index == populated.url
    assert beta.sdist.name == "beta-1.0.tar.gz" and beta.sdist.upload_time is not None
    assert sorted(w.name for w in beta.wheels) == ["beta-1.0-cp311-cp311-win_amd64.whl", "beta-1.0-py3-none-any.whl"]
    assert all(w.hashes["sha256"] and w.size for w in beta.wheels)
    selected = {package.name for package, _dist in pylock.select()}
    assert selected == {"alpha", "beta"}


def test_requirements_export_installs_with_require_hashes(populated, make_project, tmp_path):
    project = make_project(populated.url)
    lock(project.config())
    done = project.releaser("export", "--format", "requirements", "-o", "hashed.txt")
    assert done.returncode == 0, done.stderr
    exported = project.root / "hashed.txt"

    target = tmp_path / "site"
    installed = pip_install(["--require-hashes", "--no-deps", "--target", str(target), "-r", str(exported)])
    assert installed.returncode == 0, installed.stderr
    assert (target / "alpha").is_dir() and (target / "beta").is_dir()

    text = exported.read_text()
    tampered = tmp_path / "tampered.txt"
    beta_hash = text.split("beta==2.0 \\\n    --hash=sha256:")[1][:64]
    tampered.write_text(text.replace(beta_hash, "0" * 64))
    refused = pip_install(["--require-hashes", "--no-deps", "--target", str(tmp_path / "x"), "-r", str(tampered)])
    assert refused.returncode != 0 and "HASHES" in refused.stderr.upper()


def test_export_without_a_lock_says_how_to_make_one(populated, make_project):
    project = make_project(populated.url)
    done = project.releaser("export", "--format", "pylock")
    assert done.returncode == 1 and "run `releaser lock` first" in done.stderr
