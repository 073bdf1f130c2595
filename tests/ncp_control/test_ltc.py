"""LTC: equality with ncps 1.0.1, agreement between solvers, adjoint gradients."""

from __future__ import annotations

import ncps.torch as ncps_torch
import ncps.wirings as ncps_wirings
import pytest
import torch

from ncp_control import LTC, from_ncps
from ncp_control.wirings import NCP, AutoNCP


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("kind", ["unwired", "autoncp", "ncp"])
def test_equals_ncps(kind: str, mixed: bool, implicit: bool, close, ncps_state) -> None:
    torch.manual_seed(3)
    units = {
        "unwired": 6,
        "autoncp": ncps_wirings.AutoNCP(10, 3, seed=5),
        "ncp": ncps_wirings.NCP(3, 3, 2, 2, 2, 2, 2),
    }[kind]
    reference = ncps_torch.LTC(4, units, mixed_memory=mixed, implicit_param_constraints=implicit)
    ours = from_ncps(reference)
    assert isinstance(ours, LTC)
    x = torch.randn(3, 5, 4)
    with torch.no_grad():
        y_ref, h_ref = reference(x)
        y, h = ours(x)
        close(y, y_ref)
        close(h, ncps_state(reference, h_ref))
        ts = torch.rand(1, 5, 1) * 3.0
        y_ref, h_ref = reference(x[:1], timespans=ts)
        y, h = ours(x[:1], timespans=ts)
        close(y, y_ref)
        close(h, ncps_state(reference, h_ref))


@pytest.mark.parametrize("mapping", [("linear", None), (None, "linear")])
def test_mappings_equal_ncps(mapping, close) -> None:
    torch.manual_seed(4)
    reference = ncps_torch.LTC(3, 5, input_mapping=mapping[0], output_mapping=mapping[1], ode_unfolds=3)
    ours = from_ncps(reference)
    x = torch.randn(2, 4, 3)
    with torch.no_grad():
        close(ours(x)[0], reference(x)[0])


def _copy(model: LTC, **kwargs) -> LTC:
    other = LTC(model.input_size, model.wiring, **kwargs).double()
    other.load_state_dict(model.state_dict())
    return other


def test_solvers_agree() -> None:
    """Every solver converges to the same solution (rk4 with fine steps as the reference)."""
    torch.manual_seed(5)
    base = LTC(3, AutoNCP(8, 2, input_size=3)).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    ts = torch.tensor([[0.5, 1.0, 2.0, 0.1], [1.5, 0.2, 0.7, 1.0]], dtype=torch.float64)
    exact, _ = _copy(base, solver="rk4", ode_unfolds=40)(x, timespans=ts)

    def error(**kwargs) -> float:
        return (_copy(base, **kwargs)(x, timespans=ts)[0] - exact).abs().max().item()

    assert error(solver="dopri5", rtol=1e-6, atol=1e-8) < 1e-6
    assert error(solver="rk4", ode_unfolds=10) < 1e-5
    # first-order solvers: 10x more steps, about 10x smaller error
    for solver in ("euler", "semi_implicit"):
        coarse, fine = error(solver=solver, ode_unfolds=20), error(solver=solver, ode_unfolds=200)
        assert fine < 5e-3 and 5.0 < coarse / fine < 20.0, (solver, coarse, fine)


def test_adjoint_gradients_match_fixed_step_backprop() -> None:
    torch.manual_seed(6)
    base = LTC(2, NCP(2, 2, 1, 1, 1, 2, 1, input_size=2)).double()
    x = torch.randn(2, 3, 2, dtype=torch.float64)
    ts = torch.tensor([[0.3, 1.0, 0.6], [1.2, 0.4, 0.9]], dtype=torch.float64)

    def gradients(model: LTC) -> list[torch.Tensor]:
        y, h = model(x, timespans=ts)
        loss = (y**2).sum() + h.sin().sum()
        params = [p for p in model.parameters() if p.requires_grad]
        return list(torch.autograd.grad(loss, params))

    adjoint = gradients(_copy(base, solver="dopri5", adjoint=True, rtol=1e-7, atol=1e-9))
    fixed = gradients(_copy(base, solver="rk4", ode_unfolds=30))
    assert len(adjoint) == len(fixed)
    for a, f in zip(adjoint, fixed):
        assert torch.allclose(a, f, rtol=1e-5, atol=1e-8), (a - f).abs().max()


def test_explicit_constraints_clip() -> None:
    model = LTC(2, 4, implicit_param_constraints=False)
    with torch.no_grad():
        model.ltc_cell.cm.fill_(-1.0)
    model.apply_weight_constraints()
    assert (model.ltc_cell.cm == 0).all()


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"solver": "midpoint"}, "solver"),
        ({"adjoint": True}, "adjoint"),
        ({"ode_unfolds": 0}, "ode_unfolds"),
        ({"input_mapping": "cubic"}, "input_mapping"),
    ],
)
def test_invalid_arguments(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        LTC(3, 4, **kwargs)
