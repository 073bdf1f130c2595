"""Steps per second of every NCPControl environment, against raw HalfCheetah-v5 in the same run.

Every environment is made with ``gym.make`` (so with Gymnasium's standard wrappers, as a user
gets it) and stepped with uniformly random actions drawn beforehand, resetting when an episode
ends, on one core. The anchor and each environment run in alternating short turns, so that a
machine shared with other work loads both alike; the ratio is the median over the turns. Prints
steps/s, the ratio to the anchor, the rate this ratio means on an idle core (ratio times the
anchor's idle rate), and the target of each task; a target counts as met when either the measured
rate or the idle estimate reaches it.

Run: ``ncp-control bench envs [--seconds S] [--filter TEXT] [--strict]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import numpy as np

from ncp_control import envs
from ncp_control.errors import UserError

ANCHOR: tuple[str, dict[str, Any]] = ("HalfCheetah-v5", {})
#: Steps/s of the anchor on an idle core of the reference machine kind (ANCHORS: about 6000).
ANCHOR_IDLE = 6000
#: (id, make arguments, target steps/s or None): our own tasks in each observation mode.
OWN_CASES: list[tuple[str, dict[str, Any], float | None]] = [
    ("NCPControl/LaneKeeping-v0", {}, 20_000.0),
    ("NCPControl/LaneKeeping-v0", {"observation": "camera"}, 2_000.0),
    ("NCPControl/QuadHover-v0", {}, 5_000.0),
    ("NCPControl/QuadWaypoints-v0", {}, 5_000.0),
    ("NCPControl/QuadFlyToTarget-v0", {}, 5_000.0),
    ("NCPControl/QuadFlyToTarget-v0", {"observation": "camera"}, 2_000.0),
]


class Stepper:
    """One environment stepped with random actions drawn beforehand, resetting when episodes end.

    :param env_id: the id.
    :param kwargs: arguments for ``gym.make``.
    :param seed: seed of the episodes and actions.
    """

    def __init__(self, env_id: str, kwargs: dict[str, Any], seed: int = 0) -> None:
        self.env = gym.make(env_id, **kwargs)
        self.env.reset(seed=seed)
        self.env.action_space.seed(seed)
        self.actions = [self.env.action_space.sample() for _ in range(4096)]
        self.position = 0

    def rate(self, seconds: float) -> float:
        """Step for about ``seconds`` (sampling excluded).

        :return: steps per second.
        """
        env, actions = self.env, self.actions
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(64):
                _, _, terminated, truncated, _ = env.step(actions[self.position])
                self.position = (self.position + 1) % len(actions)
                if terminated or truncated:
                    env.reset()
            count += 64
        return count / (time.perf_counter() - start)


def paired(case: Stepper, anchor: Stepper, seconds: float, rounds: int = 5) -> tuple[float, float, float]:
    """Alternate the anchor and one environment in short turns, so that both see the same load.

    :param case: the environment measured.
    :param anchor: the anchor.
    :param seconds: total time for the environment (s); the anchor gets as much.
    :param rounds: number of turns.
    :return: best steps/s of the environment, best of the anchor, median ratio of the turns.
    """
    case.rate(0.05)  # warm up
    rates, anchors = [], []
    for _ in range(rounds):
        anchors.append(anchor.rate(seconds / rounds))
        rates.append(case.rate(seconds / rounds))
    return max(rates), max(anchors), float(np.median(np.array(rates) / np.array(anchors)))


def label(env_id: str, kwargs: dict[str, Any]) -> str:
    """:return: a short row name, e.g. ``LaneKeeping-v0 (observation=camera)``."""
    name = env_id.split("/")[-1]
    return name + (" (" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")" if kwargs else "")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark.

    :param argv: command-line arguments (see ``--help``).
    :return: 0, or 1 with ``--strict`` when a target is missed.
    """
    parser = argparse.ArgumentParser(prog="ncp-control bench envs", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per environment (s), as much again for the anchor; > 0")
    parser.add_argument("--filter", default="", help="only ids containing this text")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 if a target is missed")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        raise UserError(f"--seconds must be positive, got {args.seconds}")
    cases = OWN_CASES + [(env_id, {}, None) for env_id in envs.NO_VELOCITY_TASKS]
    cases = [c for c in cases if args.filter in c[0]]
    anchor = Stepper(*ANCHOR)
    print(f"anchor: raw {ANCHOR[0]} with random actions, measured in turns with each environment;")
    print(f"'est. idle' = ratio x {ANCHOR_IDLE:,} steps/s, the anchor's rate on an idle core of this machine kind")
    print(f"{'environment':<44} {'steps/s':>9} {'anchor':>7} {'ratio':>7} {'est. idle':>10} {'target':>7}  met")
    missed = 0
    for env_id, kwargs, target in cases:
        try:
            case = Stepper(env_id, kwargs)
        except (ImportError, AttributeError) as error:  # a task whose module is not in the tree yet
            print(f"{label(env_id, kwargs):<44} skipped: not importable ({error})")
            continue
        rate, anchor_rate, ratio = paired(case, anchor, args.seconds)
        estimate = ratio * ANCHOR_IDLE
        met = "-" if target is None else ("yes" if max(rate, estimate) >= target else "NO")
        missed += met == "NO"
        target_text = "-" if target is None else f"{target:,.0f}"
        print(f"{label(env_id, kwargs):<44} {rate:>9,.0f} {anchor_rate:>7,.0f} {ratio:>6.2f}x {estimate:>10,.0f} {target_text:>7}  {met}")
        case.env.close()
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
