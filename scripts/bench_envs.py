"""Steps per second of every NCPControl environment, against raw HalfCheetah-v5 in the same run.

Every environment is made with ``gym.make`` (so with Gymnasium's standard wrappers, as a user
gets it) and stepped with uniformly random actions drawn beforehand, resetting when an episode
ends, on one core. Prints steps/s, the ratio to the anchor, and the target of each task.

Run: ``ncp-control bench envs [--seconds S] [--filter TEXT] [--strict]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym

import envs

ANCHOR: tuple[str, dict[str, Any]] = ("HalfCheetah-v5", {})
#: (id, make arguments, target steps/s or None): our own tasks in each observation mode.
OWN_CASES: list[tuple[str, dict[str, Any], float | None]] = [
    ("NCPControl/LaneKeeping-v0", {}, 20_000.0),
    ("NCPControl/LaneKeeping-v0", {"observation": "camera"}, 2_000.0),
    ("NCPControl/QuadHover-v0", {}, 5_000.0),
    ("NCPControl/QuadWaypoints-v0", {}, 5_000.0),
    ("NCPControl/QuadFlyToTarget-v0", {}, 5_000.0),
    ("NCPControl/QuadFlyToTarget-v0", {"observation": "camera"}, 2_000.0),
]


def random_actions(space: gym.Space, count: int, seed: int) -> list[Any]:
    """Uniformly random actions, drawn before timing so that sampling is not measured.

    :param space: the action space (Box or Discrete).
    :param count: how many.
    :param seed: random seed.
    :return: ``count`` actions.
    """
    space.seed(seed)
    return [space.sample() for _ in range(count)]


def steps_per_second(env_id: str, kwargs: dict[str, Any], seconds: float, seed: int = 0) -> float:
    """Measure one environment.

    :param env_id: the id.
    :param kwargs: arguments for ``gym.make``.
    :param seconds: least time to step (s); the best of three runs of about a third each is kept.
    :param seed: seed of the episodes and actions.
    :return: steps per second.
    """
    env = gym.make(env_id, **kwargs)
    env.reset(seed=seed)
    probe = time.perf_counter()
    for action in random_actions(env.action_space, 50, seed):
        if any(env.step(action)[2:4]):
            env.reset()
    per_step = (time.perf_counter() - probe) / 50
    count = max(100, int(seconds / 3 / max(per_step, 1e-7)))
    actions = random_actions(env.action_space, count, seed)
    best = 0.0
    for _ in range(3):
        env.reset(seed=seed)
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        best = max(best, count / (time.perf_counter() - start))
    env.close()
    return best


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
    parser.add_argument("--seconds", type=float, default=1.5, help="time per environment (s), > 0")
    parser.add_argument("--filter", default="", help="only ids containing this text")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 if a target is missed")
    args = parser.parse_args(argv)
    if not args.seconds > 0:
        raise ValueError(f"--seconds must be positive, got {args.seconds}")
    cases = OWN_CASES + [(env_id, {}, None) for env_id in envs.NO_VELOCITY_TASKS]
    cases = [c for c in cases if args.filter in c[0]]
    anchor = steps_per_second(ANCHOR[0], ANCHOR[1], args.seconds)
    print(f"anchor: raw {ANCHOR[0]}, random actions: {anchor:,.0f} steps/s")
    print(f"{'environment':<48} {'steps/s':>10} {'vs anchor':>10} {'target':>8}  met")
    missed = 0
    for env_id, kwargs, target in cases:
        try:
            rate = steps_per_second(env_id, kwargs, args.seconds)
        except (ImportError, AttributeError) as error:  # a task whose module is not in the tree yet
            print(f"{label(env_id, kwargs):<48} skipped: not importable ({error})")
            continue
        met = "-" if target is None else ("yes" if rate >= target else "NO")
        missed += met == "NO"
        target_text = "-" if target is None else f"{target:,.0f}"
        print(f"{label(env_id, kwargs):<48} {rate:>10,.0f} {rate / anchor:>9.2f}x {target_text:>8}  {met}")
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
