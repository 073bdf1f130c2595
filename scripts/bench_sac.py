"""Off-policy training throughput: LiquidSAC's recurrent updates against SB3 SAC with an MLP.

Gradient steps per second of ``train`` on HalfCheetah-v5 (by default) at the same batch size
(in steps: LiquidSAC's batch is ``batch_size // seq_len`` sequences of ``seq_len`` steps, each
after a burn-in of ``burn_in`` entries), with one torch thread, after both replay buffers are
filled with the same number of random steps. The algorithms are timed in interleaved rounds.
Prints a table and the ratios to SB3 SAC (target: >= 0.3x).

``ncp-control bench sac [--policies CfCPolicy LSTMPolicy] [--batch-size 256] [--seq-len 32] [--burn-in 8] ...``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import torch


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ncp-control bench sac", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="HalfCheetah-v5", help="Gymnasium env id (Box actions)")
    parser.add_argument("--policies", nargs="+", default=["CfCPolicy", "LSTMPolicy"], help="LiquidSAC policies to time")
    parser.add_argument("--batch-size", type=int, default=256, help="steps per gradient step (both algorithms)")
    parser.add_argument("--seq-len", type=int, default=32, help="LiquidSAC sequence length")
    parser.add_argument("--burn-in", type=int, default=16, help="LiquidSAC burn-in entries")
    parser.add_argument("--fill", type=int, default=2000, help="random env steps in each replay buffer first")
    parser.add_argument("--steps", type=int, default=200, help="timed gradient steps per algorithm")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved timing rounds")
    return parser


def _timed(models: dict[str, Any], batch_size: int, steps: int, rounds: int) -> dict[str, float]:
    """:return: name -> gradient steps per second over all its rounds (each model's ``train``)."""
    from ncp_control.agents.progress import Progress

    seconds = dict.fromkeys(models, 0.0)
    per_round = max(1, steps // rounds)
    with Progress(rounds * len(models), "rounds", "timing") as bar:
        for _ in range(rounds):
            for name, model in models.items():
                bar.describe(f"timing {name}")
                start = time.perf_counter()
                model.train(gradient_steps=per_round, batch_size=batch_size)
                seconds[name] += time.perf_counter() - start
                bar.advance()
    return {name: per_round * rounds / seconds[name] for name in models}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    :param argv: command-line arguments (see ``--help``).
    :return: exit status 0.
    """
    args = _parser().parse_args(argv)
    torch.set_num_threads(1)
    import ncp_control.envs  # noqa: F401  (registers NCPControl/ ids)
    from ncp_control.agents import LiquidSAC
    from stable_baselines3 import SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.logger import configure

    def env() -> Any:
        return make_vec_env(args.env, n_envs=1, seed=0)

    common = {"batch_size": args.batch_size, "learning_starts": args.fill, "gradient_steps": 0, "seed": 0, "device": "cpu"}
    models: dict[str, Any] = {
        f"LiquidSAC {policy}": LiquidSAC(policy, env(), seq_len=args.seq_len, burn_in=args.burn_in, **common)
        for policy in args.policies
    }
    models["SB3 SAC MlpPolicy"] = SAC("MlpPolicy", env(), **common)
    for model in models.values():
        model.learn(args.fill)  # random actions into the buffer, no update
        model.set_logger(configure(None, []))
    rates = _timed(models, args.batch_size, args.steps, args.rounds)
    anchor = rates["SB3 SAC MlpPolicy"]
    print(f"{args.env}, batch {args.batch_size} steps (LiquidSAC: {args.batch_size // args.seq_len} sequences of "
          f"{args.seq_len} after a burn-in of {args.burn_in}), {args.steps} timed gradient steps in {args.rounds} "
          "interleaved rounds, 1 thread")
    print(f"| {'algorithm':<28} | gradient steps/s | x SB3 SAC |")
    print(f"|{'-' * 30}|------------------|-----------|")
    for name, rate in rates.items():
        print(f"| {name:<28} | {rate:16.1f} | {rate / anchor:9.2f} |")
    print("target: LiquidSAC >= 0.3x SB3 SAC")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
