"""Elapsed time from the env to the network: seconds to timespans, one time unit, one first step.

The one place in ``agents`` where time is decided (see *Time and timespans* in the concepts page):

- the time unit (:func:`default_time_unit`): seconds per unit of timespan; by default the
  env's nominal control period (:func:`ncp_control.envs.period.nominal_period`), so that a
  step at the nominal rate lasts 1.0, and one second for an env that states no period;
- the conversion (:func:`ncp_control.timespans.to_timespans`): ``timespan = seconds / time_unit``,
  of a user's ``dt`` (:func:`elapsed_seconds`, ``predict``) or the env's ``info["dt"]``
  (:func:`timespans_from_infos`, rollouts);
- the first step of an episode (:func:`first_step_seconds`): one nominal control period,
  whatever reset's info says; every runner (LiquidPPO's rollouts, the episode runner behind
  evaluation, robustness and the CLI, the sb3-contrib adapter) passes it.

Timespans are finite and >= 0; anything else is refused with one line naming its source.
"""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.period import nominal_period, period_from, usable_period
from stable_baselines3.common.vec_env import VecEnv

from ncp_control.errors import UserError
from ncp_control.timespans import check_time_unit, to_timespans

#: Seconds assumed for the control period of an env that states none.
FALLBACK_PERIOD = 1.0


def time_unit_argument(time_unit: float | None, dt_nominal: float | None, stacklevel: int = 3) -> float | None:
    """Read ``time_unit`` and its deprecated alias ``dt_nominal`` (which warns).

    :param time_unit: seconds per unit of timespan, or None.
    :param dt_nominal: the deprecated name of ``time_unit``.
    :param stacklevel: of the DeprecationWarning.
    :return: the checked time unit, or None when neither is given.
    :raises UserError: for both, or a value that is not finite and > 0.
    """
    if dt_nominal is not None:
        warnings.warn("dt_nominal is deprecated; use time_unit (seconds per unit of timespan)", DeprecationWarning,
                      stacklevel=stacklevel)
        if time_unit is not None:
            raise UserError("give time_unit, not both time_unit and its deprecated alias dt_nominal")
        return check_time_unit(dt_nominal, "dt_nominal")
    return None if time_unit is None else check_time_unit(time_unit)


def policy_kwargs_with_time_unit(policy_kwargs: dict[str, Any], time_unit: float | None, algo: str) -> dict[str, Any]:
    """An algorithm's ``policy_kwargs`` with its ``time_unit`` argument in them (the policy owns the number).

    :param policy_kwargs: the algorithm's policy arguments.
    :param time_unit: the algorithm's (checked) ``time_unit`` argument, or None.
    :param algo: the algorithm's name, for the error.
    :return: the arguments (unchanged for None).
    :raises UserError: when both give a time unit.
    """
    if time_unit is None:
        return policy_kwargs
    if "time_unit" in policy_kwargs:
        raise UserError(f"give time_unit once: as {algo}'s argument or in policy_kwargs, not both")
    return {**policy_kwargs, "time_unit": time_unit}


def env_period(env: gym.Env | VecEnv | None) -> float:
    """The nominal control period of an env or of a VecEnv's first env.

    :param env: the environment, or None.
    :return: seconds (:data:`FALLBACK_PERIOD` where none is stated).
    """
    if env is None:
        return FALLBACK_PERIOD
    if isinstance(env, VecEnv):
        found = period_from(lambda name: env.get_attr(name, indices=[0])[0])
    else:
        found = nominal_period(env)
    return FALLBACK_PERIOD if found is None else found


def default_time_unit(env: gym.Env | VecEnv | None) -> float:
    """The default time unit: the env's nominal control period (timespan 1.0 at the nominal rate).

    :param env: the environment, or None.
    :return: seconds per unit of timespan.
    """
    return env_period(env)


def first_step_seconds(env: gym.Env | VecEnv | None) -> float:
    """The elapsed time of the first step of an episode: one nominal control period.

    :param env: the environment.
    :return: seconds.
    """
    return env_period(env)


def elapsed_seconds(dt: Any, n: int, default: float) -> np.ndarray:
    """A user's elapsed time per env, checked.

    :param dt: seconds since the previous observation: a scalar, ``[n]``, or None.
    :param n: number of envs.
    :param default: seconds to use for None (one time unit).
    :return: ``[n]`` float32 seconds.
    :raises UserError: for another shape, or a value that is not finite and >= 0.
    """
    try:
        seconds = np.broadcast_to(np.asarray(default if dt is None else dt, dtype=np.float32), (n,)).copy()
    except (TypeError, ValueError):
        raise UserError(f"dt must be a number of seconds or one per env ([{n}]), got {dt!r}") from None
    bad = seconds[~(np.isfinite(seconds) & (seconds >= 0))]
    if bad.size:
        raise UserError(f"dt must be finite and >= 0 seconds (the time since the previous observation), got {bad[0]}")
    return seconds


def timespans_from_infos(infos: list[dict[str, Any]], time_unit: float, use_info_dt: bool = True) -> np.ndarray:
    """Per-env timespans from step infos.

    :param infos: one info dict per env.
    :param time_unit: seconds per unit of timespan.
    :param use_info_dt: read ``info["dt"]`` (False: every step lasts one time unit, the
        algorithms' ``use_info_dt=False``).
    :return: ``[n_envs]`` float32: ``info["dt"] / time_unit``, or 1 where no dt is reported.
    :raises UserError: for an ``info["dt"]`` that is not finite and >= 0, or a bad ``time_unit``.
    """
    unit = check_time_unit(time_unit)
    timespans = np.ones(len(infos), dtype=np.float32)
    if not use_info_dt:
        return timespans
    for index, info in enumerate(infos):
        if "dt" not in info:
            continue
        seconds = info["dt"]
        if not (seconds == 0 and not isinstance(seconds, bool)) and usable_period(seconds) is None:
            raise UserError(
                f"info['dt'] of env {index} must be finite and >= 0 seconds, got {info['dt']!r}: fix the env's "
                "step, or train with use_info_dt=False"
            )
        timespans[index] = to_timespans(float(seconds), unit)
    return timespans
