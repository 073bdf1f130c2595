"""``ncp-control train ENV``: train a policy into a run folder (resumable with ``--resume``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from agents.robustness.evaluate import make_env
from agents.runs import RunConfig, RunFolder, algorithms, load_hyperparams, train_run
from scripts.commands import add_trust_pickle


def default_run_dir(env_id: str, policy: str, seed: int) -> Path:
    """:return: ``runs/<env>__<policy>__seed<seed>`` (relative to the working directory)."""
    return Path("runs") / f"{re.sub(r'[^A-Za-z0-9.-]+', '-', env_id).strip('-')}__{policy}__seed{seed}"


def _tuned(env_id: str, algo: str, policy: str | None) -> dict:
    """The package's tuned LiquidPPO hyperparameters for ``env_id``, if it has them."""
    if algo != "LiquidPPO":
        return {}
    from agents.zoo import hyperparams_file

    try:
        params = load_hyperparams(hyperparams_file(), env_id, policy)
    except ValueError:
        return {}
    print(f"using the tuned hyperparameters of {env_id} from {hyperparams_file()}")
    return params


def run(args: argparse.Namespace) -> int:
    """Train (or resume) and print where the run folder is.

    :param args: parsed arguments.
    :return: exit status 0.
    """
    if args.resume:
        folder = RunFolder.open(args.resume)
        config = folder.config()
        print(f"resuming {folder.path} ({config.algo} {config.policy} on {config.env_id})")
        train_run(config, folder.path, progress_bar=not args.no_progress, trust_pickle=args.trust_pickle)
        print(f"run folder: {folder.path}")
        return 0
    if not args.env:
        raise ValueError("give an env id to train on, or --resume RUN_DIR")
    params = (
        load_hyperparams(args.config, args.env, args.policy)
        if args.config
        else _tuned(args.env, args.algo, args.policy)
    )
    n_envs = int(params.pop("n_envs", 1)) if args.n_envs is None else args.n_envs
    file_steps = params.pop("n_timesteps", None)
    file_policy = params.pop("policy", None)
    policy = args.policy or file_policy or "CfCPolicy"
    timesteps = args.timesteps or (int(float(file_steps)) if file_steps is not None else 100_000)
    config = RunConfig(
        env_id=args.env, policy=policy, algo=args.algo, timesteps=timesteps, seed=args.seed, n_envs=n_envs,
        hyperparams=params, checkpoint_freq=args.checkpoint_freq, eval_freq=args.eval_freq,
        eval_episodes=args.eval_episodes,
    )
    config.validate()
    make_env(args.env).close()
    out = Path(args.out) if args.out else default_run_dir(args.env, policy, args.seed)
    if (out / "run.json").exists():
        raise ValueError(f"run folder {out} exists: continue it with --resume {out}, or choose --out")
    if out.exists() and any(out.iterdir()):
        raise ValueError(f"{out} exists and is not empty; choose another --out")
    print(f"training {config.algo} {policy} on {args.env} for {timesteps} steps -> {out}")
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
    parser.add_argument("--timesteps", type=int, default=None, help="training steps (default: config file or 100000)")
    parser.add_argument("--config", default=None,
                        help="hyperparameters YAML (rl-zoo3 style or flat; default: the package's tuned ones, if any)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--n-envs", type=int, default=None, help="parallel envs (default: config file or 1)")
    parser.add_argument("--out", default=None, help="run folder (default runs/<env>__<policy>__seed<S>)")
    parser.add_argument("--checkpoint-freq", type=int, default=10_000, help="steps between checkpoints (0: none)")
    parser.add_argument("--eval-freq", type=int, default=10_000, help="steps between evaluations (0: none)")
    parser.add_argument("--eval-episodes", type=int, default=5, help="episodes per evaluation (default 5)")
    parser.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_trust_pickle(parser)
    parser.set_defaults(func=run)
