"""The liquid time-constant (LTC) cell (Hasani et al. 2021), ncps ``LTCCell`` parameters."""

from __future__ import annotations

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

FIXED_SOLVERS = ("semi_implicit", "euler", "rk4", *HYPER_BASE)
ODE_SOLVERS = ("dopri5", "dopri8", "bosh3", "adaptive_heun")
MAPPINGS = ("affine", "linear", None)

#: smallest step used by the semi-implicit solver (keeps ``cm / step`` finite for dt = 0)
MIN_STEP = 1e-12

INIT_RANGES = {
    "gleak": (0.001, 1.0),
    "vleak": (-0.2, 0.2),
    "cm": (0.4, 0.6),
    "w": (0.001, 1.0),
    "sigma": (3.0, 8.0),
    "mu": (0.3, 0.8),
    "sensory_w": (0.001, 1.0),
    "sensory_sigma": (3.0, 8.0),
    "sensory_mu": (0.3, 0.8),
}


def _uniform(name: str, *shape: int) -> nn.Parameter:
    low, high = INIT_RANGES[name]
    return nn.Parameter(torch.rand(*shape) * (high - low) + low)


class LTCCell(FixedStepSolvers, LiquidCell):
    """LTC cell: ``cm dv/dt = gleak (vleak - v) + sum_j w_j sigmoid(sigma_j (v_j - mu_j)) (erev_j - v)``
    over the wiring's synapses (and the same for the mapped inputs).

    Solvers, each with ``ode_unfolds`` steps of ``dt / ode_unfolds``: ``"semi_implicit"`` (the
    fused step of the LTC paper, ncps' arithmetic; stable for any ``dt``), ``"euler"``,
    ``"rk4"`` (explicit: stable only for small steps, so a step longer than the fastest time
    constant allows is split into more equal steps, see :mod:`ncp_control.cells.explicit`;
    a timespan that would need more than 10000 is refused), and the hypersolvers
    ``"hyper_euler"``, ``"hyper_semi_implicit"``: the base step plus ``h**2 g(v, u, h)``, ``g``
    a small network fitted by :func:`ncp_control.solvers.fit_hypersolver` (``hyper_euler``
    splits long steps like ``"euler"``). With the ``ode`` extra (torchdiffeq),
    adaptive solvers ``"dopri5"``, ``"dopri8"``, ``"bosh3"``, ``"adaptive_heun"``, optionally with
    the adjoint method (``adjoint=True``) for the backward pass.

    :param input_size: number of input features F.
    :param wiring: the wiring (built here for ``input_size`` if needed).
    :param input_mapping: ``"affine"`` (``x * input_w + input_b``), ``"linear"`` or ``None``.
    :param output_mapping: the same for the motor neurons.
    :param ode_unfolds: solver steps per cell step (fixed-step solvers), >= 1.
    :param epsilon: added to the semi-implicit denominator.
    :param implicit_param_constraints: keep ``cm``, ``gleak``, ``w``, ``sensory_w`` positive
        through softplus (else call :meth:`apply_weight_constraints` after each update).
    :param solver: see above.
    :param adjoint: use the adjoint method (adaptive solvers only).
    :param rtol: relative tolerance of adaptive solvers.
    :param atol: absolute tolerance of adaptive solvers.
    :param hypersolver: ``{"base": "euler" | "semi_implicit", "hidden": int}``: give the cell a
        correction network of that shape (its weights come from ``fit_hypersolver`` or a
        ``state_dict``), or None.
    """

    sparsity_mask: torch.Tensor
    sensory_sparsity_mask: torch.Tensor
    #: the solver names this cell accepts
    solvers = FIXED_SOLVERS + ODE_SOLVERS

    def __init__(
        self,
        input_size: int,
        wiring: Wiring,
        input_mapping: str | None = "affine",
        output_mapping: str | None = "affine",
        ode_unfolds: int = 6,
        epsilon: float = 1e-8,
        implicit_param_constraints: bool = True,
        solver: str = "semi_implicit",
        adjoint: bool = False,
        rtol: float = 1e-6,
        atol: float = 1e-8,
        hypersolver: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if solver not in FIXED_SOLVERS + ODE_SOLVERS:
            raise UserError(f"solver must be one of {FIXED_SOLVERS + ODE_SOLVERS}, got {solver!r}")
        if adjoint and solver not in ODE_SOLVERS:
            raise UserError(f"adjoint=True needs an adaptive solver {ODE_SOLVERS}, got solver={solver!r}")
        for name, mapping in (("input_mapping", input_mapping), ("output_mapping", output_mapping)):
            if mapping not in MAPPINGS:
                raise UserError(f"{name} must be one of {MAPPINGS}, got {mapping!r}")
        wiring = self._attach_wiring(input_size, wiring)
        self.hypersolver: HyperCorrection | None = build_correction(wiring.units, input_size, hypersolver)
        check_hyper_solver(solver, self.hypersolver)
        self.input_mapping = input_mapping
        self.output_mapping = output_mapping
        self.ode_unfolds = check_int("ode_unfolds", ode_unfolds, 1)
        self.epsilon = float(epsilon)
        self.implicit_param_constraints = bool(implicit_param_constraints)
        self.solver = solver
        self.adjoint = bool(adjoint)
        self.rtol = float(rtol)
        self.atol = float(atol)
        n, f = wiring.units, input_size
        self.gleak = _uniform("gleak", n)
        self.vleak = _uniform("vleak", n)
        self.cm = _uniform("cm", n)
        self.sigma = _uniform("sigma", n, n)
        self.mu = _uniform("mu", n, n)
        self.w = _uniform("w", n, n)
        self.erev = nn.Parameter(torch.tensor(wiring.erev_initializer(), dtype=torch.float32))
        self.sensory_sigma = _uniform("sensory_sigma", f, n)
        self.sensory_mu = _uniform("sensory_mu", f, n)
        self.sensory_w = _uniform("sensory_w", f, n)
        self.sensory_erev = nn.Parameter(torch.tensor(wiring.sensory_erev_initializer(), dtype=torch.float32))
        self.register_buffer("sparsity_mask", torch.tensor(abs(wiring.adjacency_matrix), dtype=torch.float32))
        self.register_buffer(
            "sensory_sparsity_mask", torch.tensor(abs(wiring.sensory_adjacency_matrix), dtype=torch.float32)
        )
        if input_mapping in ("affine", "linear"):
            self.input_w = nn.Parameter(torch.ones(f))
        if input_mapping == "affine":
            self.input_b = nn.Parameter(torch.zeros(f))
        if output_mapping in ("affine", "linear"):
            self.output_w = nn.Parameter(torch.ones(self.motor_size))
        if output_mapping == "affine":
            self.output_b = nn.Parameter(torch.zeros(self.motor_size))

    # -------------------------------------------------------------- pieces
    def positive(self, value: torch.Tensor) -> torch.Tensor:
        """:param value: a raw parameter.
        :return: softplus of it (implicit constraints) or itself."""
        return nn.functional.softplus(value) if self.implicit_param_constraints else value

    def map_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """:param x: inputs ``[B, F]``.
        :return: mapped inputs ``[B, F]``."""
        if self.input_mapping in ("affine", "linear"):
            x = x * self.input_w
        if self.input_mapping == "affine":
            x = x + self.input_b
        return x

    def map_outputs(self, v: torch.Tensor) -> torch.Tensor:
        """:param v: state ``[B, N]``.
        :return: mapped motor neurons ``[B, M]``."""
        y = v[:, : self.motor_size]
        if self.output_mapping in ("affine", "linear"):
            y = y * self.output_w
        if self.output_mapping == "affine":
            y = y + self.output_b
        return y

    def sensory_terms(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Conductance-weighted reversal potentials and conductances from the inputs.

        :param x: mapped inputs ``[B, F]``.
        :return: ``(numerator [B, N], denominator [B, N])``.
        """
        activation = self.positive(self.sensory_w) * torch.sigmoid(
            self.sensory_sigma * (x.unsqueeze(-1) - self.sensory_mu)
        )
        activation = activation * self.sensory_sparsity_mask
        return (activation * self.sensory_erev).sum(1), activation.sum(1)

    def synaptic_terms(
        self, v: torch.Tensor, w_masked: torch.Tensor, w_erev: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The same between neurons.

        :param v: state ``[B, N]``.
        :param w_masked: ``positive(w) * sparsity_mask`` ``[N, N]``.
        :param w_erev: ``w_masked * erev`` ``[N, N]``.
        :return: ``(numerator [B, N], denominator [B, N])``.
        """
        gate = torch.sigmoid(self.sigma * (v.unsqueeze(-1) - self.mu))
        return (gate * w_erev).sum(1), (gate * w_masked).sum(1)

    def derivative(
        self,
        v: torch.Tensor,
        sensory: tuple[torch.Tensor, torch.Tensor],
        weights: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        """``dv/dt``.

        :param v: state ``[B, N]``.
        :param sensory: :meth:`sensory_terms` of the step.
        :param weights: ``(w_masked, w_erev)``.
        :return: ``[B, N]``.
        """
        numerator, denominator = self.synaptic_terms(v, *weights)
        gleak = self.positive(self.gleak)
        current = gleak * (self.vleak - v) + numerator + sensory[0] - (denominator + sensory[1]) * v
        return current / self.positive(self.cm)

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """:return: ``(w_masked, w_erev)``, each ``[N, N]``."""
        w_masked = self.positive(self.w) * self.sparsity_mask
        return w_masked, w_masked * self.erev

    def decay_rate_bound(self, w_masked: torch.Tensor) -> torch.Tensor:
        """An upper bound on each neuron's decay rate, ``(gleak + sum w + sum sensory_w) / cm``
        (every synapse fully open), for the explicit solvers' step length.

        :param w_masked: ``positive(w) * sparsity_mask`` ``[N, N]``.
        :return: ``[N]`` (1 / time units).
        """
        sensory = (self.positive(self.sensory_w).abs() * self.sensory_sparsity_mask).sum(0)
        conductance = self.positive(self.gleak).abs() + w_masked.abs().sum(0) + sensory
        return conductance / self.positive(self.cm).abs()

    def explicit_rate(self) -> torch.Tensor:
        """:return: :meth:`decay_rate_bound` of the current weights ``[N]``."""
        return self.decay_rate_bound(self.weights()[0])

    # -------------------------------------------------------------- solvers
    def solve(self, x: torch.Tensor, v: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """Integrate the state over ``dt`` with the configured solver.

        :param x: mapped inputs ``[B, F]``.
        :param v: state ``[B, N]``.
        :param dt: elapsed time ``[B]``.
        :return: the new state ``[B, N]``.
        """
        if self.solver in ODE_SOLVERS:
            from ncp_control.cells.ltc_ode import solve_ode

            return solve_ode(self, x, v, dt)
        return self.integrate(x, v, dt, self.solver, self.ode_unfolds)

    def stepper(self, x: torch.Tensor, h: torch.Tensor, solver: str) -> BoundStep:
        """One step of a base solver with its inputs and length bound.

        :param x: mapped inputs ``[B, F]``.
        :param h: step length ``[B, 1]``.
        :param solver: ``"semi_implicit"``, ``"euler"`` or ``"rk4"``.
        :return: ``step(v [B, N]) -> v' [B, N]``.
        """
        sensory = self.sensory_terms(x)
        weights = self.weights()
        if solver == "semi_implicit":
            cm_t = self.positive(self.cm) / h.clamp_min(MIN_STEP)
            gleak = self.positive(self.gleak)
            leak = gleak * self.vleak + sensory[0]
            base = cm_t + gleak + sensory[1] + self.epsilon

            def semi_implicit(v: torch.Tensor) -> torch.Tensor:
                numerator, denominator = self.synaptic_terms(v, *weights)
                return (cm_t * v + leak + numerator) / (base + denominator)

            return semi_implicit
        explicit = EXPLICIT_STEPS[solver]
        field = self.field(x, sensory, weights)
        return lambda v: explicit(field, v, h)

    def field(
        self,
        x: torch.Tensor,
        sensory: tuple[torch.Tensor, torch.Tensor] | None = None,
        weights: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> Field:
        """The vector field of a step with its inputs bound.

        :param x: mapped inputs ``[B, F]``.
        :param sensory: :meth:`sensory_terms` of ``x``, if already computed.
        :param weights: :meth:`weights`, if already computed.
        :return: ``f(v [B, N]) -> dv/dt [B, N]``.
        """
        sensory = self.sensory_terms(x) if sensory is None else sensory
        weights = self.weights() if weights is None else weights
        return lambda v: self.derivative(v, sensory, weights)

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, N]`` (neuron potentials, motor neurons first).
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, M], h_new [B, N])``.
        """
        v = self.solve(self.map_inputs(x), h, dt)
        return self.map_outputs(v), v

    def apply_weight_constraints(self) -> None:
        """Clip ``w``, ``sensory_w``, ``cm``, ``gleak`` at 0 (for explicit constraints; no-op
        with implicit ones)."""
        if not self.implicit_param_constraints:
            with torch.no_grad():
                for param in (self.w, self.sensory_w, self.cm, self.gleak):
                    param.clamp_(min=0.0)
