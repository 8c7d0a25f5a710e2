"""Pinning a Maven dependency graph: every artifact visited is resolved, fetched, verified, read.

`Walk.visit` is what `maven_graph.collect` calls for each conflict winner: the
artifact's version is resolved (a SNAPSHOT, range, LATEST or RELEASE under the
same cut-off as a direct dependency), its file and POM are downloaded and checked
against the repository's checksums (or an earlier pin is kept), and the POM is
read into its effective model. Parents and import-scope BOMs that the models
need are pinned too (scope `parent` / `import`): a `-SNAPSHOT` parent floats as
much as a dependency does. Each is fetched once, however many POMs name it.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from releaser.core.config import CONFIG_NAME
from releaser.core.errors import ConfigError, UpstreamError, UpstreamMissing
from releaser.core.lockfile import Artifact, Pin
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import LockRequest
from releaser.ecosystems.maven.coordinate import MavenCoordinate
from releaser.ecosystems.maven.files import download
from releaser.ecosystems.maven.graph import Map, Node, Visit, checked, settle
from releaser.ecosystems.maven.metadata import BUILD
from releaser.ecosystems.maven.model import Dependency, Model, ModelBuilder
from releaser.ecosystems.maven.pom import Pom, PomError, parse_pom
from releaser.ecosystems.maven.project import project_files
from releaser.ecosystems.maven.resolve import Resolver
from releaser.ecosystems.maven.settings import MavenInputs

MAX_RELOCATIONS = 8


class Walk:
    def __init__(self, resolver: Resolver, request: LockRequest, root: Path | None) -> None:
        self.resolver = resolver
        self.request = request
        self.previous = {p.name: p for p in request.previous}
        self.builder = ModelBuilder(self.fetch, root)
        self.graph_poms: dict[str, Pin] = {}  # parents, BOMs and relocation POMs, by pin name
        self._poms: dict[tuple[str, str, str], Future[Pom]] = {}
        self._lock = threading.Lock()
        self._numbers = itertools.count()

    def again(self, graph_poms: dict[str, Pin]) -> Walk:
        """A fresh walk for another collection: nothing pinned on this one is kept but `graph_poms`."""
        fresh = Walk(self.resolver, self.request, self.builder.root)
        fresh.graph_poms.update(graph_poms)
        fresh._numbers = self._numbers  # downloads on both share one work directory
        return fresh

    # -- a dependency ---------------------------------------------------------

    def visit(self, node: Node) -> tuple[Pin, Model | None]:
        """`node` pinned, with its effective model (to follow its dependencies)."""
        coord = node.coordinate
        vias = (node.via, *node.within)  # a range narrowed by others says whose
        requested = coord.version if vias == (CONFIG_NAME,) else f"{coord.version} via {' and '.join(vias)}"
        for _ in range(MAX_RELOCATIONS):
            try:
                pin, prefix = self._pin(coord, requested)
            except UpstreamMissing as missing:
                # A relocated artifact often has a POM and no file: read the POM to see.
                try:
                    pom_pin, pom = self._pom(coord, f"{requested} (relocated)", "relocation")
                except UpstreamError:
                    raise missing from None
                model = self.builder.build(pom)
                if model.relocation is None:
                    raise missing from None
                self._keep_pom(pom_pin)
                coord = self._relocated(coord, model)
                requested = f"{requested} (relocated from {node.coordinate.group}:{node.coordinate.artifact})"
                continue
            model = self.builder.build(self._read_pom(pin, coord, prefix))
            if model.relocation is not None and self._relocated(coord, model) != coord:
                poms = tuple(a for a in pin.artifacts if a.name.endswith(".pom"))  # its file is not what a build uses
                name = f"{coord.group}:{coord.artifact}:pom@{coord.version}"
                self._keep_pom(replace(pin, name=name, artifacts=poms, scope="relocation"))
                coord = self._relocated(coord, model)
                requested = f"{requested} (relocated from {node.coordinate.group}:{node.coordinate.artifact})"
                continue
            return pin, model
        raise UpstreamError(f"{node.coordinate}: more than {MAX_RELOCATIONS} relocations")

    def _relocated(self, coord: MavenCoordinate, model: Model) -> MavenCoordinate:
        group, artifact, version = model.relocation  # type: ignore[misc]
        return replace(coord, group=group or coord.group, artifact=artifact or coord.artifact, version=version or coord.version)

    def _pin(self, coord: MavenCoordinate, requested: str, name: str | None = None) -> tuple[Pin, str]:
        """The pin, and the work-directory prefix its freshly downloaded files have."""
        prefix = f"{next(self._numbers)}-"
        previous = self.previous.get(name or coord.key)
        pin = self.resolver.pin(coord, previous, self.request.workdir, prefix, requested)
        return (pin if name is None else replace(pin, name=name)), prefix

    def _read_pom(self, pin: Pin, coord: MavenCoordinate, prefix: str) -> Pom:
        """The pin's POM, parsed: the file just downloaded and verified, or (a kept pin) fetched again."""
        pom = next((a for a in pin.artifacts if a.name.endswith(".pom")), None)
        if pom is None:
            raise UpstreamError(f"{coord}: the pin of {pin.name} has no POM; run `releaser lock --upgrade {pin.name}`")
        path = self.request.workdir / f"{prefix}{pom.name}"
        if not path.is_file():
            path = self._fetch_again(coord, pom)
        return parse_pom(path.read_bytes(), pom.url)

    def _fetch_again(self, coord: MavenCoordinate, pom: Artifact) -> Path:
        """A kept pin's POM, downloaded again and checked against its recorded sha256."""
        dest = self.request.workdir / f"{next(self._numbers)}-{pom.name}"
        got = download(self.request.http, self._with_credentials(pom.url), dest, what=str(coord))
        if got is None:
            raise UpstreamMissing(f"{coord}: {pom.url} is missing (HTTP 404)")
        if got.sha256 != pom.sha256:
            raise UpstreamError(
                f"{coord}: {pom.url} now has sha256 {got.sha256}, not the pinned {pom.sha256}; the repository "
                f"changed a published POM (`releaser lock --upgrade {coord.key}` pins it again)"
            )
        return dest

    def _with_credentials(self, url: str) -> str:
        """`url` (as recorded, credentials removed) on the configured repository it came from."""
        for repository in self.resolver.repositories:
            shown = strip_credentials(repository)
            if url.startswith(shown + "/"):
                return repository + url[len(shown) :]
        return url

    # -- parents and BOMs -------------------------------------------------------

    def fetch(self, group: str, artifact: str, version: str, why: str) -> Pom:
        """A parent or BOM, pinned; once per (group, artifact, version), whoever asks first."""
        key = (group, artifact, version)
        with self._lock:
            future = self._poms.get(key)
            owner = future is None
            if future is None:
                future = self._poms[key] = Future()
        if not owner:
            return future.result()
        try:
            coord = MavenCoordinate.parse(f"{group}:{artifact}:pom:{version}")
        except ValueError as exc:
            error = PomError(f"{group}:{artifact}:{version}: {exc}")
            future.set_exception(error)
            raise error from None
        try:
            pin, pom = self._pom(coord, version, why)
        except BaseException as exc:
            future.set_exception(exc)
            raise
        self._keep_pom(pin)
        future.set_result(pom)
        return pom

    def _keep_pom(self, pin: Pin) -> None:
        with self._lock:
            self.graph_poms.setdefault(pin.name, pin)

    def _pom(self, coord: MavenCoordinate, requested: str, why: str) -> tuple[Pin, Pom]:
        pom_coord = replace(coord, extension="pom", classifier="")
        name = f"{coord.group}:{coord.artifact}:pom@{coord.version}"
        pin, prefix = self._pin(pom_coord, requested, name)
        return replace(pin, scope=why), self._read_pom(pin, pom_coord, prefix)


def pin_graph(walk: Walk, coordinates: list[MavenCoordinate], inputs: tuple[MavenInputs, ...], map_: Map[Any, Any]) -> list[Pin]:
    """Every artifact the inputs use, transitively, pinned; with the parents and BOMs that shaped the graph.

    The roots are release.toml's coordinates (in its order), then each project's
    dependencies, its modules' after its own; the first declaration of an artifact
    among them wins, as does the project's dependencyManagement below them.
    """
    direct = [Node(c, "compile", CONFIG_NAME, 1) for c in coordinates]
    managed: dict[tuple[str, str, str, str], Dependency] = {}
    modules: set[str] = set()
    wanted = {"compile"}
    root = walk.builder.root or Path(".")
    for block in inputs:
        if block.pom is None:
            continue
        wanted.update(block.scopes)
        files = project_files(block.pom, root)
        models = [walk.builder.local(path) for path, _ in files]
        modules.update(m.name for m in models)
        for model in models:
            for key, rule in model.managed.items():
                managed.setdefault(key, rule)
            for dep in model.dependencies:
                if dep.scope in block.scopes and f"{dep.coordinate.group}:{dep.coordinate.artifact}" not in modules:
                    direct.append(Node(checked(dep.coordinate, model.where, ConfigError), dep.scope, model.name, 1, dep.exclusions))
    direct = [n for n in direct if f"{n.coordinate.group}:{n.coordinate.artifact}" not in modules]
    project_poms = dict(walk.graph_poms)  # the project's own parents and BOMs, whatever the graph holds
    walks: list[Walk] = []

    def fresh() -> Visit:  # each collection pins afresh: what an earlier one pinned may be out of the graph
        walks.append(walks[-1].again(project_poms) if walks else walk)
        return walks[-1].visit

    chosen = settle(direct, fresh, map_, managed, frozenset(modules), version_of=_version)
    visited = [(cast(Pin, c.visited), c.scope) for c in chosen if c.scope in wanted]
    pins = {pin.name: replace(pin, scope=scope) for pin, scope in visited}
    for name, pin in sorted(walks[-1].graph_poms.items()):
        pins.setdefault(name, pin)
    return list(pins.values())


def _version(visited: object) -> str:
    """A pin's version as Maven compares it with a range: a SNAPSHOT build as its -SNAPSHOT version."""
    version: str = visited.version  # type: ignore[attr-defined]
    return f"{match['base']}-SNAPSHOT" if (match := BUILD.match(version)) else version
