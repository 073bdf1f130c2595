"""Elapsed time from the env to the network: ``info["dt"]`` in nominal control periods.

The one place where seconds become the cells' timespans: :func:`check_dt_nominal` checks the
time unit, :func:`elapsed_seconds` a user's ``dt`` (``predict``), :func:`timespans_from_infos`
the env's ``info["dt"]`` (rollouts); :func:`nominal_dt` and :func:`nominal_dt_of` read an env's
nominal control period. Timespans are finite and >= 0; anything else is refused
with one line naming its source.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from ncp_control.errors import UserError

#: Attributes that name an env's nominal control period, in order of preference.
NOMINAL_DT_ATTRIBUTES = ("nominal_dt", "dt")


def _seconds(value: Any) -> float | None:
    """:return: ``value`` as a float where it is a real number (not a bool), else None."""
    return float(value) if isinstance(value, Real) and not isinstance(value, bool) else None


def _usable_period(value: Any) -> bool:
    seconds = _seconds(value)
    return seconds is not None and math.isfinite(seconds) and seconds > 0


def check_dt_nominal(value: Any, name: str = "dt_nominal") -> float:
    """:param value: a nominal control period.
    :param name: what to call it in the error.
    :return: it as a float.
    :raises UserError: unless it is a finite number of seconds > 0."""
    if not _usable_period(value):
        raise UserError(f"{name} must be a finite number of seconds > 0 (the nominal control period), got {value!r}")
    return float(value)


def nominal_dt(env: gym.Env) -> float:
    """The nominal control period of an environment in seconds: its ``nominal_dt`` or ``dt``
    attribute (of the unwrapped env) where that is finite and > 0, else one frame at
    ``metadata["render_fps"]``, else 1.0.

    :param env: the environment.
    :return: seconds per step.
    """
    unwrapped = env.unwrapped
    for name in NOMINAL_DT_ATTRIBUTES:
        seconds = _seconds(getattr(unwrapped, name, None))
        if seconds is not None and _usable_period(seconds):
            return seconds
    fps = env.metadata.get("render_fps")
    return 1.0 / float(fps) if fps else 1.0


def nominal_dt_of(env: VecEnv) -> float | None:
    """The nominal control period of a VecEnv's first env, in seconds.

    :param env: the VecEnv.
    :return: its ``nominal_dt`` or ``dt`` attribute (searched through wrappers) where that is
        finite and > 0, or None.
    """
    for name in NOMINAL_DT_ATTRIBUTES:
        try:
            value = env.get_attr(name, indices=[0])[0]
        except AttributeError:
            continue
        if _usable_period(value):
            return float(value)
    return None


def elapsed_seconds(dt: Any, n: int, default: float) -> np.ndarray:
    """A user's elapsed time per env, checked.

    :param dt: seconds since the previous observation: a scalar, ``[n]``, or None.
    :param n: number of envs.
    :param default: seconds to use for None (one nominal period).
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


def timespans_from_infos(infos: list[dict[str, Any]], dt_nominal: float) -> np.ndarray:
    """Per-env timespans from step infos.

    :param infos: one info dict per env.
    :param dt_nominal: nominal control period in seconds.
    :return: ``[n_envs]`` float32: ``info["dt"] / dt_nominal``, or 1 where no dt is reported.
    :raises UserError: for an ``info["dt"]`` that is not finite and >= 0, or a bad ``dt_nominal``.
    """
    period = check_dt_nominal(dt_nominal)
    timespans = np.ones(len(infos), dtype=np.float32)
    for index, info in enumerate(infos):
        if "dt" not in info:
            continue
        seconds = _seconds(info["dt"])
        if seconds is None or not (math.isfinite(seconds) and seconds >= 0):
            raise UserError(
                f"info['dt'] of env {index} must be finite and >= 0 seconds, got {info['dt']!r}: fix the env's "
                "step, or train with use_info_dt=False"
            )
        timespans[index] = seconds / period
    return timespans
