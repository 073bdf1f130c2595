"""``ncp-control train ENV``: train a policy into a run folder (resumable with ``--resume``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import yaml
from ncp_control.agents.policy_kwargs import parse_policy_kwargs
from ncp_control.agents.recipes import ALGORITHM_FILES, Recipe, read_recipe, shipped_file, shipped_recipe_for
from ncp_control.agents.runs import RunConfig, RunFolder, algorithms, extend_run, train_run
from ncp_control.cli.commands import add_trust_pickle

from ncp_control.errors import UserError


def default_run_dir(env_id: str, policy: str, seed: int) -> Path:
    """:return: ``runs/<env>__<policy>__seed<seed>`` (relative to the working directory)."""
    return Path("runs") / f"{re.sub(r'[^A-Za-z0-9.-]+', '-', env_id).strip('-')}__{policy}__seed{seed}"


def _recipe(args: argparse.Namespace, env_kwargs: dict[str, Any]) -> Recipe:
    """The recipe of ``--config`` (a file, or the name of a shipped one), else the package's tuned
    one for LiquidPPO, LiquidSAC or LiquidTD3 on a task (and env arguments) that has one."""
    if args.config:
        path = Path(args.config)
        shipped = shipped_file(args.config) if not path.exists() else None
        return read_recipe(shipped or path, args.env, args.policy)
    if args.algo in ALGORITHM_FILES:
        found = shipped_recipe_for(args.env, env_kwargs, args.policy, args.algo)
        if found is not None:
            recipe, file = found
            given = ", ".join(f"{k}={v}" for k, v in recipe.env_kwargs.items())
            print(f"using the tuned hyperparameters of {args.env}{f' ({given})' if given else ''} from {file}")
            return recipe
    return Recipe()


#: ``--env-kwargs`` as ``KEY=VALUE[,KEY=VALUE...]``
_PAIRS = re.compile(r"\s*[A-Za-z_]\w*\s*=[^,=]*(,\s*[A-Za-z_]\w*\s*=[^,=]*)*")


def parse_env_kwargs(text: str | None) -> dict[str, Any]:
    """:param text: ``--env-kwargs``: ``KEY=VALUE[,KEY=VALUE...]`` (``observation=camera``; values read as
        YAML scalars), a YAML/JSON mapping (``'{observation: camera}'``) or an rl-zoo ``dict(...)``
        string, read as data. :return: the arguments (empty for None)."""
    if text is None:
        return {}
    if _PAIRS.fullmatch(text) and not text.strip().startswith("dict("):
        pairs = [item.split("=", 1) for item in text.split(",")]
        return parse_policy_kwargs({key.strip(): yaml.safe_load(value.strip() or "null") for key, value in pairs},
                                   "--env-kwargs")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    return parse_policy_kwargs(value if isinstance(value, dict) else text, "--env-kwargs")


def run(args: argparse.Namespace) -> int:
    """Train (or resume) and print where the run folder is.

    :param args: parsed arguments.
    :return: exit status 0.
    """
    if args.resume:
        folder = RunFolder.open(args.resume)
        config = extend_run(folder.path, args.timesteps) if args.timesteps else folder.config()
        print(f"resuming {folder.path} ({config.algo} {config.policy} on {config.env_id})")
        train_run(config, folder.path, progress_bar=not args.no_progress, trust_pickle=args.trust_pickle)
        print(f"run folder: {folder.path}")
        return 0
    if not args.env:
        raise UserError("give an env id to train on, or --resume RUN_DIR")
    given_kwargs = parse_env_kwargs(args.env_kwargs)
    recipe = _recipe(args, given_kwargs)
    policy = args.policy or recipe.policy or "CfCPolicy"
    config = RunConfig(
        env_id=args.env, policy=policy, algo=args.algo,
        timesteps=args.timesteps or recipe.n_timesteps or 100_000, seed=args.seed,
        n_envs=args.n_envs or recipe.n_envs or 1, hyperparams=recipe.hyperparams,
        env_kwargs={**recipe.env_kwargs, **given_kwargs}, normalize=recipe.normalize,
        checkpoint_freq=args.checkpoint_freq, eval_freq=args.eval_freq, eval_episodes=args.eval_episodes,
        train_shift=list(args.train_shift or recipe.train_shift),
    )
    config.validate()
    out = Path(args.out) if args.out else default_run_dir(args.env, policy, args.seed)
    if (out / "run.json").exists():
        raise UserError(f"run folder {out} exists: continue it with --resume {out}, or choose --out")
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out} exists and is not empty; choose another --out")
    print(f"training {config.algo} {policy} on {args.env} for {config.timesteps} steps -> {out}")
    train_run(config, out, progress_bar=not args.no_progress)
    print(f"run folder: {out} (model/, weights/, checkpoints/, tb/, eval.csv)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "train", help="train a policy into a run folder",
        description="Train a policy; the run folder gets the resolved config, the model and a deployable policy (weights-only), "
        "TensorBoard logs, atomic checkpoints and an eval log. --resume continues a killed run.",
    )
    parser.add_argument("env", nargs="?", help="Gymnasium env id, e.g. NCPControl/LaneKeeping-v0")
    parser.add_argument("--policy", default=None, help="policy alias (default CfCPolicy, or the config file's)")
    parser.add_argument("--algo", default="LiquidPPO", choices=sorted(algorithms()), help="algorithm (default LiquidPPO)")
    parser.add_argument("--timesteps", type=int, default=None,
                        help="training steps (default: config file or 100000); with --resume, the run's new total "
                        "(extends a finished run)")
    parser.add_argument("--config", default=None,
                        help="hyperparameters YAML (rl-zoo3 style or flat), or the name of a shipped recipe file "
                        "(e.g. lane_keeping_camera); default: the package's tuned recipe of the task and its "
                        "--env-kwargs, if any")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--n-envs", type=int, default=None, help="parallel envs (default: config file or 1)")
    parser.add_argument("--env-kwargs", default=None, metavar="MAPPING",
                        help="env constructor arguments, e.g. observation=camera, '{observation: camera}' (YAML) or "
                        "'dict(observation=\"camera\")'; stored with the run and used by evaluate, robustness, "
                        "inspect and export (they win over the config file's env_kwargs)")
    parser.add_argument("--out", default=None, help="run folder (default runs/<env>__<policy>__seed<S>)")
    parser.add_argument("--checkpoint-freq", type=int, default=10_000, help="steps between checkpoints (0: none)")
    parser.add_argument("--eval-freq", type=int, default=10_000, help="steps between evaluations (0: none)")
    parser.add_argument("--eval-episodes", type=int, default=5, help="episodes per evaluation (default 5)")
    parser.add_argument("--train-shift", action="append", default=None, metavar="SUITE_OR_NAME[:MAX_LEVEL]",
                        help="train under shift (repeatable): at each reset a perturbation of the suite (or the "
                        "named perturbation) and a level in [0, MAX_LEVEL] (default 1) are drawn from the env's "
                        "seed; wins over the config file's train_shift")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_trust_pickle(parser)
    parser.set_defaults(func=run)
