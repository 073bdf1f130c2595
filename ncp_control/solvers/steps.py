"""Fixed-step solvers as short functions, and the unfold loop that every cell shares.

A *field* is ``f(v [B, N]) -> dv/dt [B, N]`` with the step's inputs already bound; a *step*
is ``step(f, v [B, N], h [B, 1]) -> v' [B, N]``; :data:`EXPLICIT_STEPS` maps solver names to
them. The semi-implicit steps depend on the cell's equations and stay with the cells. A
hypersolver (Poli et al., NeurIPS 2020) adds a learned correction to its base step,
``v' = base(v) + h**2 * g(v, u, h)``; :data:`HYPER_BASE` names each one's base.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

#: ``f(v [B, N]) -> dv/dt [B, N]``
Field = Callable[[torch.Tensor], torch.Tensor]
#: ``step(v [B, N]) -> v' [B, N]``: one base step with its length and inputs bound
BoundStep = Callable[[torch.Tensor], torch.Tensor]
#: ``g(v [B, N], dv [B, N], u [B, F], h [B, 1]) -> [B, N]``: a hypersolver's correction
#: (``dv = f(v)``, the vector field at the step's start)
Correction = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def euler(f: Field, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Explicit Euler, ``v + h f(v)``.

    :param f: the vector field.
    :param v: state ``[B, N]``.
    :param h: step length ``[B, 1]``.
    :return: ``[B, N]``.
    """
    return v + h * f(v)


def rk4(f: Field, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The classical fourth-order Runge-Kutta step.

    :param f: the vector field.
    :param v: state ``[B, N]``.
    :param h: step length ``[B, 1]``.
    :return: ``[B, N]``.
    """
    k1 = f(v)
    k2 = f(v + 0.5 * h * k1)
    k3 = f(v + 0.5 * h * k2)
    k4 = f(v + h * k3)
    return v + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


#: explicit steps by solver name
EXPLICIT_STEPS: dict[str, Callable[[Field, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "euler": euler,
    "rk4": rk4,
}

#: hypersolvers and their base solvers
HYPER_BASE = {"hyper_euler": "euler", "hyper_semi_implicit": "semi_implicit"}


def base_solver(solver: str) -> str:
    """:param solver: a fixed-step solver or hypersolver name.
    :return: the solver whose steps it takes (itself for a plain solver)."""
    return HYPER_BASE.get(solver, solver)


def unfold(
    step: BoundStep,
    v: torch.Tensor,
    steps: int,
    correction: Correction | None = None,
    field: Field | None = None,
    u: torch.Tensor | None = None,
    h: torch.Tensor | None = None,
) -> torch.Tensor:
    """Take ``steps`` steps, each corrected by ``h**2 * correction(v, field(v), u, h)`` if one
    is given.

    :param step: one base step.
    :param v: initial state ``[B, N]``.
    :param steps: number of steps.
    :param correction: a hypersolver's correction network, or None.
    :param field: the vector field (read by the correction).
    :param u: the step's inputs ``[B, F]`` (read by the correction).
    :param h: step length ``[B, 1]`` (read by the correction).
    :return: the final state ``[B, N]``.
    """
    if correction is None:
        for _ in range(steps):
            v = step(v)
        return v
    assert field is not None and u is not None and h is not None
    scale = h * h
    for _ in range(steps):
        v = step(v) + scale * correction(v, field(v), u, h)
    return v
