"""The pip-tools resolver: `pip-compile` for the interpreter that runs releaser.

pip-compile runs as a subprocess of this interpreter, isolated from the machine's
pip configuration (releaser.plumbing.piprun): no pip.conf, no `PIP_*` variable, no
`.pip-tools.toml`, only the indexes release.toml names. It resolves for this
interpreter only, so it takes no target.
"""

from __future__ import annotations

import shlex
from datetime import UTC

from releaser.ecosystems.python.resolve import Job, Resolver, fail, prepare, read_pins, upgrade_options
from releaser.plumbing.credentials import private_netrc
from releaser.plumbing.piprun import cache_dir, index_options, out_of_memory, over_ceiling, resolve_deadline, resolver_memory, run_pip


def describe() -> str:
    from importlib import metadata  # not at the top: `releaser check` never needs it (~30 ms)

    return f"pip-tools {metadata.version('pip-tools')} (pip {metadata.version('pip')})"


def resolve(job: Job) -> tuple[dict[str, str], dict[str, str]]:
    # Credentials reach pip through a private netrc, never its command line.
    indexes, credentials = private_netrc(job.index_urls)
    args = ["compile", *_options(job, indexes), "-c", str(job.constraints), "-o", str(job.output), str(job.requirements)]
    prepare(job)
    memory = resolver_memory()
    done = run_pip(
        args, timeout=resolve_deadline(), timed_out="pip-compile did not finish", module="piptools", cwd=job.root,
        env=credentials, memory=memory,
    )
    if done.returncode != 0 and out_of_memory(done.stderr):
        raise over_ceiling("pip-compile", job.index_urls, memory)
    if done.returncode != 0:
        fail("pip-compile", done.stderr, job)
    return read_pins(job.output, "pip-compile")


def _options(job: Job, indexes: tuple[str, ...]) -> list[str]:
    request = job.request
    options = [
        "--no-config", "--no-header", "--no-annotate", "--no-emit-index-url", "--no-emit-trusted-host",
        "--no-emit-find-links", "--no-emit-options", "--allow-unsafe", "--strip-extras",
        # pip-tools' dependency cache is keyed by name and version only, not by
        # index: a private one per lock keeps one index's metadata out of another's.
        "--cache-dir", str(job.work / "pip-tools-cache"),
        "--pip-args", shlex.join(["--cache-dir", str(cache_dir()), "--timeout", "30", "--retries", "3"]),
        *index_options(indexes),
    ]
    if request.dated:
        options += ["--uploaded-prior-to", request.as_of.astimezone(UTC).isoformat()]
    return options + upgrade_options(request)


class PipTools(Resolver):
    name = "pip-tools"

    def describe(self) -> str:
        return describe()

    def resolve(self, job: Job) -> tuple[dict[str, str], dict[str, str]]:
        return resolve(job)


RESOLVER = PipTools()
