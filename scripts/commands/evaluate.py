"""``ncp-control evaluate RUN_DIR|MODEL.zip``: clean evaluation, optionally rendered to frames or video."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import ModelPolicy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.runs import load_model
from ncp_control.cli.commands import add_trust_pickle

from ncp_control.errors import UserError


def _render_episode(model: Any, env_id: str, seed: int, target: Path, env_kwargs: dict[str, Any]) -> Path:
    """Render one deterministic episode to PNG frames (a folder) or a .gif/.mp4 file."""
    frames: list[Any] = []

    def capture(index: int, env: gym.Env) -> None:
        try:
            frame = env.render()
        except gym.error.Error as error:
            raise UserError(f"cannot render {env_id}: {error}") from None
        if frame is None:
            raise UserError(f"{env_id} does not render rgb_array frames")
        frames.append(np.asarray(frame))

    run_episodes(ModelPolicy(model), lambda: make_env(env_id, {**env_kwargs, "render_mode": "rgb_array"}), [seed],
                 observe=capture)
    suffix = target.suffix.lower()
    if suffix in (".gif", ".mp4"):
        try:
            import imageio.v2 as imageio
        except ImportError:
            raise UserError("--render to a .gif or .mp4 needs imageio (pip install imageio); or give a folder") from None
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            imageio.mimsave(target, frames, **({"duration": 1 / 30} if suffix == ".gif" else {"fps": 30}))
        except (ValueError, ImportError, RuntimeError, OSError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise UserError(
                f"cannot write {target} ({first}); use .gif or a folder instead"
            ) from None
        return target
    if suffix:
        raise UserError(f"--render takes a folder (PNG frames), a .gif or a .mp4 file, got {target}")
    import matplotlib.image

    target.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        matplotlib.image.imsave(target / f"frame_{index:05d}.png", frame)
    return target


def run(args: argparse.Namespace) -> int:
    """Evaluate a model and print its scores.

    :param args: parsed arguments.
    :return: exit status 0.
    """
    if args.episodes < 1:
        raise UserError(f"--episodes must be at least 1, got {args.episodes}")
    model, info = load_model(args.model, args.env, trust_pickle=args.trust_pickle)
    env_id = args.env or info.get("env_id")
    if not env_id:
        raise UserError(f"{args.model} is a bare model file: give the environment with --env")
    seeds = [args.seed + i for i in range(args.episodes)]
    env_kwargs = dict(info.get("env_kwargs") or {})  # the run's env arguments travel with it
    rows = run_episodes(ModelPolicy(model, deterministic=not args.stochastic), lambda: make_env(env_id, env_kwargs),
                        seeds)
    returns = np.array([r["return"] for r in rows])
    print(f"{info['algo']} {info.get('policy', '')} on {env_id}, {len(rows)} episodes (seeds {seeds[0]}..{seeds[-1]})")
    print(f"return {returns.mean():.2f} +- {returns.std():.2f}, mean length {np.mean([r['length'] for r in rows]):.1f}")
    for key in ("success", "crash"):
        values = [r[key] for r in rows if not np.isnan(r[key])]
        if values:
            print(f"{key} rate {np.mean(values):.2f}")
    if args.render:
        path = _render_episode(model, env_id, seeds[0], Path(args.render), env_kwargs)
        print(f"rendered seed {seeds[0]} to {path}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser("evaluate", help="evaluate a trained model on its clean environment")
    parser.add_argument("model", help="a run folder, a model state folder, or a model .zip (with --trust-pickle)")
    parser.add_argument("--env", default=None, help="env id (default: the run's; required for a bare .zip)")
    parser.add_argument("--episodes", type=int, default=10, help="episodes (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="first episode seed (default 0)")
    parser.add_argument("--stochastic", action="store_true", help="sample actions instead of the mode")
    parser.add_argument("--render", default=None, metavar="PATH",
                        help="render the first episode: a folder (PNG frames), or a .gif/.mp4 file")
    add_trust_pickle(parser)
    parser.set_defaults(func=run)
