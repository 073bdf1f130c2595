"""``ncp-control sweep CONFIG.yaml``: a grid of training and robustness jobs, local or on Ray."""

from __future__ import annotations

import argparse
import os

from ncp_control.agents.sweep import BACKENDS, load_sweep, run_sweep


def run(args: argparse.Namespace) -> int:
    """Run or resume the sweep; report failed jobs with their errors.

    :param args: parsed arguments.
    :return: 0 if every job finished, 1 if some failed twice.
    """
    config = load_sweep(args.config)
    print(f"sweep: {len(config.jobs)} jobs -> {args.out} (backend {args.backend}, workers {args.workers})")
    report = run_sweep(config, args.out, workers=args.workers, backend=args.backend, address=args.address,
                       progress=not args.no_progress)
    print(f"finished jobs: {len(report.done)}/{len(config.jobs)}")
    for job_id, error in sorted(report.failed.items()):
        print(f"FAILED {job_id}: {error}")
    if report.results is not None:
        print(f"results: {report.results}")
        print("report: " + ", ".join(str(p) for p in report.files[1:]))
    return 1 if report.failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "sweep", help="run a grid of training + robustness jobs from YAML (local processes or Ray)",
        description="Each job trains into its own run folder and evaluates its suites; rerunning resumes after "
        "a kill; a failed job is retried once, and one failing twice is reported without stopping the others.",
    )
    parser.add_argument("config", help="sweep YAML (envs, policies, seeds, timesteps, suites, ...)")
    parser.add_argument("--out", default="sweep", help="output folder (default ./sweep)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="parallel jobs in local processes, or CPUs of a local Ray instance (default: CPU count; "
                        "1 runs the jobs in this process)")
    parser.add_argument("--backend", default="local", choices=BACKENDS, help="local processes or ray")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: a local instance)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
