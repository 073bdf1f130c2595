"""The hypersolver's correction network and the check that a cell can use it."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ncp_control.errors import UserError
from ncp_control.solvers.steps import HYPER_BASE
from ncp_control.wirings.base import check_int

#: base solvers a correction can be fitted for
HYPER_BASES = tuple(HYPER_BASE.values())


class HyperCorrection(nn.Module):
    """``g(v, f(v), u, h)``: a small MLP that predicts a base solver's local error divided by ``h**2``
    (Poli et al., "Hypersolvers", NeurIPS 2020), so that ``v + h f(v) + h**2 g(v, f(v), u, h)``
    follows the exact flow more closely than the base step alone.

    The last layer starts at zero (an unfitted correction leaves the base solver unchanged)
    and the buffer ``fitted`` records whether :func:`~ncp_control.solvers.fit_hypersolver`
    has trained it; both travel in the model's ``state_dict``.

    :param state_size: neurons N.
    :param input_size: features F of the mapped inputs.
    :param base: the base solver, ``"euler"`` or ``"semi_implicit"``.
    :param hidden: width of the hidden layer.
    """

    fitted: torch.Tensor
    in_shift: torch.Tensor
    in_scale: torch.Tensor
    out_scale: torch.Tensor

    def __init__(self, state_size: int, input_size: int, base: str = "semi_implicit", hidden: int = 64) -> None:
        super().__init__()
        if base not in HYPER_BASES:
            raise UserError(f"hypersolver base must be one of {HYPER_BASES}, got {base!r}")
        self.state_size = check_int("state_size", state_size, 1)
        self.input_size = check_int("input_size", input_size, 1)
        self.base = base
        self.hidden = check_int("hidden", hidden, 1)
        self.net = nn.Sequential(
            nn.Linear(2 * self.state_size + self.input_size + 1, self.hidden),
            nn.Tanh(),
            nn.Linear(self.hidden, self.state_size),
        )
        last = self.net[-1]
        assert isinstance(last, nn.Linear)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        features = 2 * self.state_size + self.input_size + 1
        self.register_buffer("in_shift", torch.zeros(features))
        self.register_buffer("in_scale", torch.ones(features))
        self.register_buffer("out_scale", torch.ones(self.state_size))

    def standardise(self, features: torch.Tensor, target: torch.Tensor) -> None:
        """Set the input shift and scale and the output scale from training data, so that the
        network sees and predicts values of order one.

        :param features: ``cat(v, f(v), u, h)`` of the training steps ``[P, 2 N + F + 1]``.
        :param target: the residuals to predict ``[P, N]``.
        """
        self.in_shift.copy_(features.mean(0))
        self.in_scale.copy_(features.std(0).clamp_min(1e-6) if features.shape[0] > 1 else features.abs().mean(0) + 1)
        self.out_scale.copy_(target.square().mean(0).sqrt().clamp_min(1e-12))

    def forward(self, v: torch.Tensor, dv: torch.Tensor, u: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """:param v: state ``[B, N]``.
        :param dv: the vector field ``f(v)`` ``[B, N]``.
        :param u: mapped inputs ``[B, F]``.
        :param h: step length ``[B, 1]``.
        :return: the correction ``[B, N]`` (multiplied by ``h**2`` by the solver)."""
        z = (torch.cat((v, dv, u, h), -1) - self.in_shift) / self.in_scale
        return self.net(z) * self.out_scale  # type: ignore[no-any-return]

    def config(self) -> dict[str, Any]:
        """:return: the ``hypersolver`` argument of the sequence models, ``{"base", "hidden"}``."""
        return {"base": self.base, "hidden": self.hidden}


def build_correction(state_size: int, input_size: int, config: dict[str, Any] | None) -> HyperCorrection | None:
    """:param state_size: neurons N.
    :param input_size: features F.
    :param config: ``{"base": ..., "hidden": ...}`` (the models' ``hypersolver`` argument) or None.
    :return: an unfitted correction, or None.
    :raises UserError: for a config that is not such a dict."""
    if config is None:
        return None
    if not isinstance(config, dict) or not set(config) <= {"base", "hidden"}:
        raise UserError(f"hypersolver must be None or a dict with keys 'base' and 'hidden', got {config!r}")
    return HyperCorrection(state_size, input_size, **config)


def check_hyper_solver(solver: str, correction: HyperCorrection | None) -> None:
    """Refuse a hypersolver without a matching correction (at construction: fitted or not).

    :param solver: the cell's solver.
    :param correction: the cell's correction network or None.
    :raises UserError: naming ``solver`` and what to do.
    """
    if solver not in HYPER_BASE:
        return
    if correction is None:
        raise UserError(
            f"solver={solver!r} needs a correction network: fit one with "
            "ncp_control.solvers.fit_hypersolver(model, inputs, timespans) or pass hypersolver={...}"
        )
    if correction.base != HYPER_BASE[solver]:
        raise UserError(
            f"solver={solver!r} needs a correction fitted for base {HYPER_BASE[solver]!r}, "
            f"the model's is for {correction.base!r}: refit with fit_hypersolver(..., solver={solver!r})"
        )


def active_correction(solver: str, correction: HyperCorrection | None) -> HyperCorrection | None:
    """The correction a step uses: None for plain solvers; for a hypersolver the cell's fitted one.

    :param solver: the solver in use.
    :param correction: the cell's correction network or None.
    :return: the correction to apply, or None.
    :raises UserError: for a hypersolver whose correction is missing, of another base, or unfitted.
    """
    if solver not in HYPER_BASE:
        return None
    check_hyper_solver(solver, correction)
    assert correction is not None
    if not bool(correction.fitted):
        raise UserError(
            f"solver={solver!r} needs a fitted correction: call ncp_control.solvers.fit_hypersolver("
            "model, inputs, timespans) or load a fitted model's state_dict"
        )
    return correction


def solver_config(config: dict[str, Any], cell: Any) -> dict[str, Any]:
    """A sequence model's config with its cell's solver settings as they are now (a fitted or
    switched hypersolver included), so that ``model_from_config`` builds a model whose
    ``state_dict`` loads.

    :param config: the model's config.
    :param cell: its LTC or CT-RNN cell (``solver``, ``ode_unfolds``, ``hypersolver``).
    :return: a copy with ``solver``, ``ode_unfolds`` and ``hypersolver`` updated.
    """
    correction = cell.hypersolver
    return dict(
        config,
        solver=cell.solver,
        ode_unfolds=cell.ode_unfolds,
        hypersolver=None if correction is None else correction.config(),
    )
