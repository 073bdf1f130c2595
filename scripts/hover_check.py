"""Learnability check of QuadHover-v0's reward: SB3 PPO (MlpPolicy, defaults, 4 envs) within 300k steps.

Trains one seed, evaluates 20 deterministic episodes on held-out seeds (10,000 + i) and
prints the success rate (hold within 10 cm for the last second) and the mean return
beside the reference controller's. Too long for CI; its measured results are in README.

``python -m ncp_control.cli.hover_check [--seed 0] [--steps 300000]``
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> int:
    """:param argv: command-line arguments (see ``--help``). :return: exit status 0."""
    import ncp_control.envs  # noqa: F401  (registers the NCPControl/ ids)
    import numpy as np
    import torch
    from ncp_control.agents.common.env_util import make_env
    from ncp_control.agents.common.eval_policies import as_eval_policy
    from ncp_control.agents.common.evaluation import run_episodes
    from ncp_control.envs.quadrotor.controller import REFERENCE_SCORES
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    parser = argparse.ArgumentParser(prog="hover_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--steps", type=int, default=300_000, help="training budget in env steps")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    env_id = "NCPControl/QuadHover-v0"
    model = PPO("MlpPolicy", make_vec_env(env_id, n_envs=4, seed=args.seed), seed=args.seed, verbose=0)
    start = time.perf_counter()
    model.learn(args.steps)
    seconds = time.perf_counter() - start
    rows = run_episodes(as_eval_policy(model), lambda: make_env(env_id), [10_000 + i for i in range(20)])
    success = np.mean([row["success"] for row in rows])
    mean_return = np.mean([row["return"] for row in rows])
    print(f"{env_id} PPO seed {args.seed}, {args.steps} steps ({seconds:.0f} s): success {success:.2f}, "
          f"mean return {mean_return:.1f} (reference controller: {REFERENCE_SCORES[env_id]})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
