"""``ncp-control bench NAME [ARGS...]``: run the benchmark script ``scripts/bench_NAME.py``.

Each benchmark module defines ``main(argv: list[str] | None) -> int`` and times our code
and its anchor in the same run, printing ratios.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil

import ncp_control.cli as cli_package

from ncp_control.errors import UserError


def available() -> list[str]:
    """:return: the names of the benchmarks (``scripts/bench_*.py``)."""
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules(cli_package.__path__) if m.name.startswith("bench_"))


def run(args: argparse.Namespace) -> int:
    """Run one benchmark with its own arguments.

    :param args: parsed arguments with ``name`` and ``rest``.
    :return: the benchmark's exit status.
    """
    names = available()
    if args.name not in names:
        raise UserError(f"unknown benchmark {args.name!r}; choose one of {names}")
    module = importlib.import_module(f"ncp_control.cli.bench_{args.name}")
    return int(module.main(list(args.rest)) or 0)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark (cells, training, envs, perturbations, ...) against its anchor",
        description="Run scripts/bench_NAME.py; arguments after NAME go to the benchmark (see `bench NAME --help`).",
    )
    parser.add_argument("name", help="benchmark name: " + ", ".join(available()) if available() else "benchmark name")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for the benchmark")
    parser.set_defaults(func=run)
