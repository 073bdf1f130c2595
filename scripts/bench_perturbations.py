"""``ncp-control bench perturbations``: step-time overhead of a stack of perturbation wrappers.

Times the bare environment (as ``gym.make`` returns it) and the same environment under a
stack of perturbations built by ``perturbations.compose`` (one wrapper layer), and for
reference under the same perturbations nested one wrapper each (``make_stack``), in
interleaved blocks (so that load on the machine hits all alike), in CPU time of this
process (time spent waiting for a busy CPU does not count), and prints two estimates of
each overhead: from the fastest block of each variant, and the median over rounds of the
ratio to the bare env's block of the same round (paired, so that a busy spell that slows
one round slows both sides of its ratio). Target: a stack of three perturbations costs less
than 20% of the quadrotor's step time.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
from ncp_control.envs import perturbations

from ncp_control import envs
from ncp_control.errors import UserError

#: default stack: one perturbation each from the observation, action and dynamics families.
DEFAULT_STACK = ("gaussian_noise", "actuator_lag", "gust")


def _block(env: gym.Env, steps: int) -> float:
    """:return: seconds per step over ``steps`` hover-command steps (resets not timed)."""
    action = np.zeros(env.action_space.shape or (), dtype=np.float32)
    elapsed = 0.0
    done = 0
    while done < steps:
        start = time.process_time()
        for _ in range(steps - done):
            done += 1
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                break
        elapsed += time.process_time() - start
        if terminated or truncated:
            env.reset()
    return elapsed / steps


def measure(env_id: str, stack: list[str], level: float, steps: int, rounds: int) -> dict[str, list[float]]:
    """Time the bare, the composed and the nested perturbed env in interleaved blocks.

    :param env_id: environment id.
    :param stack: perturbation names, innermost first.
    :param level: level of every perturbation.
    :param steps: steps per block.
    :param rounds: blocks per variant.
    :return: seconds per step of every round's block, per variant: ``bare``, ``composed``,
        ``nested``.
    """
    entries: list[perturbations.registry.Entry] = [(name, level) for name in stack]
    variants = {
        "bare": gym.make(env_id),
        "composed": perturbations.compose(gym.make(env_id), entries),
        "nested": perturbations.make_stack(gym.make(env_id), entries),
    }
    for env in variants.values():
        env.reset(seed=0)
        _block(env, steps)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, env in variants.items():
            times[name].append(_block(env, steps))
    return times


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the overhead ratio.

    :param argv: command-line arguments (see ``--help``).
    :return: exit status (0).
    """
    parser = argparse.ArgumentParser(prog="ncp-control bench perturbations", description=__doc__.split("\n")[0])
    parser.add_argument("--env", default="NCPControl/QuadHover-v0", help="environment id")
    parser.add_argument("--stack", default=",".join(DEFAULT_STACK), help="comma-separated perturbations")
    parser.add_argument("--level", type=float, default=0.5, help="level of every perturbation")
    parser.add_argument("--steps", type=int, default=2000, help="steps per timed block")
    parser.add_argument("--rounds", type=int, default=20, help="timed blocks per variant")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.rounds < 1:
        raise UserError("--steps and --rounds must be at least 1")
    stack = [name.strip() for name in args.stack.split(",") if name.strip()]
    for name in stack:
        perturbations.get(name)
    env_id = args.env
    if env_id not in gym.registry:
        raise UserError(f"unknown environment {env_id!r}; e.g. one of {sorted(envs.OWN_TASKS)}")
    times = measure(env_id, stack, args.level, args.steps, args.rounds)
    bare = min(times["bare"])
    print(f"env {env_id}, stack {' + '.join(stack)} at level {args.level}, {args.rounds} rounds of {args.steps} steps")
    print(f"bare env step        {bare * 1e6:8.2f} us")
    for name, label in (("composed", "compose (one layer)"), ("nested", "nested wrappers")):
        wrapped = min(times[name])
        paired = float(np.median([w / b for w, b in zip(times[name], times["bare"])]))
        print(f"{label:20s} {wrapped * 1e6:8.2f} us  (+{(wrapped - bare) * 1e6:.2f} us)  "
              f"overhead {(wrapped - bare) / bare * 100:5.1f} % (fastest blocks), "
              f"{(paired - 1) * 100:5.1f} % (median paired ratio)")
    print("target: compose overhead < 20%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
