"""Command line: `medama start [flags]` and `medama version`; Medama's exit codes: 0 stopped, 1 failed, 2 usage."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from medama_py import config as config_module
from medama_py.version import version_line

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["main", "run"]

_USAGE = (
    "Usage: medama <command> [flags]\n\nCommands:\n  start    run the server\n  version  print the version\n"
    "  export   write a website's raw rows to a file\n  backup   download a backup from a running server\n"
    "  restore  unpack a backup into new database files\n  import   import exported or Umami rows (server stopped)"
)


def _start(args: Sequence[str], environ: Mapping[str, str]) -> int:
    try:
        config = config_module.load(args, environ)
    except config_module.HelpRequested:
        print(config_module.usage(), file=sys.stderr)
        return 0
    except config_module.UsageError as exc:
        print(f"{exc}\n{config_module.usage()}", file=sys.stderr)
        return 2
    except config_module.ConfigError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    # Imported here so `medama version` and flag errors stay instant.
    from medama_py.server import serve

    return serve(config)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command in argv (without the program name) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if environ is None else environ
    if not args:
        print(
            "Usage: medama <command> [flags]\n\nCommands:\n  start    run the server\n  version  print the version",
            file=sys.stderr,
        )
        return 2
    command, rest = args[0], args[1:]
    if command == "start":
        return _start(rest, env)
    if command in ("export", "backup", "restore", "import"):
        from medama_py.commands import run_command

        return run_command(command, rest)
    if command == "version":
        print(version_line())
        return 0
    if command in ("-h", "--help", "help"):
        print(_USAGE)
        return 0
    print(f'ERROR: medama: unknown command "{command}"', file=sys.stderr)
    return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
