"""Training throughput: LiquidPPO(CfC, AutoNCP) against sb3-contrib RecurrentPPO(LSTM) and SB3 PPO.

Env steps per second of a whole ``learn`` (rollouts and updates) on HalfCheetah-v5 with
``n_envs`` DummyVecEnv envs and one torch thread, all three with the same ``n_steps``,
batch size and epochs, timed in the same run. Prints a table and the ratios
(targets: >= 3x RecurrentPPO, >= 0.5x PPO).

``ncp-control bench training [--steps N] [--env ID] ...``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ncp-control bench training", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="HalfCheetah-v5", help="Gymnasium env id")
    parser.add_argument("--n-envs", type=int, default=8, help="parallel envs (DummyVecEnv)")
    parser.add_argument("--steps", type=int, default=8192, help="timed env steps per algorithm")
    parser.add_argument("--n-steps", type=int, default=128, help="rollout steps per env")
    parser.add_argument("--batch-size", type=int, default=256, help="minibatch size in steps")
    parser.add_argument("--n-epochs", type=int, default=5, help="epochs per update")
    parser.add_argument("--seq-len", type=int, default=32, help="LiquidPPO chunk length")
    parser.add_argument("--units", type=int, default=32, help="CfC units (AutoNCP wiring)")
    parser.add_argument("--critics", nargs="+", default=["separate", "mlp"], choices=["separate", "shared", "mlp"],
                        help="LiquidPPO critic variants to time (separate: own CfC; mlp: feed-forward)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["recurrent_ppo", "ppo"], help="anchors to skip")
    return parser


def _throughput(make: Callable[[], Any], steps: int, warmup: int) -> float:
    """:return: env steps per second of ``learn(steps)`` after a warm-up ``learn``."""
    model = make()
    model.learn(warmup)
    start = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    :param argv: command-line arguments (see ``--help``).
    :return: exit status 0.
    """
    args = _parser().parse_args(argv)
    torch.set_num_threads(1)
    from sb3_contrib import RecurrentPPO
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    import envs  # noqa: F401  (registers NCPControl/ ids)
    from agents import LiquidPPO

    common = {"n_steps": args.n_steps, "batch_size": args.batch_size, "n_epochs": args.n_epochs, "seed": 0, "device": "cpu"}
    warmup = args.n_steps * args.n_envs

    def env() -> Any:
        return make_vec_env(args.env, n_envs=args.n_envs, seed=0)

    rows: list[tuple[str, float]] = []
    def liquid(critic: str) -> Callable[[], Any]:
        kwargs = {"units": args.units, "critic": critic}
        return lambda: LiquidPPO("CfCPolicy", env(), seq_len=args.seq_len, policy_kwargs=kwargs, **common)

    for critic in args.critics:
        rows.append((f"LiquidPPO CfCPolicy AutoNCP({args.units}), {critic} critic", _throughput(liquid(critic), args.steps, warmup)))
    anchors: dict[str, float] = {}
    if "recurrent_ppo" not in args.skip:
        anchors["RecurrentPPO"] = _throughput(lambda: RecurrentPPO("MlpLstmPolicy", env(), **common), args.steps, warmup)
        rows.append(("sb3-contrib RecurrentPPO MlpLstmPolicy", anchors["RecurrentPPO"]))
    if "ppo" not in args.skip:
        anchors["PPO"] = _throughput(lambda: PPO("MlpPolicy", env(), **common), args.steps, warmup)
        rows.append(("SB3 PPO MlpPolicy", anchors["PPO"]))
    print(f"{args.env}, {args.n_envs} envs, n_steps {args.n_steps}, batch {args.batch_size}, {args.n_epochs} epochs, "
          f"{args.steps} timed steps, 1 thread")
    header = "".join(f" x {name} |" for name in anchors)
    print(f"| {'algorithm':<48} | env steps/s |{header}")
    print(f"|{'-' * 50}|-------------|" + "".join("-" * (len(name) + 4) + "|" for name in anchors))
    for name, rate in rows:
        ratios = "".join(f" {rate / ref:{len(n) + 2}.2f} |" for n, ref in anchors.items())
        print(f"| {name:<48} | {rate:11.0f} |{ratios}")
    print("targets: LiquidPPO >= 3x RecurrentPPO and >= 0.5x PPO")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
