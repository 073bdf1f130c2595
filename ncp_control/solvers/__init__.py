"""Solvers for the liquid cells: fixed-step solver functions and the hypersolver.

- :mod:`~ncp_control.solvers.steps`: ``euler`` and ``rk4`` steps (:data:`EXPLICIT_STEPS`),
  the hypersolvers' bases (:data:`HYPER_BASE`) and the unfold loop every cell shares
- :mod:`~ncp_control.solvers.correction`: the correction network :class:`HyperCorrection`
  and the checks that a cell may use it
- :mod:`~ncp_control.solvers.fit`: :func:`fit_hypersolver` (residual fitting on the states
  the model visits) and :func:`trajectory_error`

A hypersolver runs in the per-step loop: the compiled path (:mod:`ncp_control.fast`) has the
semi-implicit solver only, and its support check declines ``"hyper_*"`` solvers.
"""

from ncp_control.solvers.correction import HyperCorrection
from ncp_control.solvers.fit import (
    FitReport,
    fit_hypersolver,
    reference_states,
    solver_states,
    trajectory_error,
    use_solver,
)
from ncp_control.solvers.steps import EXPLICIT_STEPS, HYPER_BASE, euler, rk4

__all__ = [
    "EXPLICIT_STEPS",
    "HYPER_BASE",
    "FitReport",
    "HyperCorrection",
    "euler",
    "fit_hypersolver",
    "reference_states",
    "rk4",
    "solver_states",
    "trajectory_error",
    "use_solver",
]
