"""Subcommands of ``ncp-control``.

Each module in this package defines ``register(subparsers)``, which adds one or more
subcommands with ``set_defaults(func=...)``; ``ncp_control.cli.cli`` discovers them.
"""

from __future__ import annotations

import argparse

#: help of ``--trust-pickle``, the same for every command that can open pickled files
TRUST_PICKLE_HELP = (
    "also open pickled files: SB3 .zip models (and runs of earlier versions that only have them), "
    "VecNormalize .pkl files. Unpickling can run arbitrary code: use it only for files you made or trust. "
    "Without it only weights-only files (safetensors + JSON) are read"
)


def add_trust_pickle(parser: argparse.ArgumentParser) -> None:
    """Add ``--trust-pickle`` to a subcommand.

    :param parser: the subcommand's parser.
    """
    parser.add_argument("--trust-pickle", action="store_true", help=TRUST_PICKLE_HELP)
