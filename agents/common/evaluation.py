"""Running evaluation episodes: one env per episode, all in lock-step, each measured.

The one episode runner of the package: the run's periodic evaluation, ``ncp-control
evaluate`` (and its videos, through an :class:`EpisodeWatch`), ``ncp-control inspect``'s
episode and every cell of the robustness evaluation use :func:`run_episodes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.agents.common.eval_policies import EvalPolicy, stack_observations
from ncp_control.agents.timing import first_step_seconds

#: ``info`` keys read as the tracking error of a step, first match wins.
TRACKING_KEYS: tuple[str, ...] = ("tracking_error", "position_error", "lateral_error", "distance_to_target")
#: ``info`` keys of the last step read as success, first match wins.
SUCCESS_KEYS: tuple[str, ...] = ("is_success", "success")
#: ``info`` keys of the last step read as a crash, first match wins.
CRASH_KEYS: tuple[str, ...] = ("crash", "crashed")



class EpisodeWatch:
    """Follows the episodes of :func:`run_episodes` as they run (e.g. to render them): the
    runner calls :meth:`reset` once per episode, then :meth:`step` after each of its steps."""

    def reset(self, index: int, env: gym.Env, observation: Any, info: dict[str, Any]) -> None:
        """:param index: the episode. :param env: its env, just reset. :param observation: the first
        observation. :param info: reset's info."""

    def step(self, index: int, env: gym.Env, action: np.ndarray, observation: Any, reward: float,
             info: dict[str, Any], done: bool) -> None:
        """:param index: the episode. :param env: its env, just stepped. :param action: the action taken.
        :param observation: the next observation. :param reward: the step's reward. :param info: the
        step's info. :param done: whether the episode ends with this step (termination, truncation
        or the runner's ``max_steps``)."""


class Watches(EpisodeWatch):
    """Several watches of the same episodes, told in order.

    :param watches: the watches (None entries are skipped).
    """

    def __init__(self, *watches: EpisodeWatch | None) -> None:
        self.watches = [w for w in watches if w is not None]

    def reset(self, index: int, env: gym.Env, observation: Any, info: dict[str, Any]) -> None:
        for watch in self.watches:
            watch.reset(index, env, observation, info)

    def step(self, index: int, env: gym.Env, action: np.ndarray, observation: Any, reward: float,
             info: dict[str, Any], done: bool) -> None:
        for watch in self.watches:
            watch.step(index, env, action, observation, reward, info, done)


def action_smoothness(actions: np.ndarray, low: np.ndarray | None = None, high: np.ndarray | None = None) -> float:
    """Mean absolute change of the action between consecutive steps (lower is smoother).

    Actions are first rescaled to ``[-1, 1]`` with the action-space bounds when given, so
    the figure is comparable across tasks.

    :param actions: one episode's actions, shape ``[T, A]`` (or ``[T]``).
    :param low: lower bounds of the action space, shape ``[A]``.
    :param high: upper bounds of the action space, shape ``[A]``.
    :return: ``mean_t mean_a |a_t - a_{t-1}|``; 0 for an episode of one step.
    """
    array = np.asarray(actions, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    array = array.reshape(array.shape[0], -1)
    if low is not None and high is not None:
        lo = np.asarray(low, dtype=np.float64).reshape(-1)
        hi = np.asarray(high, dtype=np.float64).reshape(-1)
        finite = np.isfinite(lo) & np.isfinite(hi) & (hi > lo)
        scale = np.where(finite, (hi - lo) / 2.0, 1.0)
        array = array / scale
    if array.shape[0] < 2:
        return 0.0
    return float(np.mean(np.abs(np.diff(array, axis=0))))


def info_number(info: Mapping[str, Any], keys: Sequence[str]) -> float:
    """:param info: a step's info. :param keys: keys to try, first match wins.
    :return: the mean absolute value found (1.0 for True), NaN where none of the keys is there."""
    for key in keys:
        if key in info and info[key] is not None:
            return float(np.mean(np.abs(np.asarray(info[key], dtype=np.float64))))
    return float("nan")


def run_episodes(
    policy: EvalPolicy,
    make: Callable[[], gym.Env] | Sequence[Callable[[], gym.Env]],
    seeds: Sequence[int],
    max_steps: int | None = None,
    watch: EpisodeWatch | None = None,
) -> list[dict[str, Any]]:
    """Run one episode per seed, all in lock-step, and measure each.

    The elapsed time passed to the policy is one nominal control period on the first step
    (:func:`~ncp_control.agents.timing.first_step_seconds`, whatever reset's info says), then
    each step's ``info["dt"]``.

    :param policy: the batched policy.
    :param make: builds a fresh (possibly perturbed) environment; or one builder per episode.
    :param seeds: one reset seed per episode.
    :param max_steps: optional cap on episode length (the env's time limit applies anyway).
    :param watch: told of every reset and step (e.g. to render the episodes).
    :return: one dict per episode: ``seed``, ``return``, ``success``, ``crash``, ``length``,
        ``action_smoothness``, ``tracking_error``.
    """
    makers = list(make) if isinstance(make, Sequence) else [make] * len(seeds)
    if len(makers) != len(seeds):
        raise ValueError(f"give one env builder, or one per seed ({len(seeds)}), got {len(makers)}")
    envs = [build() for build in makers]
    try:
        count = len(envs)
        observations, dt = [], np.empty(count)
        for index, (env, seed) in enumerate(zip(envs, seeds)):
            obs, reset_info = env.reset(seed=int(seed))
            observations.append(obs)
            dt[index] = first_step_seconds(env)
            if watch is not None:
                watch.reset(index, env, obs, reset_info)
        policy.start(envs)
        active = np.ones(count, dtype=bool)
        episode_start = np.ones(count, dtype=bool)
        returns, lengths = np.zeros(count), np.zeros(count, dtype=int)
        actions: list[list[np.ndarray]] = [[] for _ in envs]
        tracking: list[list[float]] = [[] for _ in envs]
        final_info: list[dict[str, Any]] = [{} for _ in envs]
        while active.any():
            batch = policy.act(stack_observations(observations), episode_start, dt)
            episode_start[:] = False
            for index in np.flatnonzero(active).tolist():
                action = batch[index]
                obs, reward, terminated, truncated, info = envs[index].step(action)
                observations[index] = obs
                returns[index] += float(reward)
                lengths[index] += 1
                actions[index].append(np.asarray(action, dtype=np.float64).reshape(-1))
                value = info_number(info, TRACKING_KEYS)
                if not np.isnan(value):
                    tracking[index].append(value)
                dt[index] = float(info.get("dt", dt[index]))
                done = bool(terminated or truncated or (max_steps is not None and lengths[index] >= max_steps))
                if watch is not None:
                    watch.step(index, envs[index], action, obs, float(reward), info, done)
                if done:
                    active[index] = False
                    final_info[index] = dict(info)
        return [_measure(env, seeds[index], returns[index], lengths[index], actions[index], tracking[index],
                         final_info[index]) for index, env in enumerate(envs)]
    finally:
        for env in envs:
            env.close()


def _measure(env: gym.Env, seed: int, total: float, length: int, actions: list[np.ndarray], tracking: list[float],
             final_info: Mapping[str, Any]) -> dict[str, Any]:
    """One episode's row of :func:`run_episodes`."""
    space = env.action_space
    return {
        "seed": int(seed),
        "return": float(total),
        "success": info_number(final_info, SUCCESS_KEYS),
        "crash": info_number(final_info, CRASH_KEYS),
        "length": int(length),
        "action_smoothness": action_smoothness(np.stack(actions), getattr(space, "low", None),
                                               getattr(space, "high", None)),
        "tracking_error": float(np.mean(tracking)) if tracking else float("nan"),
    }
