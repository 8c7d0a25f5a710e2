"""The releaser demo: lock a floating example project, watch upstream drift, stay pinned.

Starts a package index on 127.0.0.1 (no network needed), copies the bundled example
project (demo/example) to a work folder and runs the real `releaser` commands on it,
printing each command and what it says, as a release engineer would see them.

    python demo/run.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from releaser.loopback.pypi import PackageIndex
from releaser.sources.python import isolated_env

EXAMPLE = Path(__file__).resolve().parent / "example"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def say(text: str) -> None:
    print(f"\n## {text}", flush=True)


def run(work: Path, *args: str, show: int = 40) -> subprocess.CompletedProcess[str]:
    """Run a command in the project as a user would; print it and the start of its output."""
    print(f"$ {' '.join(args)}", flush=True)
    # The machine's pip configuration stays out of the demo's own pip calls too.
    done = subprocess.run(args, cwd=work, capture_output=True, text=True, env={**isolated_env(), "NO_COLOR": "1"})
    lines = (done.stdout + done.stderr).rstrip().splitlines()
    for line in lines[:show]:
        print(f"  {line}")
    if len(lines) > show:
        print(f"  ... ({len(lines) - show} more lines)")
    if done.returncode != 0:
        raise SystemExit(f"demo: `{' '.join(args)}` exited {done.returncode}")
    return done


def releaser(work: Path, *args: str, show: int = 40) -> subprocess.CompletedProcess[str]:
    return run(work, "releaser", *args, show=show)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    # Commands below are the installed `releaser` script of this interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

    with PackageIndex() as index, tempfile.TemporaryDirectory(prefix="releaser-demo-") as tmp:
        work = args.keep or Path(tmp) / "cosmo"
        shutil.copytree(EXAMPLE, work, dirs_exist_ok=True)
        config = work / "release.toml"
        config.write_text(config.read_text().replace("@INDEX@", index.url))

        say(f"Upstream: a package index on {index.url} with a year of history")
        index.publish("tzkit", "1.0", uploaded=utc(2024, 1, 10), sdist=True)
        index.publish("tzkit", "1.1", uploaded=utc(2024, 3, 2), tags=("py3-none-any", "cp312-cp312-win_amd64"))
        index.publish("sqlpath", "0.4", requires=["tzkit>=1.0"], uploaded=utc(2024, 2, 1))
        index.publish("sqlpath", "0.5", requires=["tzkit>=1.1", "rowcodec<2"], uploaded=utc(2024, 5, 20))
        index.publish("rowcodec", "1.2", uploaded=utc(2024, 4, 1))
        print("  tzkit 1.0, 1.1 · sqlpath 0.4, 0.5 · rowcodec 1.2")
        print(f"  the example project asks for: {', '.join(l for l in (work / 'requirements.in').read_text().splitlines() if l and not l.startswith('#'))}")

        say("Lock as the index was on 2024-04-15: every floating requirement pinned, hashed, dated")
        releaser(work, "lock", "--as-of", "2024-04-15T00:00:00Z")
        run(work, "sed", "-n", "1,40p", "release.lock", show=40)

        say("Upstream moves on: sqlpath 0.6 and tzkit 2.0 are uploaded")
        index.publish("sqlpath", "0.6", requires=["tzkit>=1.1"], uploaded=datetime.now(timezone.utc))
        index.publish("tzkit", "2.0", uploaded=datetime.now(timezone.utc))
        say("A relock keeps every pin, byte for byte, until you ask to upgrade")
        releaser(work, "lock")
        say("Upgrade one package on purpose")
        releaser(work, "lock", "--upgrade", "sqlpath")

        say("Export for installers: PEP 751 pylock.toml, and hash-pinned requirements")
        releaser(work, "export", "--format", "pylock")
        releaser(work, "export", "--format", "requirements")
        run(work, sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--require-hashes",
            "--no-deps", "--target", str(work / "site"), "-r", "requirements.txt")
        print("  installed, every file hash-verified: " + ", ".join(sorted(p.name for p in (work / "site").iterdir() if not p.name.endswith("-info"))))

        say("Cut a release candidate: a clean commit, a fresh lock, built and gated against exactly the pins")
        (work / ".gitignore").write_text("/dist/\n/site/\n/reproduce/\n")
        git = ("git", "-c", "init.defaultBranch=main")
        run(work, *git, "init", "--quiet")
        for key, value in (("user.name", "Release Engineer"), ("user.email", "re@cosmo.example"), ("commit.gpgsign", "false"), ("tag.gpgsign", "false")):
            run(work, "git", "config", key, value)
        run(work, "git", "add", "--all")
        run(work, "git", "commit", "--quiet", "-m", "cosmo 0.9.0, locked")
        releaser(work, "cut")
        run(work, "git", "log", "--oneline", "--decorate", "-2")
        releaser(work, "list")
        run(work, "cat", "releases/0.9.0rc1/MANIFEST.md", show=80)

        say("Upstream drifts again: tzkit 2.1 and sqlpath 0.7 are uploaded")
        index.publish("tzkit", "2.1", uploaded=datetime.now(timezone.utc))
        index.publish("sqlpath", "0.7", requires=["tzkit>=2.1"], uploaded=datetime.now(timezone.utc))
        say("A bug is reported against 0.9.0rc1: get its exact dependency set back, every file hash-verified")
        releaser(work, "reproduce", "0.9.0rc1")
        python = work / "reproduce" / "0.9.0rc1" / "venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        listing = "import importlib.metadata as m; print(*sorted(f'{d.metadata[\"Name\"]} {d.version}' for d in m.distributions()), sep=', ')"
        found = run(work, str(python), "-I", "-c", listing)
        print(f"  the reproduction holds exactly 0.9.0rc1's set: {found.stdout.strip()}")

        say("Upgrade on purpose, cut rc2, and see what changed since rc1")
        releaser(work, "lock", "--upgrade")
        run(work, "git", "commit", "--quiet", "-m", "Upgrade the dependencies", "release.lock")
        releaser(work, "cut")
        releaser(work, "diff", "0.9.0rc1", "0.9.0rc2")
        say("Done. The example project's files are in " + (str(work) if args.keep else "a temporary folder (use --keep DIR to keep them)"))


if __name__ == "__main__":
    main()
