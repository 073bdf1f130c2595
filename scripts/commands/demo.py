"""``ncp-control demo``: the main job, end to end, on a fresh install.

Trains a CfC policy with NCP wiring and an MLP baseline (same algorithm, LiquidPPO; they differ
only in the network) on ``NCPControl/LaneKeeping-v0`` (state observation), then evaluates both,
beside the task's reference controller, against the ``dynamics`` and ``timing`` perturbation
suites on paired seeds, and writes the results table, summaries and plots.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from ncp_control.agents.common.eval_policies import reference_policy
from ncp_control.agents.robustness.evaluate import evaluate_robustness
from ncp_control.agents.robustness.report import format_summary, write_report
from ncp_control.agents.robustness.table import read_results
from ncp_control.agents.sweep import parse_sweep, run_sweep

ENV_ID = "NCPControl/LaneKeeping-v0"
SUITES = ("dynamics", "timing")
#: LiquidPPO recipe that learns lane keeping in about 25k steps (mean return ~780 of the
#: reference controller's 800; random steering scores ~20).
RECIPE = {"n_steps": 128, "batch_size": 512, "seq_len": 16, "n_epochs": 5, "learning_rate": 1e-3,
          "gamma": 0.99, "gae_lambda": 0.95, "ent_coef": 0.0}


def sweep_spec(timesteps: int, episodes: int, levels: list[float] | None, seed: int) -> dict:
    """The demo as a sweep: CfC (NCP wiring) and MLP on lane keeping, evaluated on two suites.

    :param timesteps: training steps per policy.
    :param episodes: evaluation episodes per cell.
    :param levels: perturbation levels (``None``: the suites' own).
    :param seed: training seed.
    :return: a sweep mapping for :func:`ncp_control.agents.sweep.parse_sweep`.
    """
    spec = {
        "envs": [ENV_ID],
        "policies": [{"name": "CfC-NCP", "policy": "CfCPolicy"}, {"name": "MLP", "policy": "MlpPolicy"}],
        "seeds": [seed],
        "timesteps": timesteps,
        "n_envs": 8,
        "hyperparams": dict(RECIPE),
        "checkpoint_freq": max(1024, timesteps // 4),
        "suites": list(SUITES),
        "episodes": episodes,
    }
    if levels is not None:
        spec["levels"] = levels
    return spec


def run(args: argparse.Namespace) -> int:
    """Train, evaluate, report; print where everything is.

    :param args: parsed arguments.
    :return: 0, or 1 if a training job failed.
    """
    timesteps = args.timesteps or (2048 if args.quick else 32_768)
    episodes = args.episodes or (2 if args.quick else 5)
    levels = args.levels or ([1.0] if args.quick else None)
    out = Path(args.out or ("ncp-control-demo-quick" if args.quick else "ncp-control-demo"))
    print(f"ncp-control demo: CfC (NCP wiring) vs MLP on {ENV_ID}, {timesteps} training steps each, "
          f"then suites {', '.join(SUITES)} with {episodes} paired episodes per cell -> {out}/")
    config = parse_sweep(sweep_spec(timesteps, episodes, levels, args.seed))
    report = run_sweep(config, out, workers=args.workers, progress=not args.no_progress)
    for job_id, error in sorted(report.failed.items()):
        print(f"FAILED {job_id}: {error}")
    if report.results is None:
        return 1
    reference = out / "reference.csv"
    for suite in SUITES:
        evaluate_robustness(reference_policy(ENV_ID), ENV_ID, suite, levels, episodes, 0, name="reference",
                            results=reference)
    frame = pd.concat([read_results(report.results), read_results(reference)], ignore_index=True)
    results = out / "results_with_reference.csv"
    frame.to_csv(results, index=False)
    print(format_summary(frame))
    written = write_report(frame, out / "report")
    print(f"\nresults table (one row per episode): {results}")
    print(f"summaries: {', '.join(str(p) for p in written['tables'])}")
    print(f"plots: {', '.join(str(p) for p in written['plots'])}")
    print(f"run folders (models, checkpoints, TensorBoard logs): {out / 'runs'}")
    return 1 if report.failed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "demo", help="train CfC-NCP and MLP policies on lane keeping, compare their robustness (a few minutes)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default=None,
                        help="output folder (default ./ncp-control-demo, ./ncp-control-demo-quick with --quick)")
    parser.add_argument("--timesteps", type=int, default=None, help="training steps per policy (default 32768)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per cell (default 5)")
    parser.add_argument("--levels", type=float, nargs="+", default=None, help="levels (default: the suites')")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--workers", type=int, default=2, help="policies trained in parallel (default 2)")
    parser.add_argument("--quick", action="store_true", help="tiny budget (2048 steps, 2 episodes, level 1 only)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)
