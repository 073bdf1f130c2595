"""``ncp-control version``: print the versions of the package and its main dependencies."""

from __future__ import annotations

import argparse
from importlib import metadata


def run(args: argparse.Namespace) -> int:
    """Print versions, one per line.

    :param args: parsed arguments (unused).
    :return: exit status 0.
    """
    for name in ("ncp-control", "torch", "gymnasium", "mujoco", "stable-baselines3", "sb3-contrib"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        print(f"{name} {version}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``version`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser("version", help="print the versions of ncp-control and its dependencies")
    parser.set_defaults(func=run)
