"""``ncp-control evaluate RUN... [--perturb NAME:LEVEL] [--render out.mp4|out.gif|frames/] [--neurons]``:
scores of one or several policies on the same seeded episodes under the same perturbations, and a
video of the first episode with every policy side by side."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import EvalPolicy, ModelPolicy, reference_policy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.progress import EpisodeProgress, Progress
from ncp_control.agents.watch import Panel, video_kind, watch
from ncp_control.agents.watch.neurons import neuron_probe
from ncp_control.cli.commands import add_trust_pickle, load_runs, model_names
from ncp_control.envs.perturbations import compose, parse_perturbation

from ncp_control.errors import UserError

#: the name that stands for the task's reference controller among the runs
REFERENCE = "reference"


def _maker(env_id: str, env_kwargs: dict[str, Any], perturbations: list[tuple[str, float]],
           render: bool) -> Callable[[], gym.Env]:
    """:return: a builder of the env with its arguments, the perturbations (outermost last) and rendering."""
    kwargs = {**env_kwargs, "render_mode": "rgb_array"} if render else dict(env_kwargs)

    def make() -> gym.Env:
        env = make_env(env_id, kwargs)
        if not perturbations:
            return env
        try:
            return compose(env, perturbations)
        except ValueError as error:
            env.close()
            raise UserError(f"--perturb on {env_id}: {' '.join(str(error).split())}") from None

    return make


def _entries(args: argparse.Namespace) -> tuple[list[tuple[str, Any, dict[str, Any]]], str]:
    """:return: ``[(name, model or None for the reference, env_kwargs)]`` and the env id."""
    paths = [run for run in args.runs if run != REFERENCE]
    loaded, env_id = load_runs(paths, args.env, args.trust_pickle) if paths else ([], args.env)
    if env_id is None:
        raise UserError("evaluating only the reference controller needs --env ENV_ID")
    names = model_names([info for _, info in loaded])
    if args.names:
        names = args.names.split(",")
        if len(names) != len(args.runs):
            raise UserError(f"--names needs {len(args.runs)} comma-separated names, got {len(names)}")
    first_kwargs = dict(loaded[0][1].get("env_kwargs") or {}) if loaded else {}
    entries, models = [], iter(loaded)
    own = iter(names)
    for index, run in enumerate(args.runs):
        if run == REFERENCE:
            reference_policy(env_id)  # a task without one fails here
            entries.append((names[index] if args.names else REFERENCE, None, first_kwargs))
        else:
            model, info = next(models)
            name = names[index] if args.names else next(own)
            entries.append((name, model, dict(info.get("env_kwargs") or {})))
    return entries, env_id


def _policy(model: Any, env_id: str, stochastic: bool) -> EvalPolicy:
    return reference_policy(env_id) if model is None else ModelPolicy(model, deterministic=not stochastic)


def _print_scores(name: str, rows: list[dict[str, Any]]) -> None:
    returns = np.array([r["return"] for r in rows])
    parts = [f"return {returns.mean():.2f} +- {returns.std():.2f}", f"length {np.mean([r['length'] for r in rows]):.1f}"]
    for key in ("success", "crash"):
        values = [r[key] for r in rows if not np.isnan(r[key])]
        if values:
            parts.append(f"{key} {np.mean(values):.2f}")
    print(f"  {name:<24} " + ", ".join(parts))


def run(args: argparse.Namespace) -> int:
    """Evaluate the policies, print their scores, render the first episode side by side.

    :param args: parsed arguments.
    :return: exit status 0.
    """
    if args.episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {args.episodes}")
    if args.max_steps is not None and args.max_steps < 1:
        raise UserError(f"--max-steps must be at least 1, got {args.max_steps}")
    if args.neurons and not args.render:
        raise UserError("--neurons draws beside the video: give --render out.mp4|out.gif|FOLDER too")
    if args.render:
        video_kind(args.render)  # a bad suffix fails before any work
    perturbations = [parse_perturbation(text) for text in args.perturb or []]
    entries, env_id = _entries(args)
    for _, _, kwargs in entries:  # an env that refuses a perturbation fails before any episode
        _maker(env_id, kwargs, perturbations, render=False)().close()
    seeds = [args.seed + i for i in range(args.episodes)]
    shift = ", ".join(f"{n}:{level:g}" for n, level in perturbations) or "none"
    print(f"{env_id}, perturbations: {shift}; {len(seeds)} episodes (seeds {seeds[0]}..{seeds[-1]})")
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in entries}
    progress = Progress(len(entries) * len(seeds), "episodes", enabled=not args.no_progress)
    if args.render:
        panels = []
        for name, model, kwargs in entries:
            make = _maker(env_id, kwargs, perturbations, render=True)
            probe = None
            if args.neurons and model is not None:
                env = make()
                probe = neuron_probe(model, env)
                env.close()
            panels.append(Panel(name, _policy(model, env_id, args.stochastic), make, probe))
        progress.describe(f"rendering seed {seeds[0]}")
        watched = watch(panels, seeds[0], Path(args.render), args.max_steps, args.neurons, EpisodeProgress(progress))
        for (name, _, _), row in zip(entries, watched.rows):
            rows[name].append(row)
        progress.advance(len(entries))
        seeds = seeds[1:]
    if seeds:
        for name, model, kwargs in entries:
            progress.describe(name)
            for seed in seeds:
                rows[name] += run_episodes(_policy(model, env_id, args.stochastic),
                                           _maker(env_id, kwargs, perturbations, render=False), [seed],
                                           max_steps=args.max_steps, watch=EpisodeProgress(progress))
                progress.advance()
    progress.close()
    for name, _, _ in entries:
        _print_scores(name, rows[name])
    if args.render:
        rows_cols = " x ".join(map(str, watched.layout))
        print(f"rendered seed {args.seed} to {watched.path}: {watched.frames} frames at {1 / watched.period:g} fps "
              f"(real time), panels {rows_cols} (rows x columns)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "evaluate", help="score one or several policies on the same episodes, under chosen perturbations; "
        "render them side by side",
        description="Every policy runs the same seeded episodes under the same perturbations. With --render, "
        "the first episode of every policy is rendered side by side in one video at the environment's real "
        "time, each panel with an overlay (policy, step, time, return so far, action, perturbations, crash or "
        "success); with --neurons, each liquid network's neurons beside its panel.",
    )
    parser.add_argument("runs", nargs="+", metavar="RUN",
                        help="run folders, model state folders or model .zip files (with --trust-pickle); "
                        f"'{REFERENCE}' for the task's reference controller")
    parser.add_argument("--env", default=None, help="env id (default: the runs'; required for a bare .zip)")
    parser.add_argument("--perturb", action="append", default=None, metavar="NAME[:LEVEL]",
                        help="apply a perturbation at a level in [0, 1] (default 1), repeatable: "
                        "e.g. --perturb palette:1 --perturb friction:0.5 (the docs list them: Perturbations)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes per policy (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="first episode seed (default 0)")
    parser.add_argument("--max-steps", type=int, default=None, help="cap on each episode's steps (default: none)")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the mode")
    parser.add_argument("--names", default=None, help="comma-separated names, one per RUN (default: policy names)")
    parser.add_argument("--render", default=None, metavar="PATH",
                        help="render the first episode of every policy side by side: out.mp4, out.gif, or a "
                        "folder (PNG frames)")
    parser.add_argument("--neurons", action="store_true",
                        help="with --render: each liquid network's neurons beside its panel (by layer, coloured "
                        "by activity, with the motor neurons' recent history)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_trust_pickle(parser)
    parser.set_defaults(func=run)
