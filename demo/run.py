"""The releaser demo: lock a floating project, cut an RC, let upstream drift, get the RC back.

Starts a Python package index and a Maven repository on 127.0.0.1 (no network
needed), copies the bundled example project (demo/example) to a work folder and
runs the real `releaser` commands on it, printing each command and what it says,
as a release engineer would see them.

    python demo/run.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loopback.maven import MavenRepository
from loopback.pypi import PackageIndex
from releaser.ecosystems.python.buildenv import venv_python
from releaser.plumbing.piprun import isolated_env

EXAMPLE = Path(__file__).resolve().parent / "example"
SHOP = Path(__file__).resolve().parent / "shop"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def say(text: str) -> None:
    print(f"\n## {text}", flush=True)


def run(work: Path, *args: str, show: int = 40, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """Run a command in the project as a user would; print it and the start of its output."""
    print(f"$ {shlex.join(args)}", flush=True)  # pasteable: quoted as a shell needs
    # The machine's pip configuration stays out of the demo's own pip calls too.
    done = subprocess.run(args, cwd=work, capture_output=True, text=True, env={**isolated_env(), "NO_COLOR": "1"})
    lines = (done.stdout + done.stderr).rstrip().splitlines()
    for line in lines[:show]:
        print(f"  {line}")
    if len(lines) > show:
        print(f"  ... ({len(lines) - show} more lines)")
    if done.returncode not in ok:
        raise SystemExit(f"demo: `{shlex.join(args)}` exited {done.returncode}")
    return done


def releaser(work: Path, *args: str, show: int = 40, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    return run(work, "releaser", *args, show=show, ok=ok)


def now() -> datetime:
    return datetime.now(UTC)


def upstream_history(index: PackageIndex, maven: MavenRepository) -> None:
    """A year of releases, and a library team deploying SNAPSHOT builds of ical4j."""
    index.publish("tzkit", "1.0", uploaded=utc(2024, 1, 10), sdist=True)
    index.publish("tzkit", "1.1", uploaded=utc(2024, 3, 2), tags=("py3-none-any", "cp312-cp312-win_amd64"))
    index.publish("sqlpath", "0.4", requires=["tzkit>=1.0"], uploaded=utc(2024, 2, 1))
    index.publish("sqlpath", "0.5", requires=["tzkit>=1.1", "rowcodec<2"], uploaded=utc(2024, 5, 20))
    index.publish("rowcodec", "1.2", uploaded=utc(2024, 4, 1))
    for n, day in enumerate((3, 9, 28), start=1):
        deploy_ical4j(maven, utc(2024, 3, day, 23, 5, 3), n)
    print("  python: tzkit 1.0, 1.1 · sqlpath 0.4, 0.5 · rowcodec 1.2")
    print("  maven:  net.fortuna:ical4j:1.0-SNAPSHOT, builds 1 to 3 (the last on 2024-03-28); its POM depends on")
    print("          net.fortuna:ical4j-zoneinfo:1.0-SNAPSHOT, a second SNAPSHOT that release.toml does not name")


# ical4j's POM, as its team deploys it: it needs a second SNAPSHOT, built alongside it.
ICAL4J_POM = b"""<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>net.fortuna</groupId><artifactId>ical4j</artifactId><version>1.0-SNAPSHOT</version>
  <dependencies><dependency><groupId>net.fortuna</groupId><artifactId>ical4j-zoneinfo</artifactId>
    <version>${project.version}</version></dependency></dependencies>
</project>
"""


def deploy_ical4j(maven: MavenRepository, when: datetime, build: int) -> None:
    maven.deploy_snapshot("net.fortuna", "ical4j-zoneinfo", "1.0", when - timedelta(minutes=5), build)
    maven.deploy_snapshot("net.fortuna", "ical4j", "1.0", when, build, pom=ICAL4J_POM)


def make_repository(work: Path) -> None:
    (work / ".gitignore").write_text("/dist/\n/site/\n/reproduce/\n__pycache__/\n")
    run(work, "git", "-c", "init.defaultBranch=main", "init", "--quiet")
    for key, value in (("user.name", "Release Engineer"), ("user.email", "re@cosmo.example"), ("commit.gpgsign", "false"), ("tag.gpgsign", "false")):
        run(work, "git", "config", key, value)
    run(work, "git", "add", "--all")
    run(work, "git", "commit", "--quiet", "-m", "cosmo 0.9.0, locked")


def installed_set(work: Path, rc: str) -> str:
    """What the reproduced virtual environment holds, as its own Python reports it."""
    python = venv_python(work / "reproduce" / rc / "venv")
    listing = "import importlib.metadata as m; print(*sorted(f'{d.metadata[\"Name\"]} {d.version}' for d in m.distributions()), sep=', ')"
    return run(work, str(python), "-I", "-c", listing).stdout.strip()


REVISION = '''"""{message}"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    {upgrade}


def downgrade() -> None:
    {downgrade}
'''


def migration_story(work: Path) -> None:
    """Two branches each add a migration after a1; merged, the gate refuses two heads; a merge revision fixes it."""
    say("Two branches each add a database migration after a1, and both are merged")
    for branch, rev, column in (("price", "b2", "price"), ("stock", "c3", "stock")):
        run(work, "git", "checkout", "--quiet", "-b", branch, "main")
        (work / "db" / "versions" / f"{rev}_add_{column}.py").write_text(REVISION.format(
            message=f"add {column}", rev=rev, down="a1",
            upgrade=f"op.add_column(\"item\", sa.Column(\"{column}\", sa.Integer))",
            downgrade=f"op.drop_column(\"item\", \"{column}\")",
        ))
        run(work, "git", "add", "--all")
        run(work, "git", "commit", "--quiet", "-m", f"Add {column}")
    run(work, "git", "checkout", "--quiet", "main")
    run(work, "git", "merge", "--quiet", "--no-edit", "price", "stock")
    say("The gate refuses: the database would have two heads, and `alembic upgrade head` would stop")
    releaser(work, "check", ok=(1,))
    say("The fix it names: a merge revision (what `alembic merge heads` writes); the gate passes")
    (work / "db" / "versions" / "d4_merge_heads.py").write_text(
        REVISION.format(message="merge heads", rev="d4", down=("b2", "c3"), upgrade="pass", downgrade="pass")
    )
    run(work, "git", "add", "--all")
    run(work, "git", "commit", "--quiet", "-m", "Merge the migration heads")
    releaser(work, "migrations")


def rehearsal(work: Path) -> None:
    """A service with a database (demo/shop, Alembic): every RC's upgrade rehearsed on seeded data."""
    from loopback.installed import wheels_with_dependencies

    with PackageIndex() as index, tempfile.TemporaryDirectory(prefix="releaser-wheels-") as wheels:
        for wheel in wheels_with_dependencies(["alembic"], Path(wheels)):  # as installed here: no network
            index.add(wheel)
        shutil.copytree(SHOP, work, ignore=shutil.ignore_patterns("next"))
        config = work / "release.toml"
        config.write_text(config.read_text().replace("@INDEX@", index.url))
        say("A service with a database: shop 2.0.0, its schema migrated by Alembic, locked and cut")
        releaser(work, "lock")
        make_repository(work)
        releaser(work, "cut")
        print("  (the first RC of its line: the rehearsal records a baseline from an empty database)")
        say("Its next RC adds a migration; the cut rehearses the upgrade from rc1 on seeded data, reverts, times it")
        shutil.copy(SHOP / "next" / "b2_order_total.py", work / "alembic" / "versions")
        run(work, "git", "add", "--all")
        run(work, "git", "commit", "--quiet", "-m", "Orders get a total")
        releaser(work, "cut")
        say("The record keeps the figures, and revert.sh: a post-update backup, then back to rc1's heads")
        releaser(work, "revert-plan", "2.0.0rc2")
        run(work, "sed", "-n", "/^echo \"2\\./,/^echo \"3\\./p", "releases/2.0.0rc2/revert.sh")
        say("The line of RCs as pages to read: what each RC changed, its migrations, every step's time across RCs")
        releaser(work, "site")
        print(f"  open {work / 'dist' / 'site' / 'index.html'} in a browser (static: no script, no outside asset)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    # Commands below are the installed `releaser` script of this interpreter.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"

    with PackageIndex() as index, MavenRepository() as maven, tempfile.TemporaryDirectory(prefix="releaser-demo-") as tmp:
        work = args.keep or Path(tmp) / "cosmo"
        shutil.copytree(EXAMPLE, work, dirs_exist_ok=True)
        config = work / "release.toml"
        config.write_text(config.read_text().replace("@INDEX@", index.url).replace("@MAVEN@", maven.url))

        say(f"Upstream: a package index on {index.url} and a Maven repository on {maven.url}")
        upstream_history(index, maven)
        floating = [line for line in (work / "requirements.in").read_text().splitlines() if line and not line.startswith("#")]
        print(f"  the example project asks for: {', '.join(floating)}, net.fortuna:ical4j:1.0-SNAPSHOT")

        say("Lock as upstream was on 2024-04-15: every floating dependency pinned, hashed, dated")
        releaser(work, "lock", "--as-of", "2024-04-15T00:00:00Z")
        run(work, "grep", "-A6", "^\\[\\[maven\\]\\]", "release.lock")
        print("  (both SNAPSHOTs are now exact timestamped builds, jars and poms hashed; `requested` says why the second is there)")
        say("CI's gate, offline: is the lock fresh, and does nothing float?")
        releaser(work, "check")

        say("Upstream moves on: sqlpath 0.6 and tzkit 2.0 are uploaded")
        index.publish("sqlpath", "0.6", requires=["tzkit>=1.1"], uploaded=now())
        index.publish("tzkit", "2.0", uploaded=now())
        say("A relock keeps every pin, byte for byte, until you ask to upgrade")
        releaser(work, "lock")
        say("Upgrade one package on purpose")
        releaser(work, "lock", "--upgrade", "sqlpath")

        say("Export for installers: PEP 751 pylock.toml, hash-pinned requirements, and a CycloneDX SBOM")
        releaser(work, "export", "--format", "pylock")
        releaser(work, "export", "--format", "requirements")
        releaser(work, "export", "--format", "maven")
        run(work, "grep", "-A1", "<artifactId>ical4j", "maven-pins.pom")
        print("  (a BOM to import: Maven then builds on both pinned SNAPSHOT builds; see docs/maven.md)")
        releaser(work, "export", "--format", "cyclonedx")
        sbom = json.loads((work / "sbom.cdx.json").read_text())
        print(f"  sbom.cdx.json: CycloneDX {sbom['specVersion']}, {len(sbom['components'])} components, each with its purl and every file's SHA-256")
        run(work, sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--require-hashes",
            "--no-deps", "--target", str(work / "site"), "-r", "requirements.txt")
        print("  installed, every file hash-verified: " + ", ".join(sorted(p.name for p in (work / "site").iterdir() if not p.name.endswith("-info"))))

        say("Cut a release candidate: a clean commit, a fresh lock, built and gated against exactly the pins")
        make_repository(work)
        releaser(work, "cut")
        run(work, "git", "log", "--oneline", "--decorate", "-2")
        releaser(work, "list")
        run(work, "cat", "releases/0.9.0rc1/MANIFEST.md", show=80)
        run(work, "ls", "releases/0.9.0rc1")

        say("Upstream drifts: new ical4j SNAPSHOT builds are deployed, tzkit 2.1 and sqlpath 0.7 uploaded")
        deploy_ical4j(maven, now(), 4)
        index.publish("tzkit", "2.1", uploaded=now())
        index.publish("sqlpath", "0.7", requires=["tzkit>=2.1"], uploaded=now())
        say("check --online re-verifies every pin upstream: still there, same hashes; newer builds are news, not failures")
        releaser(work, "check", "--online")

        say("A bug is reported against 0.9.0rc1: get its exact dependency set back, every file hash-verified")
        releaser(work, "reproduce", "0.9.0rc1")
        print(f"  the reproduction holds exactly 0.9.0rc1's Python set: {installed_set(work, '0.9.0rc1')}")
        run(work, "cat", "reproduce/0.9.0rc1/maven/classpath.txt")

        migration_story(work)

        say("Upgrade on purpose, cut rc2, and see what changed since rc1")
        releaser(work, "lock", "--upgrade")
        run(work, "git", "commit", "--quiet", "-m", "Upgrade the dependencies", "release.lock")
        releaser(work, "cut")
        releaser(work, "diff", "0.9.0rc1", "0.9.0rc2")
        releaser(work, "site")
        rehearsal(work.parent / "shop")
        say("Done. The example project's files are in " + (str(work) if args.keep else "a temporary folder (use --keep DIR to keep them)"))


if __name__ == "__main__":
    main()
