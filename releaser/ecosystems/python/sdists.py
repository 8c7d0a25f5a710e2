"""A pinned sdist built from its pinned build requirements, for `cut` and `reproduce` alike.

A Python pin with no wheel for this interpreter is built from its sdist. The lock
records what that build needs (`Pin.build`, pinned by `releaser.ecosystems.python.build`);
here those files, fetched and sha256-verified like every other
(`releaser.plumbing.fetch`, under `python/build/`), are installed with
`--require-hashes --no-index` into a private build venv, and pip builds the wheel
there with `--no-build-isolation --no-index`: nothing but the pins takes part,
and nothing is downloaded. The wheel is then installed in place of the sdist,
checked against the sha256 taken right after it was built.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from releaser.core.errors import Refused, UpstreamError
from releaser.core.lockfile import Lock, Pin
from releaser.core.redact import output_tail
from releaser.ecosystems.python.files import build_rel, choose_python_file, for_here
from releaser.plumbing.fetch import PinnedFile
from releaser.plumbing.fsutil import sha256_of
from releaser.plumbing.piprun import build_output, pip_errors, run_pip
from releaser.plumbing.venvs import create_venv, install_hashed, venv_python

BUILD_TIMEOUT = 30 * 60
TAIL = 20  # lines of the build's output shown when it fails
OFFLINE = ("--no-index", "--no-cache-dir", "--quiet")  # pip installing verified local files, and only them


def built_here(lock: Lock) -> list[Pin]:
    """The Python pins this interpreter installs from their sdist, with the build pins made for it."""
    here = for_here(lock).of_kind("python")
    return [p for p in here if p.artifacts and not choose_python_file(p).name.endswith(".whl")]


def unpinned_builds(lock: Lock) -> list[str]:
    """`name version` of each pin built here whose lock pins nothing to build it with (an older lock)."""
    return [f"{p.name} {p.version}" for p in built_here(lock) if not p.build]


def build_files(lock: Lock) -> list[PinnedFile]:
    """The file of each build pin, for this interpreter, at python/build/<file>."""
    found = {}
    for pin in built_here(lock):
        for b in pin.build:
            art = choose_python_file(b)
            rel = build_rel(art.name, pin)
            found[rel] = PinnedFile(b, art, rel, f"python {pin.name} {pin.version}: build requirement {art.name}")
    return list(found.values())


def build_wheel(pin: Pin, sdist: Path, files: dict[PurePosixPath, Path], work: Path) -> tuple[Path, str]:
    """Build `pin`'s wheel from `sdist` with exactly its build pins (`files`: rel -> verified file); (wheel, sha256)."""
    what = f"python {pin.name} {pin.version}"
    lines = []
    for b in pin.build:
        art = choose_python_file(b)
        lines.append(f"{files[build_rel(art.name, pin)]} --hash=sha256:{art.sha256}")
    venv = create_venv(work / f"build-{pin.name}", what=f"the build environment of {pin.name}")
    done = install_hashed(venv, lines, work / f"build-{pin.name}.txt", options=OFFLINE, timeout=BUILD_TIMEOUT, once=True)
    if done.returncode != 0:
        raise UpstreamError(f"{what}: installing its build requirements failed: {' / '.join(pip_errors(done.stderr)[:2])}")
    out = work / f"wheel-{pin.name}"
    args = [
        "--python", str(venv_python(venv)), "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--no-cache-dir", "--quiet", "--wheel-dir", str(out), str(sdist),
    ]
    done = run_pip(args, timeout=BUILD_TIMEOUT, timed_out=f"building {what} from its sdist did not finish")
    wheels = sorted(out.glob("*.whl")) if done.returncode == 0 else []
    if len(wheels) != 1:
        said = done.stdout + done.stderr
        # pip holds the backend's output back unless the build fails; then its end says why.
        raise UpstreamError(
            f"{what}: building its sdist with the pinned build requirements failed. "
            f"The end of its output:\n{output_tail(build_output(said) or said, TAIL)}"
        )
    return wheels[0], sha256_of(wheels[0])[0]


def install_lines(chosen: list[tuple[PinnedFile, Path]], build: dict[PurePosixPath, Path], work: Path) -> list[str]:
    """`FILE --hash=sha256:…` of each verified file chosen for a venv, by pin name; a pin's sdist
    with build pins is built first (`build`: rel -> verified file) and its wheel named instead."""
    lines = []
    for item, path in sorted(chosen, key=lambda c: c[0].pin.name):
        if item.pin.build and not item.artifact.name.endswith(".whl"):
            wheel, sha256 = build_wheel(item.pin, path.resolve(), build, work)
            lines.append(f"{wheel} --hash=sha256:{sha256}")
        else:
            lines.append(f"{path.resolve()} --hash=sha256:{item.artifact.sha256}")
    return lines


def refuse_unpinned(lock: Lock, name: str) -> None:
    """Refuse (exit 1) when a pin built here has no build pins for here: its build would float."""
    from releaser.core.targets import here, parse

    missing = unpinned_builds(lock)
    if not missing:
        return
    names = " ".join(m.split()[0] for m in missing)
    start = f"{', '.join(missing)}: no wheel for this interpreter, and {name} pins nothing to build the sdist with here"
    if lock.target and not lock.environments and not parse(lock.target).covers(here()):
        raise Refused(
            f"{start}: it was locked on {lock.target}, where a wheel fits; its build would float. "
            f"Lock on this interpreter, or name both in [python] environments (resolver = \"uv\")"
        )
    raise Refused(f"{start} (written by an older releaser); its build would float. Run `releaser lock --upgrade {names}` to pin its build requirements")
