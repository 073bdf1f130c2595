"""Elapsed time from the env to the network: ``info["dt"]`` in nominal control periods."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

#: Attributes that name an env's nominal control period, in order of preference.
NOMINAL_DT_ATTRIBUTES = ("nominal_dt", "dt")


def nominal_dt_of(env: VecEnv) -> float | None:
    """The nominal control period of a VecEnv's first env, in seconds.

    :param env: the VecEnv.
    :return: its ``nominal_dt`` or ``dt`` attribute (searched through wrappers), or None.
    """
    for name in NOMINAL_DT_ATTRIBUTES:
        try:
            value = env.get_attr(name, indices=[0])[0]
        except AttributeError:
            continue
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    return None


def timespans_from_infos(infos: list[dict[str, Any]], dt_nominal: float) -> np.ndarray:
    """Per-env timespans from step infos.

    :param infos: one info dict per env.
    :param dt_nominal: nominal control period in seconds.
    :return: ``[n_envs]`` float32: ``info["dt"] / dt_nominal``, or 1 where no dt is reported.
    """
    return np.array([float(info["dt"]) / dt_nominal if "dt" in info else 1.0 for info in infos], dtype=np.float32)
