"""`releaser check --online` for Python pins: ask each pin's index whether it still holds.

One project page per pin (fetched concurrently on the shared `Http` pool), then:

- every locked file must still be listed (`gone` if not), with the locked sha256
  (`hash-changed` if the index now gives another; when it gives none, the file is
  downloaded and hashed);
- a version with a yanked file (PEP 592) is `yanked`;
- a newer final release on the index that installs on the lock's targets is `newer`:
  information, not a failure (`releaser.ecosystems.python.newer`);
- the build pins of a pin built from its sdist are checked the same way (gone,
  hash-changed, yanked), said of the pin they build.
"""

from __future__ import annotations

from releaser.core.errors import UpstreamMissing
from releaser.core.lockfile import Pin
from releaser.core.redact import strip_credentials
from releaser.core.verdict import Finding, upgrade
from releaser.ecosystems.python.index import PackageIndexReader
from releaser.ecosystems.python.newer import newer
from releaser.plumbing.http import Http


def verify(pins: tuple[Pin, ...], http: Http, index_urls: tuple[str, ...], targets: tuple[str, ...] = ()) -> list[Finding]:
    """Pins from an index are checked against it; direct references (`pkg @ URL`), which no
    index lists, are checked as any pin is: their archive's bytes, their git commit.
    `targets`: the lock's (`Lock.targets`); a newer release is news only where it installs."""
    from releaser.ecosystems.upstream import verify_generic
    from releaser.plumbing.credentials import as_configured, userinfo_of

    reader = PackageIndexReader(http, index_urls)
    configured = as_configured(index_urls)  # the lock records URLs without credentials
    listed = tuple(p for p in pins if p.source in configured and p.commit is None)
    direct = tuple(p for p in pins if p not in listed)

    def one(pin: Pin) -> list[Finding]:
        return _verify_pin(pin, reader, http, configured[pin.source], targets)

    def built_with(item: tuple[Pin, Pin]) -> list[Finding]:
        """A build pin's files as any pin's, said of the pin built with it; a newer one is no news."""
        pin, b = item
        subject = f"python {pin.name} {pin.version} build requirement {b.name} {b.version}"
        found = _verify_pin(b, reader, http, configured[b.source], targets) if b.source in configured else []
        return [Finding(f.code, subject, f.message, upgrade(pin.name)) for f in found if f.code != "newer"]

    builds = [(pin, b) for pin in pins for b in pin.build]
    found = [finding for result in http.map(one, listed) + http.map(built_with, builds) for finding in result]
    return found + verify_generic(direct, http, userinfo=userinfo_of(index_urls))


def _verify_pin(pin: Pin, reader: PackageIndexReader, http: Http, index: str, targets: tuple[str, ...]) -> list[Finding]:
    subject = f"python {pin.name} {pin.version}"
    where = strip_credentials(index)
    fix = upgrade(pin.name)
    files = reader.project_files(index, pin.name)
    if files is None:
        return [Finding("gone", subject, f"{where} no longer lists {pin.name} at all", fix)]
    listed = {f.filename: f for f in files}
    found: list[Finding] = []
    yanked = []
    for artifact in sorted(pin.artifacts, key=lambda a: a.name):
        f = listed.get(artifact.name)
        if f is None:
            found.append(Finding("gone", subject, f"{artifact.name} is no longer on {where}", fix))
            continue
        sha256, size = f.sha256, f.size
        if sha256 is None:  # the index does not say: hash the bytes it serves
            try:
                sha256, size = http.download(f.url, None, what=f"{subject} file {f.filename}")
            except UpstreamMissing:
                found.append(Finding("gone", subject, f"{artifact.name} is listed by {where} but not served", fix))
                continue
        if size is not None and size != artifact.size and sha256 == artifact.sha256:
            message = (
                f"{artifact.name}: {where} now gives its size as {size} bytes, the lock has {artifact.size}; "
                "`reproduce` would refuse the file, find out why before relocking"
            )
            found.append(Finding("hash-changed", subject, message, fix))
        if sha256 != artifact.sha256:
            message = (
                f"{artifact.name}: {where} now gives sha256 {sha256[:12]}..., the lock has {artifact.sha256[:12]}...; "
                "find out why before relocking"
            )
            found.append(Finding("hash-changed", subject, message, fix))
        if f.yanked:
            yanked.append(f.filename)
    if yanked:
        found.append(Finding("yanked", subject, f"{pin.name} {pin.version} was yanked on {where} ({', '.join(yanked)})", fix))
    news = newer(pin, files, where, targets)
    return found + ([news] if news is not None else [])
