"""The ``ncp-control`` command: discovers subcommands in :mod:`ncp_control.cli.commands`.

Errors a user can cause (the package's :class:`~ncp_control.errors.UserError`, a missing file,
a folder that cannot be written: read-only, full disk, no permission) end with one line on
stderr and exit status 2. Any other exception is a bug and keeps its traceback; ``--debug``
shows the traceback of user errors too.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import ncp_control.cli.commands as commands

from ncp_control import __version__
from ncp_control.errors import UserError

__all__ = ["UserError", "build_parser", "main"]

#: ``OSError`` numbers that are the user's to fix (where a command writes or reads), printed as one line.
USER_OS_ERRORS = {errno.EROFS, errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.ENOENT, errno.ENOTDIR,
                  errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG}


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every discovered subcommand.

    :return: the argument parser of ``ncp-control``.
    """
    parser = argparse.ArgumentParser(
        prog="ncp-control",
        description="Liquid neural network control policies: train, evaluate robustness, inspect, export.",
    )
    parser.add_argument("--version", action="version", version=f"ncp-control {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of every error (user errors are one line without it)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(subparsers)
    return parser


def _os_message(error: OSError) -> str:
    """One line for an ``OSError``: what failed, on which path."""
    where = f" {error.filename}" if error.filename else ""
    hint = {errno.ENOSPC: "; free some space or write elsewhere", errno.EDQUOT: "; free some space or write elsewhere",
            errno.EROFS: "; choose a writable folder (--out)", errno.EACCES: "; choose a folder you may write (--out)",
            errno.EPERM: "; choose a folder you may write (--out)"}.get(error.errno or 0, "")
    return f"{error.strerror or error}:{where}{hint}"


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
        if args.debug:
            raise
        print("ncp-control: interrupted", file=sys.stderr)
        return 130
    except UserError as error:
        if args.debug:
            raise
        print(f"ncp-control: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except OSError as error:  # a missing file raised by the package, a read-only folder, a full disk...
        raised_by_us = error.errno is None and isinstance(error, (FileNotFoundError, NotADirectoryError))
        if args.debug or not (raised_by_us or error.errno in USER_OS_ERRORS):
            raise
        message = " ".join(str(error).split()) if raised_by_us else _os_message(error)
        print(f"ncp-control: error: {message}", file=sys.stderr)
        return 2
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
