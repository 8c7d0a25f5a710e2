"""Whole-process measurements, taken side by side.

Every figure is one command run as a child process, measured by the kernel's own
accounting: `os.wait4` gives the child's CPU time (user + system, its own and that
of every descendant it waited for, e.g. the pip-compile that `releaser lock` runs)
and its peak resident set size (`ru_maxrss`: the largest single process of the
tree, not their sum). Wall time is taken around spawn and reap. The CPU time this
process spent meanwhile is the loopback servers' it runs on its threads (the index a
command reads): on these cores too, so part of what a command waits for.

Two commands are compared in pairs: after a warm-up, A and B run back to back,
the order flipping from one pair to the next (A B, B A, A B, ...), so a load spike
on a shared machine hits both sides of a pair, and the ratio is taken pair by pair.
Three commands rotate the same way (A B C, B C A, C A B, ...).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


class BenchError(RuntimeError):
    """A measured command did not do what it should: its figures would mean nothing."""


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds, user + system, the whole process tree
    rss_kib: int  # peak resident set size of the largest process of the tree
    servers_cpu: float = 0.0  # seconds, user + system, of this process (its loopback servers) while the command ran


def run(command: Sequence[str], *, cwd: Path, env: dict[str, str], expect: int = 0) -> Sample:
    """Run `command` to completion and measure it; BenchError (with its output) if it exits otherwise."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started, before = time.perf_counter(), _own_cpu()
        child = subprocess.Popen(list(command), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall, servers = time.perf_counter() - started, _own_cpu() - before
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if child.returncode != expect:
            out.seek(0)
            err.seek(0)
            shown = " ".join(str(c) for c in command[:6])
            raise BenchError(
                f"{shown} ... exited {child.returncode}, not {expect}:\n"
                f"{out.read().decode(errors='replace')[-4000:]}\n{err.read().decode(errors='replace')[-4000:]}"
            )
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, servers)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Spread:
    """Median and range of one figure over the counted runs."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


def seconds(spread: Spread) -> str:
    """A time as the tables show it: the median, then (min–max)."""
    return f"{spread.median:.3f} ({spread.low:.3f}–{spread.high:.3f})"


def times(spread: Spread) -> str:
    """A ratio as the tables show it: the median, then (min–max)."""
    return f"{spread.median:.2f}× ({spread.low:.2f}–{spread.high:.2f})"


@dataclass(frozen=True)
class Series:
    samples: tuple[Sample, ...]

    @property
    def wall(self) -> Spread:
        return Spread(tuple(s.wall for s in self.samples))

    @property
    def cpu(self) -> Spread:
        return Spread(tuple(s.cpu for s in self.samples))

    @property
    def servers_cpu(self) -> Spread:
        return Spread(tuple(s.servers_cpu for s in self.samples))

    @property
    def rss_mib(self) -> Spread:
        return Spread(tuple(s.rss_kib / 1024 for s in self.samples))


@dataclass(frozen=True)
class Pairs:
    """A and B measured pair by pair; `ratio` is B's wall time over A's, per pair."""

    a: Series
    b: Series
    load: tuple[float, float, float]  # the 1, 5 and 15 minute load averages when the pairs began

    @property
    def ratio(self) -> Spread:
        return Spread(tuple(b.wall / a.wall for a, b in zip(self.a.samples, self.b.samples)))

    @property
    def inverse(self) -> Spread:
        """A's wall time over B's, per pair."""
        return Spread(tuple(a.wall / b.wall for a, b in zip(self.a.samples, self.b.samples)))


def paired(
    a: Callable[[], Sample], b: Callable[[], Sample], *, runs: int, warm_up: bool = True, warm_up_b: bool = True
) -> Pairs:
    """`runs` pairs of A and B, alternating which goes first, after one uncounted run of each.

    `warm_up_b=False` skips B's warm-up when B runs the same code as A (and is slow).
    """
    (first, second), load = interleaved((a, b), runs=runs, warm_up=(True, warm_up_b) if warm_up else (False, False))
    return Pairs(first, second, load)


def interleaved(
    commands: Sequence[Callable[[], Sample]], *, runs: int, warm_up: Sequence[bool] | None = None
) -> tuple[tuple[Series, ...], tuple[float, float, float]]:
    """`runs` rounds of every command, the order rotating from round to round (AB BA AB ..., ABC BCA CAB ...).

    Each command first runs once uncounted unless `warm_up` says otherwise for it.
    Returns each command's series, index for index, and the load averages at the start.
    """
    load = os.getloadavg()
    for command, warm in zip(commands, warm_up or [True] * len(commands)):
        if warm:
            command()
    samples: list[list[Sample]] = [[] for _ in commands]
    for i in range(runs):
        for k in range(len(commands)):
            j = (i + k) % len(commands)
            samples[j].append(commands[j]())
    return tuple(Series(tuple(s)) for s in samples), load


def bench_parser(doc: str | None, sizes: str = "50,150,300") -> argparse.ArgumentParser:
    """A benchmark script's own command line: `--sizes N,N,...` (a list of int) and `--runs N`."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=sizes, help=f"comma-separated (default {sizes})")
    parser.add_argument("--runs", type=int, default=5, help="counted runs per command and size (default 5)")
    return parser


def _sizes(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]
