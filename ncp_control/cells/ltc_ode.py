"""Adaptive ODE solvers and the adjoint method for the LTC cell (the ``ode`` extra: torchdiffeq)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from ncp_control.errors import UserError

#: the LTC parameters that the vector field reads
FIELD_PARAMETERS = (
    "gleak",
    "vleak",
    "cm",
    "sigma",
    "mu",
    "w",
    "erev",
    "sensory_sigma",
    "sensory_mu",
    "sensory_w",
    "sensory_erev",
)

if TYPE_CHECKING:
    from ncp_control.cells.ltc_cell import LTCCell


class LTCField(nn.Module):
    """The LTC vector field in normalised time ``s in [0, 1]``: ``dv/ds = dt * dv/dt``, so that
    every sample integrates over its own ``dt`` on one shared time grid.

    :param cell: the LTC cell (its parameters are this module's parameters).
    :param x: mapped inputs ``[B, F]`` of the step.
    :param dt: elapsed time ``[B]``.
    """

    def __init__(self, cell: LTCCell, x: torch.Tensor, dt: torch.Tensor) -> None:
        super().__init__()
        self.cell = cell
        self.x = x
        self.dt = dt.unsqueeze(-1)

    def forward(self, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """:param s: normalised time (unused: the field is autonomous).
        :param v: state ``[B, N]``.
        :return: ``dv/ds`` ``[B, N]``."""
        cell = self.cell
        return self.dt * cell.derivative(v, cell.sensory_terms(self.x), cell.weights())


def solve_ode(cell: LTCCell, x: torch.Tensor, v: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
    """Integrate the LTC state over ``dt`` with torchdiffeq's ``cell.solver``.

    With ``cell.adjoint`` the backward pass solves the adjoint ODE (memory independent of the
    number of solver steps); gradients reach the cell's parameters, ``v``, ``x`` and ``dt``.

    :param cell: the LTC cell.
    :param x: mapped inputs ``[B, F]``.
    :param v: state ``[B, N]``.
    :param dt: elapsed time ``[B]``.
    :return: the state after ``dt`` ``[B, N]``.
    :raises ValueError: if torchdiffeq is not installed.
    """
    try:
        import torchdiffeq
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise UserError(
            f"solver={cell.solver!r} needs torchdiffeq: pip install 'ncp-control[ode]'"
        ) from error
    field = LTCField(cell, x, dt)
    grid = torch.tensor([0.0, 1.0], dtype=v.dtype, device=v.device)
    if cell.adjoint:
        # only the tensors the field reads directly: listing an ancestor of x (input_w, ...)
        # as well as x would count its gradient twice
        params = tuple(
            p for p in (*(getattr(cell, n) for n in FIELD_PARAMETERS), x, field.dt) if p.requires_grad
        )
        path = torchdiffeq.odeint_adjoint(
            field, v, grid, rtol=cell.rtol, atol=cell.atol, method=cell.solver, adjoint_params=params
        )
    else:
        path = torchdiffeq.odeint(field, v, grid, rtol=cell.rtol, atol=cell.atol, method=cell.solver)
    return path[-1]
