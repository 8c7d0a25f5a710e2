"""An sdist's build backend asked what it needs, with everything it says held back.

Backends talk: setuptools prints its progress, warns of deprecations (Python warnings,
which pyproject_hooks re-raises in the caller) and `warning:` lines; a project's own
setup.py may print anything, credentials taken from the environment included. None of
that reaches the user's terminal raw. The output is kept; when the backend fails, the
error shows its end, scrubbed (`output_tail`); when it succeeds, its warnings come
back as one line for `releaser lock` to show (`Backend.summary`).
"""

from __future__ import annotations

import re
import subprocess
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from build import BuildBackendException, BuildException, ProjectBuilder

from releaser.core.errors import UpstreamError
from releaser.core.redact import output_tail, scrub
from releaser.plumbing.piprun import isolated_env

HOOK_TIMEOUT = 30 * 60
TAIL = 20  # lines of the backend's output shown when it fails
_WARNING_LINE = re.compile(r"\s*warning\b", re.IGNORECASE)  # distutils' `warning: ...`, pip-style `WARNING: ...`


class Backend:
    """pypa/build's ProjectBuilder for one unpacked sdist, run by `python`, its output and warnings held.

    `what` names the build in errors and in the summary (`python NAME VERSION: building FILE`).
    """

    def __init__(self, source: Path, python: Path, what: str) -> None:
        self.what = what
        self.output: list[str] = []
        self.warnings: list[str] = []
        with self._held("reading its pyproject.toml"):  # a typo in it is a warning too
            self._builder = ProjectBuilder(source, python_executable=str(python), runner=self._run)

    def build_system_requires(self) -> list[str]:
        """`[build-system] requires` (PEP 518; setuptools when it names none)."""
        return sorted(self._builder.build_system_requires)

    def requires_for_wheel(self) -> list[str]:
        """What the backend adds to build a wheel (PEP 517 `get_requires_for_build_wheel`)."""
        with self._held("get_requires_for_build_wheel"):
            return sorted(self._builder.get_requires_for_build("wheel"))

    def summary(self) -> str | None:
        """One line on the warnings the backend gave, or None when it gave none."""
        if not self.warnings:
            return None
        count = len(self.warnings)
        times = "once" if count == 1 else f"{count} times"
        return f"{self.what}: its build backend warned {times}; the first: {self.warnings[0]}"

    def _run(self, cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None) -> None:
        """The runner pyproject_hooks calls for each hook: stdout and stderr kept, together, in order."""
        try:
            done = subprocess.run(
                list(cmd), cwd=cwd, env={**isolated_env(), **(extra_environ or {})}, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", timeout=HOOK_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise UpstreamError(f"{self.what}: its build backend did not answer within {HOOK_TIMEOUT // 60} minutes") from None
        self.output.append(done.stdout)
        self.warnings += [_first_words(line) for line in done.stdout.splitlines() if _WARNING_LINE.match(line)]
        done.check_returncode()

    @contextmanager
    def _held(self, step: str) -> Iterator[None]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield
            except (BuildException, BuildBackendException) as exc:
                raise UpstreamError(
                    f"{self.what}: its build backend failed ({step}: {_first_words(str(exc))}). "
                    f"The end of its output:\n{output_tail(''.join(self.output), TAIL)}"
                ) from None
            finally:
                self.warnings += [_first_words(str(w.message)) for w in caught]


def _first_words(text: str, limit: int = 160) -> str:
    """The first line of `text` that says something (setuptools frames its warnings in `*` and `!`), scrubbed, cut at `limit`."""
    line = next((line.strip() for line in text.splitlines() if re.search(r"[A-Za-z]", line)), text.strip())
    line = scrub(line)
    return line if len(line) <= limit else line[: limit - 1] + "…"

