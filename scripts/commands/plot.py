"""``ncp-control plot RESULTS``: summaries and plots of a results table."""

from __future__ import annotations

import argparse
from pathlib import Path

from ncp_control.agents.robustness.report import format_summary, write_report
from ncp_control.agents.robustness.table import read_results

from ncp_control.errors import UserError


def run(args: argparse.Namespace) -> int:
    """Write the report of a results table and print where.

    :param args: parsed arguments.
    :return: exit status 0.
    """
    path = Path(args.results)
    if not path.is_file():
        raise FileNotFoundError(f"no results table at {path}")
    frame = read_results(path)
    if frame.empty:
        raise UserError(f"{path} has no rows")
    out = Path(args.out) if args.out else path.parent
    print(format_summary(frame))
    written = write_report(frame, out)
    print("tables: " + ", ".join(str(p) for p in written["tables"]))
    print("plots: " + ", ".join(str(p) for p in written["plots"]))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``plot`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser("plot", help="retention and AUC plots (PNG, SVG) and summary tables of results")
    parser.add_argument("results", help="a results table (.csv or .parquet) written by robustness or sweep")
    parser.add_argument("--out", default=None, help="output folder (default: next to the results)")
    parser.set_defaults(func=run)
