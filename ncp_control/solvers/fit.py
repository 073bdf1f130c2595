"""Fitting a hypersolver's correction on the states a model visits, and measuring solvers.

Residual fitting (Poli et al., NeurIPS 2020): along trajectories of the model itself, solved
accurately (RK4 at many sub-steps), each step of length ``h`` from state ``v`` has the
residual ``(v_exact(h) - base(v, h)) / h**2``; the correction ``g(v, u, h)`` is trained to
predict it, so that ``base(v, h) + h**2 g(v, u, h)`` follows the exact flow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ncp_control.errors import UserError
from ncp_control.solvers.correction import HyperCorrection, active_correction
from ncp_control.solvers.steps import EXPLICIT_STEPS, HYPER_BASE
from ncp_control.wirings.base import check_int

#: the accurate solver of the fitting targets and error measurements: RK4 at this many steps
REFERENCE_UNFOLDS = 64


def solver_cell(model: Any) -> Any:
    """:param model: an :class:`~ncp_control.LTC` or :class:`~ncp_control.CTRNN` without mixed memory.
    :return: its cell.
    :raises UserError: for any other model."""
    cell = getattr(model, "cell", None)
    if not hasattr(cell, "integrate") or not hasattr(cell, "hypersolver"):
        raise UserError(
            f"model must be an LTC or CTRNN without mixed memory for a hypersolver, got {type(model).__name__}"
        )
    return cell


def use_solver(model: Any, solver: str, ode_unfolds: int) -> None:
    """Switch a model's solver (a fitted hypersolver, or back to a plain one); ``config()``
    follows.

    :param model: an LTC or CT-RNN.
    :param solver: the cell's solver name.
    :param ode_unfolds: steps per time step, >= 1.
    :raises UserError: for an unknown solver, or a hypersolver without a fitted correction.
    """
    cell = solver_cell(model)
    allowed = type(cell).solvers
    if solver not in allowed:
        raise UserError(f"solver must be one of {allowed}, got {solver!r}")
    active_correction(solver, cell.hypersolver)
    cell.ode_unfolds = check_int("ode_unfolds", ode_unfolds, 1)
    cell.solver = solver


def solver_states(
    model: Any,
    inputs: torch.Tensor,
    timespans: float | torch.Tensor | None = None,
    solver: str = "rk4",
    unfolds: int = REFERENCE_UNFOLDS,
    hx: torch.Tensor | None = None,
) -> torch.Tensor:
    """The states of a model's trajectory under a given solver (no gradients).

    :param model: an LTC or CT-RNN.
    :param inputs: ``[B, T, F]`` (the model's layout).
    :param timespans: as for ``model(...)``.
    :param solver: any solver the cell has (an adaptive one through torchdiffeq included).
    :param unfolds: steps per time step (fixed-step solvers).
    :param hx: initial state ``[B, N]`` (None: zeros).
    :return: ``[B, T + 1, N]``: the initial state, then the state after each step.
    """
    cell = solver_cell(model)
    saved = cell.solver, cell.ode_unfolds
    x, h, ts, _ = model._prepare(inputs, hx, timespans, None)
    states = [h]
    try:
        cell.solver, cell.ode_unfolds = solver, check_int("unfolds", unfolds, 1)
        with torch.no_grad():
            for t in range(x.shape[1]):
                h = cell.solve(cell.map_inputs(x[:, t]), h, ts[:, t])
                states.append(h)
    finally:
        cell.solver, cell.ode_unfolds = saved
    return torch.stack(states, 1)


def reference_states(
    model: Any, inputs: torch.Tensor, timespans: float | torch.Tensor | None = None, hx: torch.Tensor | None = None
) -> torch.Tensor:
    """:func:`solver_states` with the accurate reference, RK4 at :data:`REFERENCE_UNFOLDS` steps.

    :param model: an LTC or CT-RNN.
    :param inputs: ``[B, T, F]``.
    :param timespans: as for ``model(...)``.
    :param hx: initial state ``[B, N]`` (None: zeros).
    :return: ``[B, T + 1, N]``.
    """
    return solver_states(model, inputs, timespans, "rk4", REFERENCE_UNFOLDS, hx)


def trajectory_error(
    model: Any,
    inputs: torch.Tensor,
    timespans: float | torch.Tensor | None = None,
    solver: str | None = None,
    unfolds: int | None = None,
    reference: torch.Tensor | None = None,
) -> float:
    """Root-mean-square state error of a solver over whole trajectories, against the reference.

    :param model: an LTC or CT-RNN.
    :param inputs: ``[B, T, F]``.
    :param timespans: as for ``model(...)``.
    :param solver: the solver to measure (None: the model's own).
    :param unfolds: its steps per time step (None: the model's own).
    :param reference: precomputed :func:`reference_states` ``[B, T + 1, N]`` (None: computed here).
    :return: the RMS error over every step, sample and neuron.
    """
    cell = solver_cell(model)
    states = solver_states(model, inputs, timespans, solver or cell.solver, unfolds or cell.ode_unfolds)
    if reference is None:
        reference = reference_states(model, inputs, timespans)
    return float((states - reference).square().mean().sqrt())


def _check_reference(reference: Any) -> tuple[str, int]:
    """:return: ``reference`` as ``(solver, unfolds)``. :raises UserError: unless it names a
    plain fixed-step solver of the cell and a step count >= 1."""
    fixed = ("semi_implicit", *EXPLICIT_STEPS)
    if not (isinstance(reference, (tuple, list)) and len(reference) == 2 and reference[0] in fixed):
        raise UserError(f"reference must be (solver, unfolds) with solver one of {fixed}, got {reference!r}")
    return str(reference[0]), check_int("reference unfolds", reference[1], 1)


@dataclass
class FitReport:
    """What :func:`fit_hypersolver` did.

    :param solver: the hypersolver fitted.
    :param unfolds: the step counts it was fitted for.
    :param pairs: number of training steps (state, input, step length) used.
    :param local_error_base: RMS one-step error of the base solver on them.
    :param local_error_fitted: the same with the fitted correction.
    """

    solver: str
    unfolds: tuple[int, ...]
    pairs: int
    local_error_base: float
    local_error_fitted: float


def _training_steps(
    cell: Any,
    states: torch.Tensor,
    u: torch.Tensor,
    dt: torch.Tensor,
    base: str,
    unfolds: Sequence[int],
    reference: tuple[str, int],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The reference solver's sub-steps of each step of the trajectory, for every step count
    (the reference's steps split evenly among the base's sub-steps).

    :return: ``(v [P, N], f(v) [P, N], u [P, F], h [P, 1], exact [P, N], base_step [P, N])``,
        steps of length 0 and from non-finite states left out."""
    solver, reference_unfolds = reference
    parts: list[tuple[torch.Tensor, ...]] = []
    field = cell.field(u)
    for count in unfolds:
        n = cell.solver_steps(dt, base, count)  # explicit bases may take more steps
        h = (dt / n).unsqueeze(-1)
        v = states
        for _ in range(n):
            exact = cell.integrate(u, v, h.squeeze(-1), solver, max(1, reference_unfolds // n))
            parts.append((v, field(v), u, h, exact, cell.stepper(u, h, base)(v)))
            v = exact
    columns = [torch.cat(column) for column in zip(*parts, strict=True)]
    keep = columns[3].squeeze(-1) > 0  # no zero-length steps; no diverged states
    for column in (columns[0], columns[4], columns[5]):
        keep &= torch.isfinite(column).all(-1)
    return tuple(column[keep] for column in columns)  # type: ignore[return-value]


def fit_hypersolver(
    model: Any,
    inputs: torch.Tensor,
    timespans: float | torch.Tensor | None = None,
    solver: str = "hyper_semi_implicit",
    unfolds: Sequence[int] = (1, 2),
    hidden: int = 64,
    iterations: int = 2000,
    lr: float = 3e-3,
    batch_size: int = 512,
    seed: int = 0,
    reference: tuple[str, int] = ("rk4", REFERENCE_UNFOLDS),
    rounds: int = 3,
) -> FitReport:
    """Fit a hypersolver's correction to a model on the states it visits, and attach it to the
    model's cell (``model.cell.hypersolver``; saved and loaded with the ``state_dict``, its
    shape in ``model.config()``). The model's own parameters are not changed; refit after
    they change. Switch to it with :func:`use_solver`.

    Example::

        fit_hypersolver(model, inputs, timespans, "hyper_semi_implicit", unfolds=(1, 2))
        use_solver(model, "hyper_semi_implicit", 1)

    :param model: an :class:`~ncp_control.LTC` or :class:`~ncp_control.CTRNN` (no mixed memory).
    :param inputs: input sequences ``[B, T, F]`` like those the model will see.
    :param timespans: their elapsed times, as for ``model(...)``.
    :param solver: ``"hyper_semi_implicit"`` or ``"hyper_euler"``.
    :param unfolds: step counts per time step to fit for (the correction reads the step length).
    :param hidden: width of the correction's hidden layer.
    :param iterations: Adam steps.
    :param lr: Adam's learning rate (decayed to a tenth by a cosine schedule).
    :param batch_size: training steps per Adam step.
    :param seed: seed of the correction's initialisation and the minibatches.
    :param reference: the flow to follow, as ``(fixed-step solver, unfolds)``: by default the
        accurate one (RK4 at :data:`REFERENCE_UNFOLDS` steps); a model trained with a coarse
        solver (a policy trained at ``("semi_implicit", 6)``) may be better served by the solver
        it was trained with. Each of the base's ``n`` sub-steps follows ``unfolds // n`` of its
        steps (use step counts that divide ``unfolds``).
    :param rounds: fitting rounds; after the first, each round adds the states the hypersolver
        itself visits on ``inputs`` (at every step count) to the training steps and trains on
        (``iterations`` Adam steps a round), so that the correction also learns where its own
        errors take the trajectory.
    :return: a :class:`FitReport` (local errors over every round's training steps).
    :raises UserError: for another model, an unknown ``solver`` or ``reference``, or bad counts.
    """
    cell = solver_cell(model)
    if solver not in HYPER_BASE:
        raise UserError(f"solver must be one of {tuple(HYPER_BASE)}, got {solver!r}")
    unfolds = tuple(check_int("unfolds", n, 1) for n in unfolds)
    if not unfolds:
        raise UserError("unfolds must name at least one step count, got ()")
    iterations = check_int("iterations", iterations, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    rounds = check_int("rounds", rounds, 1)
    base = HYPER_BASE[solver]
    reference = _check_reference(reference)
    x, _, ts, _ = model._prepare(inputs, None, timespans, None)
    with torch.no_grad():
        mapped = cell.map_inputs(x.reshape(-1, x.shape[-1]))  # [B T, F]
    generator = torch.Generator().manual_seed(seed)
    columns: list[list[torch.Tensor]] = [[] for _ in range(6)]  # v, f(v), u, h, exact, base step
    trajectories = [solver_states(model, inputs, timespans, *reference)]
    correction: HyperCorrection | None = None
    saved = cell.hypersolver
    try:
        for _ in range(rounds):
            if correction is not None:  # the hypersolver's own trajectories join the training steps
                correction.fitted.fill_(True)
                cell.hypersolver = correction
                trajectories = [solver_states(model, inputs, timespans, solver, n) for n in unfolds]
            with torch.no_grad():
                for states in trajectories:
                    steps = _training_steps(cell, states[:, :-1].reshape(-1, states.shape[-1]), mapped,
                                            ts.reshape(-1), base, unfolds, reference)
                    for column, part in zip(columns, steps, strict=True):
                        column.append(part)
                v, dv, u, h, exact, stepped = (torch.cat(column) for column in columns)
                target = (exact - stepped) / h.square()
            if correction is None:
                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(seed)
                    correction = HyperCorrection(v.shape[-1], u.shape[-1], base, hidden).to(v)
                with torch.no_grad():
                    correction.standardise(torch.cat((v, dv, u, h), -1), target)
            _train(correction, (v, dv, u, h, target), iterations, lr, batch_size, generator)
    except BaseException:
        cell.hypersolver = saved
        raise
    assert correction is not None
    with torch.no_grad():
        correction.fitted.fill_(True)
        fitted = stepped + h.square() * correction(v, dv, u, h)
        report = FitReport(
            solver,
            unfolds,
            int(v.shape[0]),
            math.sqrt(float((stepped - exact).square().mean())),
            math.sqrt(float((fitted - exact).square().mean())),
        )
    cell.hypersolver = correction
    return report


def _train(
    correction: HyperCorrection,
    data: tuple[torch.Tensor, ...],
    iterations: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
) -> None:
    """Adam on the standardised residual error, with a cosine decay of the learning rate to a tenth.

    :param correction: the network, trained in place.
    :param data: ``(v, f(v), u, h, target)`` of the training steps.
    :param iterations: Adam steps.
    :param lr: learning rate.
    :param batch_size: steps per minibatch.
    :param generator: the minibatches' random stream.
    """
    v, dv, u, h, target = data
    optimiser = torch.optim.Adam(correction.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, iterations, eta_min=lr / 10)
    for _ in range(iterations):
        batch = torch.randint(0, v.shape[0], (min(batch_size, v.shape[0]),), generator=generator)
        error = (correction(v[batch], dv[batch], u[batch], h[batch]) - target[batch]) / correction.out_scale
        loss = error.square().mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    optimiser.zero_grad(set_to_none=True)
