"""The hypersolver: outputs and gradients against a plain loop, fitting, save and load, errors."""

from __future__ import annotations

import json

import pytest
import torch

from ncp_control import CTRNN, LTC, AutoNCP, model_from_config
from ncp_control.errors import UserError
from ncp_control.solvers import (
    EXPLICIT_STEPS,
    HyperCorrection,
    fit_hypersolver,
    reference_states,
    solver_states,
    trajectory_error,
    use_solver,
)

FEATURES = 3


def inputs(seed: int, batch: int = 8, steps: int = 30) -> torch.Tensor:
    """Smooth random input sequences ``[B, T, F]``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, steps, FEATURES, generator=g).cumsum(1) * 0.3


def ltc(implementation: str = "fast") -> LTC:
    torch.manual_seed(0)
    return LTC(FEATURES, AutoNCP(10, 2, seed=1), implementation=implementation)


@pytest.fixture(scope="module")
def fitted() -> LTC:
    """An LTC with a semi-implicit hypersolver fitted quickly (small budget)."""
    model = ltc()
    fit_hypersolver(model, inputs(1), 1.0, "hyper_semi_implicit", (1, 2), hidden=32, iterations=300, lr=1e-2)
    return model


def plain_loop(model: LTC, x: torch.Tensor, dt: float, unfolds: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The semi-implicit hypersolver written out step by step, from the cell's parameters."""
    cell = model.cell
    correction = cell.hypersolver
    v = torch.zeros(x.shape[0], cell.state_size)
    h = torch.full((x.shape[0], 1), dt / unfolds)
    outputs = []
    for t in range(x.shape[1]):
        u = cell.map_inputs(x[:, t])
        sensory = cell.sensory_terms(u)
        weights = cell.weights()
        for _ in range(unfolds):
            dv = cell.derivative(v, sensory, weights)
            num, den = cell.synaptic_terms(v, *weights)
            cm_t = cell.positive(cell.cm) / h
            gleak = cell.positive(cell.gleak)
            stepped = (cm_t * v + gleak * cell.vleak + sensory[0] + num) / (
                cm_t + gleak + sensory[1] + cell.epsilon + den
            )
            v = stepped + h * h * correction(v, dv, u, h)
        outputs.append(cell.map_outputs(v))
    return torch.stack(outputs, 1), v


@pytest.mark.parametrize("unfolds", [1, 2])
def test_hypersolver_outputs_and_gradients_equal_a_plain_loop(fitted: LTC, unfolds: int) -> None:
    use_solver(fitted, "hyper_semi_implicit", unfolds)
    x = inputs(3, batch=4, steps=6).requires_grad_()
    y, h = fitted(x, timespans=1.0)  # implementation "fast" declines and runs the per-step loop
    y_ref, h_ref = plain_loop(fitted, x, 1.0, unfolds)
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(h, h_ref)
    params = [p for p in fitted.parameters() if p.requires_grad]
    grads = torch.autograd.grad(y.square().sum(), [x, *params])
    grads_ref = torch.autograd.grad(y_ref.square().sum(), [x, *params])
    for g, g_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(g, g_ref)
    assert all(p.grad is None for p in fitted.cell.hypersolver.parameters())  # fitting leaves no gradients


def test_fast_path_declines_hypersolvers(fitted: LTC) -> None:
    from ncp_control import fast

    use_solver(fitted, "hyper_semi_implicit", 1)
    x = inputs(3, batch=2, steps=4)
    assert fast.fast_unroll(fitted, x, torch.zeros(2, fitted.state_size), torch.ones(2, 4), None) is None
    with torch.no_grad():
        reference = model_copy(fitted, "reference")(x)[0]
        torch.testing.assert_close(fitted(x)[0], reference)


def model_copy(model: LTC, implementation: str) -> LTC:
    copy = model_from_config(json.loads(json.dumps(model.config())))
    copy.load_state_dict(model.state_dict())
    copy.implementation = implementation
    assert isinstance(copy, LTC)
    return copy


def test_fit_reduces_the_error_of_its_base_on_held_out_trajectories(fitted: LTC) -> None:
    held_out = inputs(2)
    reference = reference_states(fitted, held_out, 1.0)
    for unfolds in (1, 2):
        base = trajectory_error(fitted, held_out, 1.0, "semi_implicit", unfolds, reference)
        hyper = trajectory_error(fitted, held_out, 1.0, "hyper_semi_implicit", unfolds, reference)
        assert hyper < 0.7 * base, (unfolds, hyper, base)


def test_later_rounds_train_on_the_hypersolvers_own_trajectories() -> None:
    model = ltc()
    x = inputs(1, batch=4, steps=10)
    one = fit_hypersolver(model, x, 1.0, "hyper_semi_implicit", (1, 2), hidden=8, iterations=20, rounds=1)
    two = fit_hypersolver(model, x, 1.0, "hyper_semi_implicit", (1, 2), hidden=8, iterations=20, rounds=2)
    # semi-implicit takes n steps for n unfolds: 4 x 10 x (1 + 2) steps per trajectory set;
    # round two adds the hypersolver's own trajectories at 1 and at 2 unfolds
    assert one.pairs == 4 * 10 * 3 and two.pairs == 3 * one.pairs


def test_fit_to_a_coarse_reference_follows_that_solver() -> None:
    model = ltc()
    fit_hypersolver(model, inputs(1), 1.0, "hyper_semi_implicit", (1, 2), hidden=32, iterations=300, lr=1e-2,
                    reference=("semi_implicit", 6))
    held_out = inputs(2)
    coarse = solver_states(model, held_out, 1.0, "semi_implicit", 6)
    for unfolds in (1, 2):
        base = trajectory_error(model, held_out, 1.0, "semi_implicit", unfolds, coarse)
        hyper = trajectory_error(model, held_out, 1.0, "hyper_semi_implicit", unfolds, coarse)
        assert hyper < 0.5 * base, (unfolds, hyper, base)


def test_hyper_euler_on_ctrnn_reduces_the_error_of_euler() -> None:
    torch.manual_seed(0)
    model = CTRNN(FEATURES, 8)
    report = fit_hypersolver(model, inputs(1), 0.5, "hyper_euler", (1,), hidden=32, iterations=300, lr=1e-2)
    assert report.local_error_fitted < 0.5 * report.local_error_base
    held_out = inputs(2)
    reference = reference_states(model, held_out, 0.5)
    base = trajectory_error(model, held_out, 0.5, "euler", 1, reference)
    assert trajectory_error(model, held_out, 0.5, "hyper_euler", 1, reference) < 0.7 * base


def test_save_and_load_round_trip(fitted: LTC) -> None:
    use_solver(fitted, "hyper_semi_implicit", 1)
    config = fitted.config()
    assert config["solver"] == "hyper_semi_implicit" and config["ode_unfolds"] == 1
    assert config["hypersolver"] == {"base": "semi_implicit", "hidden": 32}
    loaded = model_copy(fitted, "fast")
    assert bool(loaded.cell.hypersolver.fitted)
    x = inputs(4, batch=2, steps=5)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], fitted(x)[0], rtol=0, atol=0)


def test_hypersolver_without_a_fitted_correction_is_refused() -> None:
    with pytest.raises(UserError, match="solver='hyper_euler' needs a correction network"):
        LTC(FEATURES, 6, solver="hyper_euler")
    model = LTC(FEATURES, 6, solver="hyper_euler", hypersolver={"base": "euler", "hidden": 8})
    with pytest.raises(UserError, match="solver='hyper_euler' needs a fitted correction"):
        model(inputs(0, 1, 2))
    with pytest.raises(UserError, match="solver='hyper_semi_implicit' needs a correction fitted for base"):
        LTC(FEATURES, 6, solver="hyper_semi_implicit", hypersolver={"base": "euler", "hidden": 8})
    with pytest.raises(UserError, match="solver='hyper_euler' needs a correction network"):
        use_solver(LTC(FEATURES, 6), "hyper_euler", 1)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda m: fit_hypersolver(m, inputs(0), 1.0, solver="rk4"), "solver"),
        (lambda m: fit_hypersolver(m, inputs(0), 1.0, unfolds=(0,)), "unfolds"),
        (lambda m: fit_hypersolver(m, inputs(0), 1.0, iterations=0), "iterations"),
        (lambda m: fit_hypersolver(m, inputs(0), 1.0, rounds=0), "rounds"),
        (lambda m: fit_hypersolver(m, inputs(0), 1.0, reference=("dopri5", 6)), "reference"),
        (lambda m: fit_hypersolver(m, inputs(0), 1.0, reference=("rk4", 0)), "reference unfolds"),
        (lambda m: use_solver(m, "nope", 1), "solver"),
        (lambda m: use_solver(m, "euler", 0), "ode_unfolds"),
        (lambda m: LTC(FEATURES, 6, hypersolver={"width": 3}), "hypersolver"),
        (lambda m: HyperCorrection(4, 2, base="rk4"), "base"),
    ],
)
def test_bad_arguments_name_the_argument(call: object, name: str) -> None:
    with pytest.raises(UserError, match=name):
        call(LTC(FEATURES, 6))  # type: ignore[operator]


def test_mixed_memory_is_refused() -> None:
    with pytest.raises(UserError, match="model must be an LTC or CTRNN without mixed memory"):
        fit_hypersolver(LTC(FEATURES, 6, mixed_memory=True), inputs(0), 1.0)


def test_explicit_steps_table() -> None:
    def f(v: torch.Tensor) -> torch.Tensor:
        return -v

    v, h = torch.ones(1, 1), torch.full((1, 1), 0.1)
    assert float(EXPLICIT_STEPS["euler"](f, v, h)) == pytest.approx(0.9)
    assert float(EXPLICIT_STEPS["rk4"](f, v, h)) == pytest.approx(float(torch.exp(torch.tensor(-0.1))), abs=1e-6)
