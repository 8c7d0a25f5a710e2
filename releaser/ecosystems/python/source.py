"""The Python source: a resolver picks the versions, the index gives every file of each.

The resolver (`[python] resolver`: pip-tools or uv, releaser.ecosystems.python.resolve) runs
as a subprocess isolated from the machine's pip and uv configuration, and sees only
the indexes release.toml names. Earlier pins are seeded into its output file, which
is how both keep them unless asked to upgrade. With `[python] environments`, it runs
once per target and the results are merged, each pin with the marker of the targets
that need it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from releaser.core.errors import ConfigError
from releaser.core.lockfile import InputRecord, Pin
from releaser.core.progress import Counter
from releaser.core.redact import strip_credentials
from releaser.ecosystems.base import LockRequest, Source
from releaser.ecosystems.python.requirements import (
    RequirementInput,
    input_files,
    input_paths,
    read_inputs,
    shown,
)
from releaser.ecosystems.python.settings import PythonInputs

if TYPE_CHECKING:

    from releaser.core.targets import Target
    from releaser.core.verdict import Finding
    from releaser.ecosystems.python.direct import DirectReferences
    from releaser.ecosystems.python.index import PackageIndexReader
    from releaser.ecosystems.python.resolve import Hints
    from releaser.plumbing.http import Http


class PythonSource(Source):
    kind = "python"

    def __init__(self, root: Path, inputs: PythonInputs) -> None:
        self.root = root
        self.inputs = inputs
        self._parsed: list[RequirementInput] | None = None

    @property
    def parsed(self) -> list[RequirementInput]:
        if self._parsed is None:
            self._parsed = read_inputs(self.root, self.inputs)
        return self._parsed

    def input_digests(self) -> dict[str, str]:
        return {i.name: i.digest for i in self.parsed}

    def input_records(self) -> dict[str, InputRecord]:
        files = input_files(self.root, self.inputs)
        return {i.name: InputRecord(i.digest, i.entries, files.get(i.name)) for i in self.parsed}

    def input_paths(self) -> list[Path]:
        return input_paths(self.root, self.inputs)

    def unchanged_records(self, known: Mapping[str, InputRecord]) -> dict[str, InputRecord] | None:
        """The records in `known` (a lock's), when every input's bytes are still the ones
        recorded; None when any changed (then `input_records` parses them)."""
        files = input_files(self.root, self.inputs)
        found = {name: known.get(name) for name in files}
        if all(record is not None and record.files == files[name] for name, record in found.items()):
            return found  # type: ignore[return-value]
        return None

    def verify(self, pins: tuple[Pin, ...], http: Http, targets: tuple[str, ...] = ()) -> list[Finding]:
        """Each pinned file still on its index with the same sha256, not yanked; newer versions as info."""
        from releaser.ecosystems.python.verify import verify

        return verify(pins, http, self.inputs.index_urls, targets)

    def resolver(self) -> str:
        from releaser.ecosystems.python.resolve import resolver

        return resolver(self.inputs.resolver).describe()

    def source_urls(self) -> tuple[str, ...]:
        return tuple(strip_credentials(u) for u in self.inputs.index_urls)

    def lock(self, request: LockRequest) -> list[Pin]:
        from dataclasses import replace

        from releaser.ecosystems.python.direct import DirectReferences
        from releaser.ecosystems.python.index import PackageIndexReader

        # `pkg @ git+...@branch` and `pkg @ https://...` pinned first (commit id, sha256).
        direct = DirectReferences([r for i in self.parsed for r in i.requirements], self.inputs, request)
        reader = PackageIndexReader(request.http, self.inputs.index_urls)
        requested = self._requested()
        # While the resolver runs, read the pages of the projects it will surely pin, and of
        # each project it adds, as it adds it (uv says so as it goes).
        early = _Prefetch(reader, self.inputs.index_urls[0], sorted({*requested, *(p.name for p in request.previous)}))
        try:
            chosen, direct_urls, direct_markers = self._resolve(request, direct, early)
        finally:
            early.close()  # a failure does not wait for it
        early.join()
        counter = Counter(request.progress, "index", "python: files of each pin read from the index", len(chosen))

        def pin(item: tuple[str, str, str | None]) -> Pin:
            name, version, marker = item
            found = reader.version_files(name, version, cutoff=request.as_of, dated=request.dated)
            counter.tick()
            if found.yanked:  # pip takes a yanked release only when pinned `==` to it: say so
                request.warnings.append(
                    f"python {name} {version} is yanked on {strip_credentials(found.index)} ({', '.join(found.yanked)})"
                )
            return Pin(
                kind=self.kind,
                name=name,
                version=version,
                source=strip_credentials(found.index),
                requested=requested.get(name),
                date=found.date,
                artifacts=found.artifacts,
                marker=marker,
            )

        from releaser.ecosystems.python.build import BuildPins

        pinned = [replace(p, marker=direct_markers.get(p.name)) for p in direct.pins(direct_urls, request.workdir)]
        pins = request.http.map(pin, sorted(chosen, key=lambda c: (c[0], c[1]))) + pinned
        compile_build = partial(self._compile_build, request=request)
        return BuildPins(request, reader, compile_build, self.inputs.environments).add(pins)

    def _requested(self) -> dict[str, str]:
        """Canonical name -> what the inputs ask for, for direct requirements."""
        from packaging.utils import canonicalize_name

        asked: dict[str, set[str]] = {}
        for item in self.parsed:
            for req in item.requirements:
                asked.setdefault(canonicalize_name(req.name), set()).add(str(req))
        return {name: " and ".join(sorted(specs)) for name, specs in asked.items()}

    # -- the resolver -----------------------------------------------------

    def _resolve(
        self, request: LockRequest, direct: DirectReferences, hints: Hints | None = None
    ) -> tuple[list[tuple[str, str, str | None]], dict[str, str], dict[str, str | None]]:
        """Resolve for each target: ((name, version, marker) of each pin, name -> URL, name -> marker).

        Without `environments`, one resolution for this interpreter, and no markers.
        With them, one per target, merged: a pin needed on some targets only carries
        the marker that names them (releaser.core.targets).
        """
        from releaser.core.targets import needed_under, parse
        from releaser.ecosystems.python.resolve import Job, resolver
        from releaser.plumbing.http import concurrently

        resolve = resolver(self.inputs.resolver).resolve
        work = request.workdir
        requirements, constraints = work / "requirements.in", work / "constraints.txt"
        for req in (r for i in self.parsed for r in i.constraints):
            if req.url:
                raise ConfigError(
                    f"{shown(req)}: a direct reference cannot be a constraint; put it in a requirements file"
                )
        requirements.write_text("".join(direct.line(r) + "\n" for i in self.parsed for r in i.requirements), encoding="utf-8")
        constraints.write_text("\n".join(str(r) for i in self.parsed for r in i.constraints) + "\n", encoding="utf-8")
        targets: list[Target | None] = [parse(e) for e in self.inputs.environments] or [None]
        jobs = [
            Job(
                root=self.root,
                work=work / f"target-{n}",
                requirements=requirements,
                constraints=constraints,
                seeds=self._seeds(request, direct, target),
                index_urls=self.inputs.index_urls,
                request=request,
                target=target,
                requested=frozenset(self._requested()),
                hints=hints,
            )
            for n, target in enumerate(targets)
        ]
        for job in jobs:
            job.work.mkdir()
        where: dict[tuple[str, str], list[Target | None]] = {}
        urls: dict[str, str] = {}
        url_where: dict[str, list[Target | None]] = {}
        # One resolver per target, side by side: each mostly waits on the index.
        for target, (versions, found_urls) in zip(targets, concurrently(resolve, jobs, workers=len(jobs))):
            for name, version in versions.items():
                where.setdefault((name, version), []).append(target)
            for name, url in found_urls.items():
                urls.setdefault(name, url)
                url_where.setdefault(name, []).append(target)
        if targets == [None]:
            return [(name, version, None) for name, version in where], urls, {}
        def under(found: list[Target | None]) -> str | None:  # past [None]: every entry is a target
            return needed_under([t for t in found if t is not None], [t for t in targets if t is not None])

        chosen = [(name, version, under(found)) for (name, version), found in where.items()]
        return chosen, urls, {name: under(found) for name, found in url_where.items()}

    def _compile_build(
        self, requirements: list[str], work: Path, target: Target | None, *, request: LockRequest
    ) -> dict[str, str]:
        """An sdist's build requirements, resolved by the lock's resolver for `target` (None: this
        interpreter), as isolated and dated as the lock's own."""
        from releaser.core.errors import UpstreamError
        from releaser.ecosystems.python.resolve import Job, resolver

        resolve = resolver(self.inputs.resolver).resolve
        work.mkdir(parents=True, exist_ok=True)
        source, constraints = work / "build.in", work / "build-constraints.txt"
        source.write_text("".join(r + "\n" for r in requirements), encoding="utf-8")
        constraints.write_text("", encoding="utf-8")
        job = Job(work, work, source, constraints, (), self.inputs.index_urls, request, target)
        pins, direct = resolve(job)
        if direct:
            raise UpstreamError(f"a build requirement is a direct reference ({', '.join(sorted(direct))}); releaser pins only index ones")
        return pins

    def _seeds(self, request: LockRequest, direct: DirectReferences, target: Target | None) -> tuple[str, ...]:
        """The earlier pins the resolver should keep (for `target`): none with --upgrade."""
        from releaser.core.targets import marker_targets

        if request.upgrade_all:
            return ()
        # Direct references are pinned by their URL, not seeded as `name==version`.
        seeds = [p for p in request.previous if p.name not in direct.names and " @ " not in (p.requested or "")]
        if target is not None:
            here = target.marker
            seeds = [p for p in seeds if here in marker_targets(p.marker, self.inputs.environments)]
        return tuple(f"{p.name}=={p.version}" for p in seeds)


class _Prefetch:
    """Fetch project pages from `index_url` into `reader`'s cache, in the background: the
    `names` known at once, and each one `add`ed later, until `close`. The resolver's `Hints`.

    The threads start when the resolver does (`started`), not before: the first page read
    imports the HTTP stack, which would otherwise hold the interpreter while the resolver
    is still being started. Only a head start: a page that fails here is fetched again,
    and its error told, when needed. Daemon threads, not the HTTP pool's: a lock that
    fails while a page still drips in exits without waiting for it.
    """

    def __init__(self, reader: PackageIndexReader, index_url: str, names: list[str]) -> None:
        self._reader, self._index_url = reader, index_url
        self._names, self._seen, self._open = list(names), set(names), True
        self._ready = threading.Condition()
        self._threads: list[threading.Thread] = []

    def started(self) -> None:
        # As many readers as the HTTP pool keeps connections: on a distant index a page costs
        # its round trip, not CPU; uv keeps up to 50 requests in flight, and 8 readers left
        # 300 pages at 20 ms each still being read 0.5 s after uv had finished (bench/findings.md,
        # section 2). Imported here, not above: `check` imports this module, never the HTTP layer.
        from releaser.plumbing.http import CONNECTIONS

        with self._ready:
            if not self._threads:
                self._threads = [threading.Thread(target=self._work, daemon=True) for _ in range(CONNECTIONS)]
                for thread in self._threads:
                    thread.start()

    def add(self, name: str) -> None:
        """One more page to read, unless it is read already: a name the resolver has just added."""
        with self._ready:
            if self._open and name not in self._seen:
                self._seen.add(name)
                self._names.append(name)
                self._ready.notify()

    def close(self) -> None:
        """No more names: the workers stop once the queue is empty."""
        with self._ready:
            self._open = False
            self._ready.notify_all()

    def _work(self) -> None:
        while True:
            with self._ready:
                while self._open and not self._names:
                    self._ready.wait()
                if not self._names:
                    return
                name = self._names.pop()
            try:
                self._reader.fetch(self._index_url, name)
            except Exception:
                pass

    def join(self) -> None:
        for thread in self._threads:
            thread.join()
