"""An environment's nominal control period: the one place in ``envs`` that reads it.

The convention, for our environments and a user's own: an environment (or any wrapper around
it) states its nominal control period, in seconds, as a ``nominal_dt`` attribute, and its
``reset`` info carries the same number under ``"nominal_dt"``. Standard environments that
predate the convention are read through their own attributes: Gymnasium's MuJoCo tasks and
our quadrotor have ``dt``, the classic-control tasks ``tau``. ``nominal_dt`` keeps its
constructed value when a timing perturbation changes the step's length; ``dt`` may not.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

import gymnasium as gym

#: Attributes read as the nominal control period (seconds), first usable one wins.
PERIOD_ATTRIBUTES: tuple[str, ...] = ("nominal_dt", "dt", "tau")
#: The reset-info key that carries the nominal control period (seconds).
RESET_INFO_KEY = "nominal_dt"


def usable_period(value: Any) -> float | None:
    """:param value: a candidate period.
    :return: it as a float when it is a real number (not a bool), finite and > 0, else None."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) and seconds > 0 else None


def period_from(lookup: Callable[[str], Any]) -> float | None:
    """The first usable period among :data:`PERIOD_ATTRIBUTES`.

    :param lookup: reads one attribute by name (``AttributeError`` where it is missing), e.g.
        ``env.get_wrapper_attr`` or a VecEnv's ``get_attr`` of its first env.
    :return: seconds, or None when no attribute holds a usable period.
    """
    for name in PERIOD_ATTRIBUTES:
        try:
            value = lookup(name)
        except AttributeError:
            continue
        seconds = usable_period(value)
        if seconds is not None:
            return seconds
    return None


def nominal_period(env: gym.Env) -> float | None:
    """The nominal control period of an environment, searched through its wrappers.

    :param env: the environment (possibly wrapped).
    :return: seconds per step, or None when the environment states none.
    """
    return period_from(env.get_wrapper_attr)


def require_period(env: gym.Env, needed_for: str) -> float:
    """:func:`nominal_period`, required.

    :param env: the environment.
    :param needed_for: what needs it (for the error message).
    :return: seconds per step.
    :raises ValueError: when the environment states no control period.
    """
    seconds = nominal_period(env)
    if seconds is None:
        raise ValueError(f"{type(env.unwrapped).__name__} has no control period (a 'nominal_dt', 'dt' or 'tau' "
                         f"attribute); {needed_for}")
    return seconds
