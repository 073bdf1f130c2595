"""Properties (hypothesis): LTC bounds, finiteness at extreme timespans, finite gradients."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ncp_control import CTRNN, LTC, CfC
from ncp_control.wirings import AutoNCP

F = 3
SETTINGS = settings(max_examples=8, deadline=None, derandomize=True)


def all_models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(31)
    return {
        "cfc": CfC(F, 6, backbone_units=8),
        "cfc_pure": CfC(F, 6, mode="pure", backbone_units=8),
        "cfc_no_gate_mixed": CfC(F, 6, mode="no_gate", mixed_memory=True, backbone_units=8),
        "cfc_wired": CfC(F, AutoNCP(8, 2)),
        "ltc": LTC(F, AutoNCP(8, 2)),
        "ltc_mixed": LTC(F, 5, mixed_memory=True),
        "ltc_explicit": LTC(F, 5, implicit_param_constraints=False),
        "ctrnn": CTRNN(F, AutoNCP(8, 2)),
    }


MODELS = all_models()


def ltc_bounds(cell, v0: torch.Tensor) -> tuple[float, float]:
    """The LTC paper's bound for the fused solver: every state stays within the range of the
    initial state, the leak potentials, the reversal potentials and 0."""
    values = [
        v0.flatten(),
        cell.vleak.flatten(),
        cell.erev.flatten(),
        cell.sensory_erev.flatten(),
        torch.zeros(1),
    ]
    everything = torch.cat(values)
    return everything.min().item(), everything.max().item()


@SETTINGS
@given(
    seed=st.integers(0, 2**16),
    scale=st.floats(0.1, 10.0),
    dt=st.one_of(st.just(0.0), st.floats(1e-3, 1e3)),
    unfolds=st.integers(1, 8),
)
def test_ltc_states_within_paper_bounds(seed: int, scale: float, dt: float, unfolds: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    model = LTC(F, AutoNCP(8, 2, input_size=F), ode_unfolds=unfolds)
    cell = model.cell
    with torch.no_grad():
        for param in cell.parameters():
            param.add_(torch.randn(param.shape, generator=generator) * scale)
        x = torch.randn(2, 6, F, generator=generator) * 10 * scale
        v0 = torch.randn(2, cell.state_size, generator=generator) * scale
        ts = torch.rand(2, 6, generator=generator) * dt
        low, high = ltc_bounds(cell, v0)
        state = v0
        for t in range(6):
            _, state = cell(x[:, t], state, ts[:, t])
            assert torch.isfinite(state).all()
            assert state.min().item() >= low - 1e-5 and state.max().item() <= high + 1e-5


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=3, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16), dt=st.sampled_from([0.0, 1e3]))
def test_finite_for_extreme_timespans(name: str, seed: int, dt: float) -> None:
    model = MODELS[name]
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 5, F, generator=generator) * 5
    h0 = torch.randn(2, model.state_size, generator=generator)
    y, h = model(x, hx=h0, timespans=dt)
    assert torch.isfinite(y).all() and torch.isfinite(h).all()
    if dt == 0.0 and name in ("ltc", "ctrnn"):
        # no time elapses: the state does not move
        assert torch.allclose(h, h0, atol=1e-5)
    (y.square().mean() + h.square().mean()).backward()
    for param in model.parameters():
        if param.grad is not None:
            assert torch.isfinite(param.grad).all(), name
            param.grad = None


@pytest.mark.parametrize("name", sorted(MODELS))
@settings(max_examples=3, deadline=None, derandomize=True)
@given(seed=st.integers(0, 2**16))
def test_finite_gradients_random_timespans(name: str, seed: int) -> None:
    model = MODELS[name]
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(3, 6, F, generator=generator).requires_grad_()
    ts = torch.rand(3, 6, generator=generator) * 10.0
    resets = torch.rand(3, 6, generator=generator) < 0.2
    y, h = model(x, timespans=ts, resets=resets)
    (y.sum() + h.sum()).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for param in model.parameters():
        if param.grad is not None:
            assert torch.isfinite(param.grad).all(), name
            param.grad = None


@SETTINGS
@given(seed=st.integers(0, 2**16), dt=st.floats(0.0, 1e3))
def test_ctrnn_semi_implicit_bound(seed: int, dt: float) -> None:
    """|x| stays below max(|x0|, tau) since the drive is a tanh."""
    generator = torch.Generator().manual_seed(seed)
    model = CTRNN(F, 6)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn(param.shape, generator=generator))
        h0 = torch.randn(2, 6, generator=generator) * 3
        _, h = model(torch.randn(2, 5, F, generator=generator) * 10, hx=h0, timespans=dt)
        bound = torch.maximum(h0.abs().max(), model.cell.time_constant().max())
    assert (h.abs() <= bound + 1e-5).all()
