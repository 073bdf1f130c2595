"""Seconds to timespans: the one conversion, with one named time unit.

A cell's *timespan* is the elapsed time of a step measured in *time units*: ``timespan =
seconds / time_unit``. The agents package picks the time unit (by default the environment's
nominal control period, so a step at the nominal rate lasts 1.0) and every runner and export
calls :func:`to_timespans`.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, TypeVar

from ncp_control.errors import UserError

T = TypeVar("T")


def check_time_unit(value: Any, name: str = "time_unit") -> float:
    """:param value: a time unit (seconds per unit of timespan).
    :param name: what to call it in the error.
    :return: it as a float.
    :raises UserError: unless it is a finite number of seconds > 0."""
    seconds = float(value) if isinstance(value, Real) and not isinstance(value, bool) else math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise UserError(f"{name} must be a finite number of seconds > 0 (seconds per unit of timespan), got {value!r}")
    return seconds


def to_timespans(seconds: T, time_unit: float) -> T:
    """Elapsed seconds as timespans.

    :param seconds: a number, a numpy array or a tensor of seconds (any shape).
    :param time_unit: seconds per unit of timespan (checked by :func:`check_time_unit`).
    :return: ``seconds / time_unit``, of the same kind and shape.
    """
    return seconds / time_unit  # type: ignore[operator,no-any-return,return-value]
