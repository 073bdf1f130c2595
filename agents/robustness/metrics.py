"""Robustness metrics on episode returns and retention curves.

All functions take plain numpy arrays (or sequences) and return floats or arrays, so that
they can be checked by hand on small inputs. Conventions:

- *retention* of a return ``R`` is ``(R - R_random) / (R_clean - R_random)``: 1 means no loss
  against the clean score, 0 means no better than a random policy.
- the *area under the retention curve* (AUC) integrates retention over perturbation levels
  with the trapezoid rule and divides by the span of the levels, so a policy that keeps its
  clean score at every level has AUC 1.
- *CVaR at alpha* is the mean of the worst ``ceil(alpha * n)`` returns (lower tail).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ncp_control.errors import UserError

ArrayLike = Sequence[float] | np.ndarray


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        raise UserError(f"{name} must not be empty")
    return array


def mean_return(returns: ArrayLike) -> float:
    """Mean episode return.

    :param returns: episode returns, shape ``[n]``.
    :return: their mean.
    """
    return float(np.mean(_as_1d(returns, "returns")))


def rate(flags: ArrayLike) -> float:
    """Fraction of episodes with a flag set (success or crash); NaN entries are ignored.

    :param flags: 0/1 (or bool) per episode, shape ``[n]``; NaN where unknown.
    :return: the mean of the known flags, NaN if none is known.
    """
    array = np.asarray(flags, dtype=np.float64).reshape(-1)
    known = array[~np.isnan(array)]
    return float(np.mean(known)) if known.size else float("nan")


def retention(returns: ArrayLike | float, clean_return: float, random_return: float) -> np.ndarray:
    """Retention ``(R - R_random) / (R_clean - R_random)``.

    :param returns: perturbed returns ``R`` (scalar or array).
    :param clean_return: the same policy's mean return without perturbation.
    :param random_return: a random policy's mean return without perturbation.
    :return: retention, same shape as ``returns``.
    :raises ValueError: if the clean return equals the random return (undefined scale).
    """
    span = float(clean_return) - float(random_return)
    if span == 0.0 or not math.isfinite(span):
        raise UserError(
            f"retention is undefined: clean return {clean_return} equals random return {random_return}"
        )
    return (np.asarray(returns, dtype=np.float64) - float(random_return)) / span


def area_under_curve(levels: ArrayLike, values: ArrayLike) -> float:
    """Normalised area under a curve over perturbation levels (trapezoid rule).

    :param levels: the levels, shape ``[k]``, ``k >= 2``, distinct (any order).
    :param values: the curve at each level, shape ``[k]``.
    :return: the integral divided by ``max(levels) - min(levels)``.
    """
    x = _as_1d(levels, "levels")
    y = _as_1d(values, "values")
    if x.shape != y.shape:
        raise UserError(f"levels and values must have the same length, got {x.size} and {y.size}")
    if x.size < 2:
        raise UserError("area_under_curve needs at least two levels")
    order = np.argsort(x)
    x, y = x[order], y[order]
    if np.any(np.diff(x) == 0):
        raise UserError("levels must be distinct")
    integral = float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))
    return integral / float(x[-1] - x[0])


def worst_case(values: ArrayLike) -> float:
    """Worst case (minimum) over levels or a parameter mesh.

    :param values: per-level scores, shape ``[k]``.
    :return: the minimum.
    """
    return float(np.min(_as_1d(values, "values")))


def cvar(returns: ArrayLike, alpha: float = 0.1) -> float:
    """Conditional value at risk: mean of the worst ``ceil(alpha * n)`` returns.

    :param returns: episode returns, shape ``[n]``.
    :param alpha: tail fraction in ``(0, 1]``.
    :return: the lower-tail mean.
    """
    if not 0.0 < alpha <= 1.0:
        raise UserError(f"alpha must be in (0, 1], got {alpha}")
    array = np.sort(_as_1d(returns, "returns"))
    count = max(1, math.ceil(alpha * array.size - 1e-12))
    return float(np.mean(array[:count]))
