"""How many steps an explicit solver (``"euler"``, ``"rk4"``) takes so that it stays stable.

An explicit step of length ``h`` is stable where ``h * rate`` stays inside the solver's
stability interval, ``rate`` being the fastest decay rate of the cell's dynamics. The cells
give an upper bound on that rate from their parameters alone (it does not depend on the
state or the inputs), so the number of steps follows from the longest timespan of the batch:
``max(ode_unfolds, ceil(longest * rate / STABLE_STEP[solver]))``. Timespans short enough for
``ode_unfolds`` steps keep exactly the arithmetic they had. :class:`FixedStepSolvers` is the
integration loop of the cells that use it.
"""

from __future__ import annotations

import math

import torch

from ncp_control.errors import UserError
from ncp_control.solvers.correction import HyperCorrection, active_correction
from ncp_control.solvers.steps import BoundStep, Field, base_solver, unfold

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


class FixedStepSolvers:
    """Integration with a fixed-step solver or hypersolver, shared by the LTC and CT-RNN cells.

    A cell provides :meth:`stepper` (one base step), :meth:`field` (the vector field) and
    :meth:`explicit_rate` (the bound on its decay rates); explicit bases take more steps where
    the requested number would be unstable (:func:`explicit_steps`), and a hypersolver adds
    ``h**2 g(v, f(v), u, h)`` to each step.
    """

    hypersolver: HyperCorrection | None

    def stepper(self, x: torch.Tensor, h: torch.Tensor, solver: str) -> BoundStep:
        """:param x: mapped inputs ``[B, F]``.
        :param h: step length ``[B, 1]``.
        :param solver: ``"semi_implicit"``, ``"euler"`` or ``"rk4"``.
        :return: ``step(v [B, N]) -> v' [B, N]``."""
        raise NotImplementedError

    def field(self, x: torch.Tensor) -> Field:
        """:param x: mapped inputs ``[B, F]``.
        :return: ``f(v [B, N]) -> dv/dt [B, N]``."""
        raise NotImplementedError

    def explicit_rate(self) -> torch.Tensor:
        """:return: an upper bound on each neuron's decay rate ``[N]`` (1 / time units)."""
        raise NotImplementedError

    def solver_steps(self, dt: torch.Tensor, solver: str, unfolds: int) -> int:
        """:param dt: elapsed time ``[B]``.
        :param solver: a fixed-step solver or hypersolver.
        :param unfolds: the requested number of steps.
        :return: the number of equal steps taken over the batch's timespans."""
        base = base_solver(solver)
        if base == "semi_implicit":
            return unfolds
        return explicit_steps(dt, self.explicit_rate(), unfolds, base)

    def integrate(self, x: torch.Tensor, v: torch.Tensor, dt: torch.Tensor, solver: str, unfolds: int) -> torch.Tensor:
        """Integrate over ``dt`` with a fixed-step solver or hypersolver.

        :param x: mapped inputs ``[B, F]``.
        :param v: state ``[B, N]``.
        :param dt: elapsed time ``[B]``.
        :param solver: the solver.
        :param unfolds: the number of steps (the least taken).
        :return: the new state ``[B, N]``.
        :raises UserError: for a hypersolver without a fitted correction.
        """
        correction = active_correction(solver, self.hypersolver)
        steps = self.solver_steps(dt, solver, unfolds)
        h = dt.unsqueeze(-1) / steps
        return unfold(self.stepper(x, h, base_solver(solver)), v, steps, correction, self.field(x), x, h)
