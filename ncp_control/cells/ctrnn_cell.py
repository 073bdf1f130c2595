"""The continuous-time RNN (CT-RNN) cell: a leaky integrator over a wiring."""

from __future__ import annotations

import math

import torch
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.explicit import explicit_steps
from ncp_control.errors import UserError
from ncp_control.wirings import Wiring
from ncp_control.wirings.base import check_int

SOLVERS = ("semi_implicit", "euler", "rk4")


def _signed_init(polarity: torch.Tensor) -> torch.Tensor:
    """Weights with the wiring's signs and magnitudes ``U(0, 1) / sqrt(fan-in)``."""
    fan_in = polarity.abs().sum(0).clamp_min(1.0)
    return polarity * torch.rand(polarity.shape) / fan_in.sqrt()


class CTRNNCell(LiquidCell):
    """CT-RNN: ``dx/dt = -x / tau + tanh(I W_in + x W + b)`` with ``W_in``, ``W`` masked by the
    wiring (initial signs from its polarities), ``tau > 0`` per neuron, and affine input and
    output mappings as in the LTC cell.

    Solvers, each with ``ode_unfolds`` steps of ``dt / ode_unfolds``: ``"semi_implicit"``
    (``x' = (x + h f) / (1 + h / tau)``: stable for any ``dt``, ``|x|`` stays below
    ``max(|x_0|, tau)``), ``"euler"`` and ``"rk4"`` (explicit: a step longer than the shortest time constant allows is
    split into more equal steps, see :mod:`ncp_control.cells.explicit`).

    :param input_size: number of input features F.
    :param wiring: the wiring (built here for ``input_size`` if needed).
    :param ode_unfolds: solver steps per cell step, >= 1.
    :param solver: ``"semi_implicit"``, ``"euler"`` or ``"rk4"``.
    :param implicit_param_constraints: ``tau = softplus(raw)`` (else ``tau = |raw| + 1e-3``).
    """

    sparsity_mask: torch.Tensor
    sensory_sparsity_mask: torch.Tensor

    def __init__(
        self,
        input_size: int,
        wiring: Wiring,
        ode_unfolds: int = 6,
        solver: str = "semi_implicit",
        implicit_param_constraints: bool = True,
    ) -> None:
        super().__init__()
        if solver not in SOLVERS:
            raise UserError(f"solver must be one of {SOLVERS}, got {solver!r}")
        wiring = self._attach_wiring(input_size, wiring)
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

    def map_outputs(self, v: torch.Tensor) -> torch.Tensor:
        """:param v: states ``[..., N]`` (one step ``[B, N]`` or a sequence ``[B, T, N]``).
        :return: the motor neurons through the output mapping, ``[..., M]``."""
        return v[..., : self.motor_size] * self.output_w + self.output_b

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, N]`` (motor neurons first).
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, M], h_new [B, N])``.
        """
        drive = (x * self.input_w + self.input_b) @ (self.sensory_w * self.sensory_sparsity_mask) + self.bias
        w = self.w * self.sparsity_mask
        inverse_tau = 1.0 / self.time_constant()
        step = dt.unsqueeze(-1) / self.ode_unfolds
        v = h
        if self.solver == "semi_implicit":
            shrink = 1.0 + step * inverse_tau
            for _ in range(self.ode_unfolds):
                v = (v + step * torch.tanh(drive + v @ w)) / shrink
        else:

            def derivative(state: torch.Tensor) -> torch.Tensor:
                return torch.tanh(drive + state @ w) - state * inverse_tau

            # the Jacobian's eigenvalues lie within 1/tau + sum |w| of 0 (Gershgorin, tanh' <= 1)
            steps = explicit_steps(dt, inverse_tau + w.abs().sum(0), self.ode_unfolds, self.solver)
            if steps != self.ode_unfolds:
                step = dt.unsqueeze(-1) / steps
            for _ in range(steps):
                k1 = derivative(v)
                if self.solver == "euler":
                    v = v + step * k1
                    continue
                k2 = derivative(v + 0.5 * step * k1)
                k3 = derivative(v + 0.5 * step * k2)
                k4 = derivative(v + step * k3)
                v = v + step / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        return self.map_outputs(v), v
