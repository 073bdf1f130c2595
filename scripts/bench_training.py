"""Training throughput: LiquidPPO(CfC, AutoNCP) against sb3-contrib RecurrentPPO(LSTM) and SB3 PPO.

Env steps per second of ``learn`` (rollouts and updates) on HalfCheetah-v5 with
``n_envs`` DummyVecEnv envs and one torch thread, all three with the same ``n_steps``,
batch size and epochs, timed in the same run in interleaved rounds. Prints a table and the ratios
(targets: >= 4x RecurrentPPO; aim: 0.8x PPO).

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
    parser.add_argument("--rounds", type=int, default=4, help="interleaved timing rounds")
    parser.add_argument("--skip", nargs="*", default=[], choices=["recurrent_ppo", "ppo"], help="anchors to skip")
    return parser


def _interleaved(makers: dict[str, Callable[[], Any]], steps: int, warmup: int, rounds: int) -> dict[str, float]:
    """Time every algorithm in alternating rounds, so that a change of machine load during the
    run falls on all of them alike.

    :param makers: name -> model factory.
    :param steps: timed env steps per algorithm (split over the rounds).
    :param warmup: untimed env steps first.
    :param rounds: number of rounds.
    :return: name -> env steps per second over all its rounds.
    """
    models = {name: make() for name, make in makers.items()}
    for model in models.values():
        model.learn(warmup)
    seconds = dict.fromkeys(models, 0.0)
    done = dict.fromkeys(models, 0)
    from ncp_control.agents.progress import Progress

    per_round = max(1, steps // rounds)
    with Progress(rounds * len(models), "rounds", "timing") as bar:
        for _ in range(rounds):
            for name, model in models.items():
                bar.describe(f"timing {name}")
                before = model.num_timesteps
                start = time.perf_counter()
                model.learn(per_round, reset_num_timesteps=False)
                seconds[name] += time.perf_counter() - start
                done[name] += model.num_timesteps - before
                bar.advance()
    return {name: done[name] / seconds[name] for name in models}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    :param argv: command-line arguments (see ``--help``).
    :return: exit status 0.
    """
    args = _parser().parse_args(argv)
    torch.set_num_threads(1)
    import ncp_control.envs  # noqa: F401  (registers NCPControl/ ids)
    from ncp_control.agents import LiquidPPO
    from sb3_contrib import RecurrentPPO
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    common = {"n_steps": args.n_steps, "batch_size": args.batch_size, "n_epochs": args.n_epochs, "seed": 0, "device": "cpu"}
    warmup = args.n_steps * args.n_envs

    def env() -> Any:
        return make_vec_env(args.env, n_envs=args.n_envs, seed=0)

    def liquid(critic: str) -> Callable[[], Any]:
        kwargs = {"units": args.units, "critic": critic}
        return lambda: LiquidPPO("CfCPolicy", env(), seq_len=args.seq_len, policy_kwargs=kwargs, **common)

    makers: dict[str, Callable[[], Any]] = {
        f"LiquidPPO CfCPolicy AutoNCP({args.units}), {critic} critic": liquid(critic) for critic in args.critics
    }
    names = {"recurrent_ppo": "sb3-contrib RecurrentPPO MlpLstmPolicy", "ppo": "SB3 PPO MlpPolicy"}
    if "recurrent_ppo" not in args.skip:
        makers[names["recurrent_ppo"]] = lambda: RecurrentPPO("MlpLstmPolicy", env(), **common)
    if "ppo" not in args.skip:
        makers[names["ppo"]] = lambda: PPO("MlpPolicy", env(), **common)
    rates = _interleaved(makers, args.steps, warmup, args.rounds)
    rows = list(rates.items())
    anchors: dict[str, float] = {}
    if "recurrent_ppo" not in args.skip:
        anchors["RecurrentPPO"] = rates[names["recurrent_ppo"]]
    if "ppo" not in args.skip:
        anchors["PPO"] = rates[names["ppo"]]
    print(f"{args.env}, {args.n_envs} envs, n_steps {args.n_steps}, batch {args.batch_size}, {args.n_epochs} epochs, "
          f"{args.steps} timed steps in {args.rounds} interleaved rounds, 1 thread")
    header = "".join(f" x {name} |" for name in anchors)
    print(f"| {'algorithm':<48} | env steps/s |{header}")
    print(f"|{'-' * 50}|-------------|" + "".join("-" * (len(name) + 4) + "|" for name in anchors))
    for name, rate in rows:
        ratios = "".join(f" {rate / ref:{len(n) + 2}.2f} |" for n, ref in anchors.items())
        print(f"| {name:<48} | {rate:11.0f} |{ratios}")
    print("targets: LiquidPPO >= 4x RecurrentPPO; aim: 0.8x PPO")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
