"""A project to cut, shared by the tests of cut, attest and the OCI bundle: a real build
(a wheel written by a stdlib script), real gates, a git repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from releaser.lock.locking import lock

# A build as a project would write one, stdlib only: a real wheel (zip with dist-info),
# dated by SOURCE_DATE_EPOCH, plus what the build saw of its environment.
BUILD_PY = '''
import importlib.util, json, os, sys, time, zipfile
dist = sys.argv[1]
rc = os.environ["RELEASER_RC"]
stamp = time.gmtime(int(os.environ["SOURCE_DATE_EPOCH"]))[:6]
wheel = os.path.join(dist, f"cosmo-{rc}-py3-none-any.whl")
with zipfile.ZipFile(wheel, "w") as zf:
    for name, text in [("cosmo/__init__.py", f"__version__ = {rc!r}\\n"),
                       (f"cosmo-{rc}.dist-info/METADATA", f"Metadata-Version: 2.1\\nName: cosmo\\nVersion: {rc}\\n")]:
        zf.writestr(zipfile.ZipInfo(name, stamp), text)
import alpha, beta
seen = {
    "alpha": alpha.__version__, "beta": beta.__version__,
    "releaser_importable": importlib.util.find_spec("releaser") is not None,
    "prefix_is_venv": sys.prefix != sys.base_prefix and sys.prefix == os.environ["VIRTUAL_ENV"],
    "deps": os.environ["RELEASER_DEPS"], "rc_arg": sys.argv[2],
}
with open(os.path.join(dist, "build-env.json"), "w") as f:
    json.dump(seen, f, sort_keys=True)
'''

GATE = (
    "import alpha, beta, importlib.util, sys; "
    "assert (alpha.__version__, beta.__version__) == ('1.0', '2.0'), (alpha.__version__, beta.__version__); "
    "assert importlib.util.find_spec('releaser') is None, 'releaser leaked into the build environment'; "
    "print('gate ok')"
)


def release_toml(index_url: str, *, build: str | None = None, gates: str | None = None, more: str = "", extra: str = "") -> str:
    build = build if build is not None else '["python", "tools/build_rc.py", "{dist}", "{rc}"]'
    gates = gates if gates is not None else json.dumps([["python", "-c", GATE]])
    return f"""
    [release]
    name = "cosmo"
    version = "0.9.0"
    build = {build}
    gates = {gates}
    {more}

    [python]
    requirements = ["requirements.in"]
    index-url = "{index_url}"
    {extra}
    """


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args],
        cwd=root, capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


def commit_all(root: Path, message: str = "change") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def setup_project(populated, make_project, **toml):
    project = make_project(populated.url)
    project.write("release.toml", release_toml(populated.url, **toml))
    project.write("tools/build_rc.py", BUILD_PY)
    project.write(".gitignore", "/dist/\n")
    lock(project.config())
    return project


def make_repo(root: Path) -> str:
    git(root, "init", "-q")
    return commit_all(root, "the project")
