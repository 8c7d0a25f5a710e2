"""`releaser export --format maven`: a BOM that pins every Maven artifact of the lock.

A POM with `<packaging>pom</packaging>` whose `<dependencyManagement>` names every
Maven pin, transitive ones included, at its exact version: a SNAPSHOT as its
timestamped build (`1.0-20071115.230503-12`), which Maven fetches as that build.
Imported into a project (`<scope>import</scope>`, see docs/maven.md), its entries
manage every version in the build, direct and transitive, so `mvn` builds on the pins.
Parents, imported BOMs and relocation POMs shape the graph but are not
dependencies: they are left out (a BOM cannot pin a parent).
"""

from __future__ import annotations

from releaser import __version__
from releaser.core.lockfile import Lock
from releaser.ecosystems.base import Export

KIND = "maven"
GROUP, ARTIFACT = "releaser.pins", "pins"
GRAPH_ONLY = ("parent", "import", "relocation")


class PomExport(Export):
    name = "maven"
    default_output = "maven-pins.pom"

    def render(self, lock: Lock) -> str:
        return to_maven(lock)


def bom_version(lock: Lock) -> str:
    """The BOM's own version: the lock's cut-off, so a new lock is a new BOM."""
    return lock.as_of.strftime("%Y%m%d.%H%M%S")


def to_maven(lock: Lock) -> str:
    from xml.sax.saxutils import escape  # here: it imports urllib.request, a twentieth of a second every command would pay

    entries = []
    for pin in sorted(lock.of_kind(KIND), key=lambda p: p.name):
        if pin.scope in GRAPH_ONLY or "@" in pin.name:
            continue
        group, artifact, *rest = pin.name.split(":")
        extension = rest[0] if rest else "jar"
        classifier = rest[1] if len(rest) > 1 else ""
        lines = [
            "      <dependency>",
            f"        <groupId>{escape(group)}</groupId>",
            f"        <artifactId>{escape(artifact)}</artifactId>",
            f"        <version>{escape(pin.version)}</version>",
        ]
        if extension != "jar":
            lines.append(f"        <type>{escape(extension)}</type>")
        if classifier:
            lines.append(f"        <classifier>{escape(classifier)}</classifier>")
        lines.append("      </dependency>")
        entries += lines
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- Exported by releaser {escape(__version__)} from release.lock (cut-off {lock.as_of.isoformat()}).",
            "     Import it with scope import (docs/maven.md). Do not edit it: export it again. -->",
            '<project xmlns="http://maven.apache.org/POM/4.0.0">',
            "  <modelVersion>4.0.0</modelVersion>",
            f"  <groupId>{GROUP}</groupId>",
            f"  <artifactId>{ARTIFACT}</artifactId>",
            f"  <version>{bom_version(lock)}</version>",
            "  <packaging>pom</packaging>",
            "  <dependencyManagement>",
            "    <dependencies>",
            *entries,
            "    </dependencies>",
            "  </dependencyManagement>",
            "</project>",
            "",
        ]
    )
