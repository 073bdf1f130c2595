"""The continuous-time RNN (CT-RNN) cell: a leaky integrator over a wiring."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.explicit import FixedStepSolvers
from ncp_control.errors import UserError
from ncp_control.solvers.correction import HyperCorrection, build_correction, check_hyper_solver
from ncp_control.solvers.steps import EXPLICIT_STEPS, HYPER_BASE, BoundStep, Field
from ncp_control.wirings import Wiring
from ncp_control.wirings.base import check_int

SOLVERS = ("semi_implicit", "euler", "rk4", *HYPER_BASE)


def _signed_init(polarity: torch.Tensor) -> torch.Tensor:
    """Weights with the wiring's signs and magnitudes ``U(0, 1) / sqrt(fan-in)``."""
    fan_in = polarity.abs().sum(0).clamp_min(1.0)
    return polarity * torch.rand(polarity.shape) / fan_in.sqrt()


class CTRNNCell(FixedStepSolvers, LiquidCell):
    """CT-RNN: ``dx/dt = -x / tau + tanh(I W_in + x W + b)`` with ``W_in``, ``W`` masked by the
    wiring (initial signs from its polarities), ``tau > 0`` per neuron, and affine input and
    output mappings as in the LTC cell.

    Solvers, each with ``ode_unfolds`` steps of ``dt / ode_unfolds``: ``"semi_implicit"``
    (``x' = (x + h f) / (1 + h / tau)``: stable for any ``dt``, ``|x|`` stays below
    ``max(|x_0|, tau)``), ``"euler"`` and ``"rk4"`` (explicit: a step longer than the shortest time constant allows is
    split into more equal steps, see :mod:`ncp_control.cells.explicit`), and the hypersolvers
    ``"hyper_euler"``, ``"hyper_semi_implicit"`` (the base step plus ``h**2 g(v, u, h)``, ``g``
    fitted by :func:`ncp_control.solvers.fit_hypersolver`).

    :param input_size: number of input features F.
    :param wiring: the wiring (built here for ``input_size`` if needed).
    :param ode_unfolds: solver steps per cell step, >= 1.
    :param solver: one of :data:`SOLVERS`.
    :param implicit_param_constraints: ``tau = softplus(raw)`` (else ``tau = |raw| + 1e-3``).
    :param hypersolver: ``{"base": ..., "hidden": ...}``: give the cell a correction network of
        that shape (see :class:`~ncp_control.solvers.HyperCorrection`), or None.
    """

    sparsity_mask: torch.Tensor
    sensory_sparsity_mask: torch.Tensor
    #: the solver names this cell accepts
    solvers = SOLVERS

    def __init__(
        self,
        input_size: int,
        wiring: Wiring,
        ode_unfolds: int = 6,
        solver: str = "semi_implicit",
        implicit_param_constraints: bool = True,
        hypersolver: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if solver not in SOLVERS:
            raise UserError(f"solver must be one of {SOLVERS}, got {solver!r}")
        wiring = self._attach_wiring(input_size, wiring)
        self.hypersolver: HyperCorrection | None = build_correction(wiring.units, input_size, hypersolver)
        check_hyper_solver(solver, self.hypersolver)
        self.ode_unfolds = check_int("ode_unfolds", ode_unfolds, 1)
        self.solver = solver
        self.implicit_param_constraints = bool(implicit_param_constraints)
        polarity = torch.tensor(wiring.adjacency_matrix, dtype=torch.float32)
        sensory_polarity = torch.tensor(wiring.sensory_adjacency_matrix, dtype=torch.float32)
        self.register_buffer("sparsity_mask", polarity.abs())
        self.register_buffer("sensory_sparsity_mask", sensory_polarity.abs())
        self.w = nn.Parameter(_signed_init(polarity))
        self.sensory_w = nn.Parameter(_signed_init(sensory_polarity))
        self.bias = nn.Parameter(torch.zeros(wiring.units))
        tau = 1.0
        raw = math.log(math.expm1(tau)) if self.implicit_param_constraints else tau - 1e-3
        self.tau = nn.Parameter(torch.full((wiring.units,), raw))
        self.input_w = nn.Parameter(torch.ones(input_size))
        self.input_b = nn.Parameter(torch.zeros(input_size))
        self.output_w = nn.Parameter(torch.ones(self.motor_size))
        self.output_b = nn.Parameter(torch.zeros(self.motor_size))

    def time_constant(self) -> torch.Tensor:
        """:return: the positive time constants ``tau`` ``[N]``."""
        if self.implicit_param_constraints:
            return nn.functional.softplus(self.tau)
        return self.tau.abs() + 1e-3

    def explicit_rate(self) -> torch.Tensor:
        """:return: a bound on the Jacobian's eigenvalues, ``1 / tau + sum |w|`` ``[N]``
            (Gershgorin, ``tanh' <= 1``)."""
        return 1.0 / self.time_constant() + (self.w * self.sparsity_mask).abs().sum(0)

    def map_outputs(self, v: torch.Tensor) -> torch.Tensor:
        """:param v: states ``[..., N]`` (one step ``[B, N]`` or a sequence ``[B, T, N]``).
        :return: the motor neurons through the output mapping, ``[..., M]``."""
        return v[..., : self.motor_size] * self.output_w + self.output_b

    def map_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """:param x: inputs ``[B, F]``.
        :return: mapped inputs ``x * input_w + input_b`` ``[B, F]``."""
        return x * self.input_w + self.input_b

    def solve(self, x: torch.Tensor, v: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """Integrate the state over ``dt`` with the configured solver.

        :param x: mapped inputs ``[B, F]``.
        :param v: state ``[B, N]``.
        :param dt: elapsed time ``[B]``.
        :return: the new state ``[B, N]``.
        """
        return self.integrate(x, v, dt, self.solver, self.ode_unfolds)

    def stepper(self, x: torch.Tensor, h: torch.Tensor, solver: str) -> BoundStep:
        """One step of a base solver with its inputs and length bound.

        :param x: mapped inputs ``[B, F]``.
        :param h: step length ``[B, 1]``.
        :param solver: ``"semi_implicit"``, ``"euler"`` or ``"rk4"``.
        :return: ``step(v [B, N]) -> v' [B, N]``.
        """
        drive = x @ (self.sensory_w * self.sensory_sparsity_mask) + self.bias
        w = self.w * self.sparsity_mask
        inverse_tau = 1.0 / self.time_constant()
        if solver == "semi_implicit":
            shrink = 1.0 + h * inverse_tau
            return lambda v: (v + h * torch.tanh(drive + v @ w)) / shrink
        explicit = EXPLICIT_STEPS[solver]
        field = self.field(x)
        return lambda v: explicit(field, v, h)

    def field(self, x: torch.Tensor) -> Field:
        """The vector field of a step with its inputs bound.

        :param x: mapped inputs ``[B, F]``.
        :return: ``f(v [B, N]) = tanh(drive + v W) - v / tau`` ``[B, N]``.
        """
        drive = x @ (self.sensory_w * self.sensory_sparsity_mask) + self.bias
        w = self.w * self.sparsity_mask
        inverse_tau = 1.0 / self.time_constant()
        return lambda v: torch.tanh(drive + v @ w) - v * inverse_tau

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, N]`` (motor neurons first).
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, M], h_new [B, N])``.
        """
        v = self.solve(self.map_inputs(x), h, dt)
        return self.map_outputs(v), v
