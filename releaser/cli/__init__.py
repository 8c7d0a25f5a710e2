"""The `releaser` command line: parse arguments, call the library, print, exit.

No policy lives here. Errors are `ReleaserError`s whose class carries the exit
code (README, "Exit codes"); they are printed on one line (or, with --json, as one JSON
document), scrubbed of secrets, with no traceback. `app` is the frame (options
every command takes, the group, errors); each other module adds its commands,
imported when one of them runs (`app.COMMANDS`).
"""

from releaser.cli.app import main

__all__ = ["main"]
