"""Deploy artifacts with the real Maven, `mvn deploy:deploy-file -DpomFile=...`, into a directory.

Tests and the demo describe artifacts by their POMs; real Maven lays them out: the
timestamped SNAPSHOT builds, maven-metadata.xml at both levels, the checksum files.
One Maven run deploys them all (one `deploy-file` execution each, bound to
`validate` in a throwaway project), because starting Maven costs seconds. Maven
runs with a settings file whose only mirror is a closed port on 127.0.0.1, so it
never reaches past loopback; the deploy plugin must be in the local repository
(~/.m2), as it is on these machines.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEPLOY_PLUGIN = "3.1.4"
_SETTINGS = """<settings><mirrors><mirror><id>nowhere</id><mirrorOf>*</mirrorOf>
<url>http://127.0.0.1:9/</url></mirror></mirrors></settings>
"""


@dataclass(frozen=True)
class Deployable:
    """One artifact: its POM, and its file (None: a pom-packaged artifact, the POM is the file)."""

    pom: str
    content: bytes | None = b"jar\n"
    classifier: str = ""
    extension: str = "jar"


class MavenMissing(RuntimeError):
    """Maven, or its deploy plugin, is not available on this machine."""


def available() -> bool:
    plugin = Path.home() / f".m2/repository/org/apache/maven/plugins/maven-deploy-plugin/{DEPLOY_PLUGIN}"
    return shutil.which("mvn") is not None and plugin.is_dir()


def deploy(target: Path, artifacts: list[Deployable]) -> None:
    """Deploy every artifact, in order, into the Maven 2 layout at `target` (created)."""
    if not available():
        raise MavenMissing(f"mvn or maven-deploy-plugin {DEPLOY_PLUGIN} is not installed")
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="releaser-mvn-") as tmp:
        work = Path(tmp)
        executions = []
        for i, artifact in enumerate(artifacts):
            pom = work / f"a{i}.pom"
            pom.write_text(artifact.pom, encoding="utf-8")
            if artifact.content is None:
                file, packaging = pom, "<packaging>pom</packaging>"
            else:
                file = work / f"a{i}.{artifact.extension}"
                file.write_bytes(artifact.content)
                packaging = f"<packaging>{artifact.extension}</packaging>"
            classifier = f"<classifier>{html.escape(artifact.classifier)}</classifier>" if artifact.classifier else ""
            executions.append(
                f"<execution><id>a{i}</id><phase>validate</phase><goals><goal>deploy-file</goal></goals>"
                f"<configuration><file>{file}</file><pomFile>{pom}</pomFile>{packaging}{classifier}"
                f"<url>{target.resolve().as_uri()}</url><generatePom>false</generatePom></configuration></execution>"
            )
        (work / "pom.xml").write_text(
            '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
            "<groupId>loopback</groupId><artifactId>deployer</artifactId><version>1</version>"
            "<packaging>pom</packaging><build><plugins><plugin><groupId>org.apache.maven.plugins</groupId>"
            f"<artifactId>maven-deploy-plugin</artifactId><version>{DEPLOY_PLUGIN}</version>"
            f"<executions>{''.join(executions)}</executions></plugin></plugins></build></project>\n",
            encoding="utf-8",
        )
        (work / "settings.xml").write_text(_SETTINGS, encoding="utf-8")
        run = subprocess.run(
            ["mvn", "-B", "-q", "-s", str(work / "settings.xml"), "-f", str(work / "pom.xml"), "validate"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if run.returncode != 0:
            errors = [line for line in run.stdout.splitlines() if "ERROR" in line][:3]
            raise RuntimeError(f"mvn deploy:deploy-file failed: {' '.join(errors) or run.stderr[-500:]}")


def resolved_by_maven(project: Path, repository: str, work: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """What the real Maven resolves for each module of `project`, from `repository` alone.

    Maven 3 logs each module's resolved dependency graph at debug level when a goal
    first needs it (`compile` here); it is read from that log, before any plugin
    runs. Maven runs with a private local repository in `work` (plugins are linked
    from ~/.m2, which is never written) and a mirror that sends every other
    repository to a closed port on 127.0.0.1. Returns {module: {key: (version, scope)}},
    the key as releaser names pins (`group:artifact[:extension[:classifier]]`).
    """
    local = work / "local"
    if not local.exists():
        _link_local_repository(local)
    settings = work / "settings.xml"
    settings.write_text(
        f"<settings><localRepository>{local}</localRepository><mirrors><mirror><id>nowhere</id>"
        "<mirrorOf>*,!releaser</mirrorOf><url>http://127.0.0.1:9/</url></mirror></mirrors><profiles><profile>"
        "<id>releaser</id><activation><activeByDefault>true</activeByDefault></activation><repositories><repository>"
        f"<id>releaser</id><url>{html.escape(repository)}</url><snapshots><enabled>true</enabled></snapshots>"
        "</repository></repositories></profile></profiles></settings>\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        ["mvn", "-X", "-B", "-fae", "-s", str(settings), "compile"], cwd=project, capture_output=True, text=True, timeout=300
    )
    modules: dict[str, dict[str, tuple[str, str]]] = {}
    current: dict[str, tuple[str, str]] | None = None
    for line in run.stdout.splitlines():
        text = line.removeprefix("[DEBUG] ")
        if line.startswith("[DEBUG] ") and not text.startswith(" ") and text.count(":") == 3 and " " not in text:
            group, artifact, _, _ = text.split(":")
            current = modules.setdefault(f"{group}:{artifact}", {})
        elif current is not None and line.startswith("[DEBUG]    ") and text.strip().count(":") >= 4:
            fields = text.strip().split(" ")[0].split(":")
            group, artifact, extension, *middle, version, scope = fields
            key = ":".join([group, artifact, *([extension, *middle] if extension != "jar" or middle else [])])
            current[key] = (version, scope)
        else:
            current = None if not line.startswith("[DEBUG]    ") else current
    if not modules:
        raise RuntimeError(f"mvn printed no dependency graph: {[line for line in run.stdout.splitlines() if 'ERROR' in line][:2]}")
    return modules


def _link_local_repository(local: Path) -> None:
    """A local repository that sees ~/.m2's plugins through links, so Maven writes only here."""
    m2 = Path.home() / ".m2/repository"
    local.mkdir(parents=True)
    for entry in m2.iterdir():
        if entry.is_dir() and entry.name == "org":
            (local / "org").mkdir()
            for child in entry.iterdir():
                if child.name != "example":
                    (local / "org" / child.name).symlink_to(child)
        else:
            (local / entry.name).symlink_to(entry)
