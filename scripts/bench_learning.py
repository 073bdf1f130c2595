"""Learning benchmark: LiquidPPO, LiquidSAC and LiquidTD3 with each network against their anchors on the zoo's recipes.

Trains every agent on the same rl-baselines3-zoo recipe (the PPO recipes for LiquidPPO,
RecurrentPPO and PPO; the SAC recipes for LiquidSAC and SAC; the TD3 recipes for LiquidTD3 and TD3), budget and seeds, with the zoo's
normalisation and/or without any, evaluates each seed deterministically, and prints
per-seed returns, the IQM with its bootstrap 95% interval, training time and time to first
reach the task's threshold. Each finished run is appended to the results file (JSON lines), and
runs already there are skipped: rerun the same command to resume. A run also writes a checkpoint
every ``--checkpoint-every`` steps (into ``--checkpoints``, beside the results file by default), so
that a run stopped part-way goes on from there, exactly as it would have gone without the stop.

``ncp-control bench learning [--env ID] [--agents A ...] [--seeds 0 1 2 3 4] [--normalize zoo none]
[--results FILE] [--checkpoint-every 25000] [--jobs 2] [--quick]``
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ncp_control.errors import UserError

DEFAULT_AGENTS = [
    "LiquidPPO:CfCPolicy", "LiquidPPO:LTCPolicy", "LiquidPPO:CTRNNPolicy", "LiquidPPO:LSTMPolicy", "LiquidPPO:GRUPolicy",
    "RecurrentPPO:MlpLstmPolicy", "RecurrentPPO:RecurrentCfCPolicy",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ncp-control bench learning", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="NCPControl/CartPoleNoVel-v1", help="task with a zoo recipe")
    parser.add_argument("--agents", nargs="+", default=DEFAULT_AGENTS, help="ALGO:POLICY names")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4], help="training seeds")
    parser.add_argument("--normalize", nargs="+", default=["zoo", "none"], choices=["zoo", "none"],
                        help="zoo: the zoo's VecNormalize of observations and rewards (its PPO recipes; its "
                             "SAC recipes normalise nothing); none: raw env")
    parser.add_argument("--steps", type=int, default=None, help="env steps per run (default: the zoo budget)")
    parser.add_argument("--implementation", default="default", choices=["default", "fast", "reference"],
                        help="liquid cells' implementation (reference: another order of sums)")
    parser.add_argument("--eval-episodes", type=int, default=20, help="deterministic episodes per evaluation")
    parser.add_argument("--eval-every", type=int, default=0,
                        help="also evaluate every N steps for the time to threshold (0: at the end only)")
    parser.add_argument("--results", nargs="+", default=["bench_learning.jsonl"],
                        help="results file (appended; resumes); further files are read for the summary too")
    parser.add_argument("--checkpoints", default=None,
                        help="folder of the runs' checkpoints (default: the results file's name with .checkpoints)")
    parser.add_argument("--checkpoint-every", type=int, default=25_000,
                        help="env steps between a run's checkpoints, to resume it part-way (0: none)")
    parser.add_argument("--at-steps", type=int, default=None,
                        help="summarise every run as it stood at N steps (its evaluation there, from its curve: "
                             "runs with --eval-every dividing N and a budget of at least N), to compare agents "
                             "whose recipes train for different budgets; with --no-train")
    parser.add_argument("--jobs", type=int, default=1, help="runs trained in parallel processes")
    parser.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table")
    parser.add_argument("--no-train", action="store_true", help="only summarise the runs already in the results file")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: seed 0, 5000 steps, 2 episodes, CfC and LSTM in both algorithms")
    return parser


def _run(job: tuple[Any, int, int, str, str, int]) -> dict[str, Any]:
    from ncp_control.agents.benchmark import append_result, train_and_measure
    from ncp_control.agents.benchmark_resume import RunCheckpoints
    from ncp_control.agents.progress import write_line

    key, episodes, every, results, checkpoints, checkpoint_every = job
    record = train_and_measure(key, episodes, every, checkpoints=checkpoints, checkpoint_every=checkpoint_every,
                               report=write_line)  # a line per evaluation and checkpoint: long runs show progress
    append_result(results, record)
    RunCheckpoints(checkpoints, key.as_dict(), checkpoint_every).clear()  # its line is written: nothing to resume
    return record


def _print_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        seeds = ", ".join(f"{seed}: {value}" for seed, value in row["seeds"].items())
        reach = row["median_seconds_to_threshold"]
        reach_text = "-" if reach is None else f"{reach:.0f} s"
        print(f"{row['env_id']} {row['agent']:34s} norm={row['normalize']:4s} {row['steps']} steps "
              f"impl={row['implementation']}: IQM {row['iqm']:.1f} [{row['ci'][0]:.1f}, {row['ci'][1]:.1f}] "
              f"| seeds {seeds} | train {row['train_seconds']:.0f} s | reached {row['solved']}, median {reach_text}",
              flush=True)


def _print_markdown(rows: list[dict[str, Any]]) -> None:
    print("| agent | normalisation | seeds: mean return | IQM [95% CI] | reached threshold | median time to it | training time |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        seeds = ", ".join(f"{seed}: {value}" for seed, value in row["seeds"].items())
        reach = row["median_seconds_to_threshold"]
        print(f"| {row['agent']} | {row['normalize']} | {seeds} | {row['iqm']:.1f} [{row['ci'][0]:.1f}, {row['ci'][1]:.1f}] "
              f"| {row['solved']} | {'-' if reach is None else f'{reach:.0f} s'} | {row['train_seconds']:.0f} s |")


def main(argv: list[str] | None = None) -> int:
    """:param argv: arguments (see ``--help``). :return: 0."""
    from ncp_control.agents.benchmark import (
        RunKey,
        done_keys,
        parse_agent,
        read_results,
        recipe_of,
        run_label,
        summarize,
    )

    args = _parser().parse_args(argv)
    for agent in args.agents:
        parse_agent(agent)
    recipe = recipe_of(args.env, parse_agent(args.agents[0])[0])  # the budget of the first agent's recipe
    agents, seeds, steps, episodes = args.agents, args.seeds, args.steps or recipe.n_timesteps, args.eval_episodes
    if args.quick:
        agents = [a for a in agents if a.endswith(("CfCPolicy", "LSTMPolicy"))] or agents
        seeds, steps, episodes = [0], args.steps or 5000, 2
    for agent in agents:
        parse_agent(agent)
    if args.jobs < 1 or steps < 1 or episodes < 1 or args.eval_every < 0 or args.checkpoint_every < 0:
        raise UserError("--jobs, --steps and --eval-episodes must be >= 1, --eval-every and --checkpoint-every >= 0")
    if args.at_steps is not None and (not args.no_train or args.at_steps < 1):
        raise UserError(f"--at-steps summarises runs already made: give it with --no-train, and >= 1 (got {args.at_steps})")
    results, *others = args.results
    if args.at_steps is not None:
        return _summarize_at(args, others, args.at_steps)
    done = done_keys(read_results(results))
    keys = [RunKey(args.env, agent, norm, seed, steps, args.implementation)
            for norm, agent, seed in itertools.product(args.normalize, agents, seeds)]
    todo = [key for key in keys if key.as_tuple() not in done]
    if args.no_train:
        print(f"{len(keys) - len(todo)} of {len(keys)} runs in {results}; the other {len(todo)} not trained (--no-train)")
    else:
        print(f"{len(keys) - len(todo)} of {len(keys)} runs already in {results}; {len(todo)} to train", flush=True)
    checkpoints = args.checkpoints or str(Path(results).with_suffix(".checkpoints"))
    jobs = [] if args.no_train else [(key, episodes, args.eval_every, results, checkpoints, args.checkpoint_every)
                                     for key in todo]
    from ncp_control.agents.progress import Progress

    with Progress(len(jobs), "runs", "training", enabled=bool(jobs)) as bar:
        finished: Iterator[dict[str, Any]]
        if args.jobs == 1:
            finished = (_run(job) for job in jobs)
        else:
            pool = ProcessPoolExecutor(max_workers=args.jobs)
            finished = pool.map(_run, jobs)
        for record in finished:
            bar.write(f"  {run_label(record)}: "
                      f"{record['mean_return']:.1f} in {record['train_seconds']:.0f} s")
            bar.advance()
        if args.jobs != 1:
            pool.shutdown()
    wanted = {key.as_tuple() for key in keys}
    records = [r for file in args.results for r in read_results(file) if done_keys([r]) <= wanted]
    rows = summarize(records)
    _print_markdown(rows) if args.markdown else _print_rows(rows)
    return 0


def _summarize_at(args: argparse.Namespace, files: list[str], steps: int) -> int:
    """The summary of ``--at-steps``: every run of the chosen env, agents, seeds, normalisation
    and implementation in the results files, as it stood at ``steps`` (whatever its budget)."""
    from ncp_control.agents.benchmark import at_budget, parse_agent, read_results, recipe_of, summarize

    records, missing = [], []
    for file in [args.results[0], *files]:
        for record in read_results(file):
            if (record["env_id"], record["implementation"]) != (args.env, args.implementation) or \
                    record["agent"] not in args.agents or record["seed"] not in args.seeds or \
                    record["normalize"] not in args.normalize:
                continue
            threshold = recipe_of(args.env, parse_agent(record["agent"])[0]).threshold
            point = at_budget(record, steps, threshold)
            if point is None:
                missing.append(f"{record['agent']} seed {record['seed']} ({record['steps']} steps)")
            else:
                records.append(point)
    if missing:
        print(f"no evaluation at {steps} steps in {len(missing)} runs, left out: {', '.join(missing)}")
    rows = summarize(records)
    _print_markdown(rows) if args.markdown else _print_rows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
