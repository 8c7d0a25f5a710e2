"""Progress of long work: the library reports events, the command line renders them.

A stage that takes long (resolution, files fetched N of M, the build, the gates)
calls a `Progress` callback with an `Event`; it decides nothing by it. The command
line picks the rendering (`renderer`): on a terminal, one line rewritten in place
with a counter; elsewhere (a pipe, a log, `CI` set) quiet and line-oriented: one
plain line per counted step once it is finished ("files fetched 12/12"), nothing
per file and no step announcements, so CI logs stay short and an error stays the
last line; nothing with `--quiet` or `--json`.
Everything goes to stderr: stdout is the command's result.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Event:
    step: str  # "resolve", "index", "fetch", "install", "build", "gate"
    message: str  # for people: "resolving python inputs with pip-compile"
    done: int | None = None  # with `total`: how far a counted step is
    total: int | None = None


Progress = Callable[[Event], None]


def silent(_event: Event) -> None:
    """The default: libraries report, nobody listens."""


class Counter:
    """Counts finished items of a step from several threads and reports each one."""

    def __init__(self, progress: Progress | None, step: str, message: str, total: int) -> None:
        self.progress, self.step, self.message, self.total = progress or silent, step, message, total
        self._done = 0
        self._lock = threading.Lock()
        if total:
            self.progress(Event(step, message, 0, total))

    def tick(self) -> None:
        with self._lock:
            self._done += 1
            done = self._done
        self.progress(Event(self.step, self.message, done, self.total))


class Renderer:
    """Renders events on `stream`: live (one rewritten line) or as plain lines."""

    def __init__(self, stream: TextIO, *, live: bool) -> None:
        self.stream, self.live = stream, live
        self._open = False  # a live line is on screen, not ended
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        counted = event.total is not None and event.done is not None
        text = f"{event.message} {event.done}/{event.total}" if counted else event.message
        with self._lock:
            if self.live:
                # One line, rewritten: a step's announcement gives way to what follows;
                # a counted step, once finished, stays on screen.
                self.stream.write(f"\r\x1b[2K{text}")
                self._open = True
                if counted and event.done == event.total:
                    self.stream.write("\n")
                    self._open = False
            elif counted and event.done == event.total:
                self.stream.write(text + "\n")  # quiet: a counted step once, when finished; nothing else
            self.stream.flush()

    def close(self) -> None:
        """Clear a line left open, so the command's own output starts on a clean line."""
        with self._lock:
            if self._open:
                self.stream.write("\r\x1b[2K")
                self._open = False
            self.stream.flush()


def renderer(stream: TextIO, *, quiet: bool = False) -> Renderer | None:
    """How to show progress on `stream`: None when quiet, live only on a terminal outside CI."""
    if quiet:
        return None
    live = stream.isatty() and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"
    return Renderer(stream, live=live)
