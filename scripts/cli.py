"""The ``ncp-control`` command: discovers subcommands in :mod:`scripts.commands`.

Errors a user can cause (``ValueError``, ``FileNotFoundError``, :class:`UserError`) end
with one line on stderr and exit status 2, never a traceback from inside the library.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import scripts.commands as commands
from ncp_control import __version__


class UserError(Exception):
    """An error the user can fix; printed as one line by :func:`main`."""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every discovered subcommand.

    :return: the argument parser of ``ncp-control``.
    """
    parser = argparse.ArgumentParser(
        prog="ncp-control",
        description="Liquid neural network control policies: train, evaluate robustness, inspect, export.",
    )
    parser.add_argument("--version", action="version", version=f"ncp-control {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ncp-control`` with ``argv`` (defaults to ``sys.argv[1:]``).

    :param argv: command-line arguments without the program name.
    :return: the exit status.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0
    try:
        status = args.func(args)
    except KeyboardInterrupt:
        print("ncp-control: interrupted", file=sys.stderr)
        return 130
    except (UserError, ValueError, FileNotFoundError, NotADirectoryError) as error:
        print(f"ncp-control: error: {error}", file=sys.stderr)
        return 2
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
