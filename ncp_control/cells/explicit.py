"""How many steps an explicit solver (``"euler"``, ``"rk4"``) takes so that it stays stable.

An explicit step of length ``h`` is stable where ``h * rate`` stays inside the solver's
stability interval, ``rate`` being the fastest decay rate of the cell's dynamics. The cells
give an upper bound on that rate from their parameters alone (it does not depend on the
state or the inputs), so the number of steps follows from the longest timespan of the batch:
``max(ode_unfolds, ceil(longest * rate / STABLE_STEP[solver]))``. Timespans short enough for
``ode_unfolds`` steps keep exactly the arithmetic they had.
"""

from __future__ import annotations

import math

import torch

from ncp_control.errors import UserError

#: largest ``step * rate`` per solver. Euler at 1: each step is then a convex combination of
#: the state and the reversal potentials (LTC) or a contraction plus a bounded drive (CT-RNN),
#: so the state stays bounded. RK4 at 2.5: inside its stability interval [-2.78, 0].
STABLE_STEP = {"euler": 1.0, "rk4": 2.5}

#: most steps one cell step may take; a longer timespan is refused rather than run for minutes
MAX_STEPS = 10_000


def explicit_steps(dt: torch.Tensor, rate: torch.Tensor, ode_unfolds: int, solver: str) -> int:
    """Steps over the batch's longest timespan that keep an explicit solver stable.

    :param dt: elapsed time of each sample ``[B]`` (finite, >= 0).
    :param rate: an upper bound on each neuron's decay rate ``[N]`` (1 / time units).
    :param ode_unfolds: the cell's configured number of steps (the least taken).
    :param solver: ``"euler"`` or ``"rk4"``.
    :return: the number of equal steps to split each sample's ``dt`` into.
    :raises UserError: for a timespan that is not finite, or that needs more than
        :data:`MAX_STEPS` steps.
    """
    if dt.numel() == 0:
        return ode_unfolds
    longest = float(dt.detach().abs().max())
    fastest = float(rate.detach().abs().max())
    if not math.isfinite(longest):
        raise UserError(f"dt must be finite for solver={solver!r}, got {longest}")
    needed = math.ceil(longest * fastest / STABLE_STEP[solver]) if math.isfinite(fastest) else MAX_STEPS + 1
    if needed > MAX_STEPS:
        raise UserError(
            f"timespan {longest:g} needs {needed} stable {solver} steps (more than {MAX_STEPS}): use "
            "solver='semi_implicit' (stable for any timespan) or shorter timespans"
        )
    return max(ode_unfolds, needed)
