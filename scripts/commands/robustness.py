"""``ncp-control robustness RUN_DIR... --suite NAME``: paired robustness evaluation, table and plots."""

from __future__ import annotations

import argparse
from pathlib import Path

from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import reference_policy
from ncp_control.agents.robustness.evaluate import evaluate_random, evaluate_robustness
from ncp_control.agents.robustness.report import format_summary, write_report
from ncp_control.agents.robustness.table import read_results
from ncp_control.cli.commands import add_trust_pickle, load_runs, model_names
from ncp_control.envs.perturbations.suites import resolve_suite

from ncp_control.errors import UserError


def run(args: argparse.Namespace) -> int:
    """Evaluate each run on each suite, then print and write the summary.

    :param args: parsed arguments.
    :return: exit status 0.
    """
    if args.episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {args.episodes}")
    loaded, env_id = load_runs(args.runs, args.env, args.trust_pickle)
    kwargs = {repr(sorted((info.get("env_kwargs") or {}).items())) for _, info in loaded}
    if len(kwargs) != 1:
        raise UserError("all runs must use the same env_kwargs (their env arguments differ); evaluate them separately")
    env_kwargs = dict(loaded[0][1].get("env_kwargs") or {})  # the runs' env arguments travel with them
    out = Path(args.out)
    results = out / "results.csv"
    names = args.names.split(",") if args.names else model_names([info for _, info in loaded])
    if len(names) != len(loaded):
        raise UserError(f"--names needs {len(loaded)} comma-separated names, got {len(names)}")
    if args.reference:
        reference_policy(env_id)  # fail early for a task without one
    env = make_env(env_id, env_kwargs)
    try:  # once for every model: an unknown suite or a bad level fails before any evaluation
        suites = [resolve_suite(suite, args.levels, env) for suite in args.suite]
    finally:
        env.close()
    evaluate_random(env_id, args.episodes, args.seed, results=results, env_kwargs=env_kwargs)
    if args.reference:
        for suite in suites:
            print(f"reference controller: suite {suite.name}")
            evaluate_robustness(reference_policy(env_id), env_id, suite, None, args.episodes, args.seed,
                                name="reference", results=results, progress=not args.no_progress,
                                env_kwargs=env_kwargs)
    for (model, info), name in zip(loaded, names):
        for suite in suites:
            print(f"{name} (seed {info['seed']}): suite {suite.name}")
            evaluate_robustness(model, env_id, suite, None, args.episodes, args.seed, name=name,
                                train_seed=info["seed"], results=results, progress=not args.no_progress,
                                env_kwargs=env_kwargs)
    frame = read_results(results)
    print(format_summary(frame))
    written = write_report(frame, out, train_shifts={name: info.get("train_shift") or [] for (_, info), name
                                                     in zip(loaded, names)})
    print(f"results: {results}")
    print("tables: " + ", ".join(str(p) for p in written["tables"]))
    print("plots: " + ", ".join(str(p) for p in written["plots"]))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``robustness`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "robustness", help="evaluate runs under perturbation suites; write table and plots",
        description="Every run on the clean env and every (perturbation, level) of each suite, on the same "
        "evaluation seeds; results are appended as cells finish, so a second call resumes.",
    )
    parser.add_argument("runs", nargs="+", help="run folders (or model .zip files with --env and --trust-pickle)")
    parser.add_argument("--suite", action="append", required=True,
                        help="suite name (repeat for several): observation, actuation, dynamics, timing, ...")
    parser.add_argument("--levels", type=float, nargs="+", default=None, help="levels in [0, 1] (default: suite's)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per cell (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="first evaluation seed (default 0)")
    parser.add_argument("--env", default=None, help="env id (default: the runs')")
    parser.add_argument("--names", default=None, help="comma-separated model names (default: policy names)")
    parser.add_argument("--out", default="robustness", help="output folder (default ./robustness)")
    parser.add_argument("--reference", action="store_true",
                        help="also evaluate the task's reference controller (lane keeping, quadrotor tasks)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_trust_pickle(parser)
    parser.set_defaults(func=run)
