"""The `releaser` command line: parse arguments, call the library, print, exit.

No policy lives here. Errors are `ReleaserError`s whose class carries the exit
code of the contract; they are printed on one line (or, with --json, as one JSON
document), scrubbed of secrets, with no traceback. `app` is the frame (options
every command takes, the group, errors); each other module adds its commands.
"""

from releaser.cli import database, pins, releases, site  # noqa: F401  (each adds its commands to main)
from releaser.cli.app import main

__all__ = ["main"]
