"""Checks at the environment boundary: an action of the wrong size or with NaN/inf is refused
with one clear error instead of being broadcast, truncated or silently ignored."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_action(action: Any, size: int, env_name: str) -> np.ndarray:
    """The action as a float array of ``size`` finite values.

    :param action: what ``step`` received.
    :param size: the action space's number of values.
    :param env_name: the env, for the message.
    :return: a ``[size]`` float64 array (a view where possible).
    :raises ValueError: for another number of values or a non-finite value.
    """
    array = np.asarray(action, dtype=np.float64).reshape(-1) if not isinstance(action, np.ndarray) or \
        action.ndim != 1 else action
    if array.shape[0] != size:
        raise ValueError(f"{env_name}: the action must have {size} values, got shape {np.shape(action)}")
    if not math.isfinite(float(np.sum(array))):
        raise ValueError(f"{env_name}: the action must be finite, got {np.asarray(action).tolist()}")
    return array
