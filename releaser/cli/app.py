"""The command line's frame: the options every command takes, errors told in one line, the group.

No policy lives here. Errors are `ReleaserError`s whose class carries the exit
code (README, "Exit codes"); they are printed on one line, scrubbed of secrets, with
no traceback.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from releaser import __version__
from releaser.core.console import json_document, print_error, project_root
from releaser.core.errors import ReleaserError
from releaser.core.redact import scrub

if TYPE_CHECKING:
    from releaser.core.config import ReleaseConfig
    from releaser.core.progress import Progress


# -- global options: given before or after the command's name -------------------


@dataclass
class _Run:
    """What this invocation was asked for by the options every command takes."""

    project: Path | None = None  # -C DIR
    json: bool = False  # --json: one JSON document on stdout, errors included
    quiet: bool = False  # --quiet: nothing but failures
    debug: bool = False  # --debug: the traceback of an unexpected error (a bug in releaser)

    def reset(self, *, json: bool) -> None:
        """A fresh invocation (tests call `main` more than once in a process)."""
        self.project, self.json, self.quiet, self.debug = None, json, False, False

    def echo(self, line: str = "", *, err: bool = False) -> None:
        """A line for people; not with --quiet or --json (stdout is the document then)."""
        if not (self.quiet or self.json):
            click.echo(scrub(line), err=err)

    def document(self, document: Mapping[str, Any], code: int = 0) -> None:
        """With --json, the command's result as one document in the envelope every --json
        output shares: {"ok": ..., "exit": N, ...its own keys}, scrubbed."""
        if self.json:
            click.echo(json_document(document, code))

    @contextlib.contextmanager
    def progress(self) -> Iterator[Progress | None]:
        """Progress on stderr while the block runs: none with --json or --quiet."""
        from releaser.core.progress import renderer

        shown = None if self.json else renderer(sys.stderr, quiet=self.quiet)
        try:
            yield shown
        finally:
            if shown is not None:
                shown.close()


options = _Run()


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(_ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value:  # before or after the command name: either counts; an absent one changes nothing
            setattr(options, name, value)

    return callback


_GLOBAL_OPTIONS = (
    click.option(
        "-C", "--project", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
        expose_value=False, callback=_remember("project"),
        help="Run in the project at DIR (default: the nearest folder with a release.toml, here or above).",
    ),
    click.option(
        "--json", is_flag=True, expose_value=False, callback=_remember("json"),
        help='Print one JSON document on stdout, errors too ({"ok": false, "error": ..., "exit": N}).',
    ),
    click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_remember("quiet"),
        help="Print nothing but failures; no progress.",
    ),
    click.option(
        "--debug", is_flag=True, expose_value=False, callback=_remember("debug"),
        help="Show the traceback of an unexpected error (a bug in releaser).",
    ),
)


def global_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in _GLOBAL_OPTIONS:
        func = option(func)
    params = func.__click_params__  # type: ignore[attr-defined]
    shared = params[-len(_GLOBAL_OPTIONS):]
    params[:] = shared + params[: -len(_GLOBAL_OPTIONS)]  # click lists them reversed: the command's own first
    return func


def fail(message: str, code: int) -> None:
    sys.exit(print_error(message, code, options.json))


# Each command's module, imported when that command runs (or --help lists them all): a command
# pays for its own imports only, not for every other command's (click's lazy subcommands).
COMMANDS = {
    "init": "pins", "lock": "pins", "check": "pins", "export": "pins",
    "migrations": "database", "rehearse": "database", "revert-plan": "database",
    "cut": "releases", "list": "releases", "show": "releases", "reproduce": "releases", "bundle": "releases",
    "diff": "releases", "verify": "releases",
    "site": "site",
}


class _Group(click.Group):
    """Options before or after the command; every error its one-line message and exit code.
    Commands are loaded as they are asked for (`COMMANDS`)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"releaser.cli.{COMMANDS[cmd_name]}")  # its decorators add it to main
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for module in sorted(set(COMMANDS.values())):
            importlib.import_module(f"releaser.cli.{module}")
        return super().list_commands(ctx)

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, **extra: Any,
    ) -> Any:
        """As click's, but errors are rendered here, as text or as JSON (never standalone)."""
        argv = list(sys.argv[1:] if args is None else args)
        options.reset(json="--json" in argv[: argv.index("--")] if "--" in argv else "--json" in argv)
        _interrupt_on_termination()
        try:
            code = super().main(argv, prog_name=prog_name or "releaser", complete_var=complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:  # usage: exit 2, as JSON too with --json
            if options.json:
                fail(exc.format_message(), exc.exit_code)
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            fail("interrupted; files are as they were before this command", 130)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReleaserError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted; files are as they were before this command", 130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors, --help, --version: click's own
        except OSError as exc:  # the disk or the system, not the input: an outside failure
            fail(f"{exc.filename + ': ' if exc.filename else ''}{exc.strerror or type(exc).__name__}", 3)
        except Exception as exc:  # the last resort: a bug, told in one line (the traceback with --debug)
            if options.debug:
                import traceback

                click.echo(scrub(traceback.format_exc()).rstrip(), err=True)
            where = f" (at {_bug_site(exc)})" if _bug_site(exc) else ""
            fail(f"this is a bug in releaser: {type(exc).__name__}{where}; run with --debug for the traceback", 3)


def _bug_site(exc: BaseException) -> str:
    """file:line of the innermost frame that raised, without the message (it may hold input)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb is not None else ""


def as_of_time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """ISO 8601 time or date; without a zone it is UTC (release times should not depend on TZ)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-11-01T12:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def project_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """The global options on a command, and its `project` argument: -C DIR, else found."""

    code = func.__code__
    takes_json = "as_json" in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]

    @functools.wraps(func)
    def command(**params: Any) -> Any:
        if takes_json:  # the command's own --json, or the global one
            params["as_json"] = params.get("as_json", False) or options.json
        return func(project=project_root(options.project), **params)

    return global_options(command)


def load_config(project: Path) -> ReleaseConfig:
    from releaser import ecosystems
    from releaser.core import config

    return ecosystems.load_config(project / config.CONFIG_NAME)


EPILOG = """\b
Every command takes -C DIR, --json and --quiet, before or after its name.
Exit codes: 0 done, 1 the gate said no, 2 bad input or usage, 3 an outside failure.
Documentation: docs/ in releaser's repository (README.md first)."""


def _interrupt_on_termination() -> None:
    """SIGTERM and SIGHUP (a CI job cancelled, a terminal closed) stop a command as Ctrl-C does:
    its temporary files and private credential files are removed, what it wrote stays as it was."""
    import signal
    import threading

    def interrupted(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set handlers (a test runner's worker)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, interrupted)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(__version__, prog_name="releaser")
@global_options
def main() -> None:
    """Cut release candidates in which no dependency floats.

    \b
    Start with:
      releaser init        write release.toml from what the project has
      releaser lock        pin every dependency: exact, hashed, dated
      releaser check       the CI gate: is the lock fresh, does anything float?
      releaser cut         build, gate and record a release candidate
    """
