"""The shared unroll: timespans, resets, layouts and validation, for every model."""

from __future__ import annotations

import pytest
import torch

from ncp_control import CTRNN, LTC, CfC
from ncp_control.wirings import AutoNCP

F = 4


def models() -> list[torch.nn.Module]:
    torch.manual_seed(11)
    return [
        CfC(F, 6, backbone_units=8),
        CfC(F, AutoNCP(10, 2), mode="pure"),
        CfC(F, 5, mixed_memory=True, mode="no_gate", proj_size=2, backbone_layers=0),
        LTC(F, AutoNCP(10, 2), ode_unfolds=2),
        LTC(F, 5, mixed_memory=True, ode_unfolds=2),
        CTRNN(F, AutoNCP(10, 2), ode_unfolds=2),
    ]


MODELS = models()
IDS = ["cfc", "cfc_wired_pure", "cfc_mixed_proj", "ltc_wired", "ltc_mixed", "ctrnn_wired"]


@pytest.fixture(params=range(len(MODELS)), ids=IDS)
def model(request) -> torch.nn.Module:
    return MODELS[request.param]


def test_batched_timespans_equal_per_sample_runs(model, close) -> None:
    x = torch.randn(3, 5, F)
    ts = torch.rand(3, 5) * 2.0
    with torch.no_grad():
        y, h = model(x, timespans=ts)
        for b in range(3):
            y_b, h_b = model(x[b : b + 1], timespans=ts[b : b + 1])
            close(y[b : b + 1], y_b)
            close(h[b : b + 1], h_b)
        # the other accepted forms of timespans
        close(model(x, timespans=ts.unsqueeze(-1))[0], y)
        per_sample = torch.tensor([0.5, 1.0, 2.0])
        close(model(x, timespans=per_sample)[0], model(x, timespans=per_sample[:, None].expand(3, 5))[0])
        close(model(x, timespans=0.7)[0], model(x, timespans=torch.full((3, 5), 0.7))[0])
        close(model(x)[0], model(x, timespans=1.0)[0])


def test_reset_equals_fresh_sequence(model, close) -> None:
    x = torch.randn(2, 6, F)
    resets = torch.zeros(2, 6, dtype=torch.bool)
    resets[0, 3] = True
    with torch.no_grad():
        y, _ = model(x, resets=resets)
        fresh, _ = model(x[:1, 3:])
        close(y[:1, 3:], fresh)
        close(y[1:], model(x[1:])[0])
        # a reset wipes any initial state too
        y0, _ = model(x, hx=torch.randn(2, model.state_size), resets=torch.ones(2, 6, dtype=torch.bool))
        close(y0[:, 0], model(x[:, :1])[0][:, 0])


def test_state_carries_across_calls(model, close) -> None:
    x = torch.randn(2, 6, F)
    with torch.no_grad():
        y, h = model(x)
        y1, h1 = model(x[:, :2])
        y2, h2 = model(x[:, 2:], hx=h1)
        close(torch.cat([y1, y2], 1), y)
        close(h2, h)
        # one cell step at a time gives the same
        state = torch.zeros(2, model.state_size)
        for t in range(6):
            out, state = model.cell(x[:, t], state, torch.ones(2))
            close(out, y[:, t])


def test_layouts(model, close) -> None:
    x = torch.randn(2, 4, F)
    with torch.no_grad():
        y, h = model(x)
        assert y.shape == (2, 4, model.output_size) and h.shape == (2, model.state_size)
        y_u, h_u = model(x[0], timespans=torch.ones(4))
        close(y_u, y[0])
        close(h_u, h[0])
        model.batch_first = False
        try:
            y_t, h_t = model(x.transpose(0, 1), timespans=torch.ones(4, 2))
        finally:
            model.batch_first = True
        close(y_t.transpose(0, 1), y)
        close(h_t, h)
        model.return_sequences = False
        try:
            close(model(x)[0], y[:, -1])
        finally:
            model.return_sequences = True


def test_gradients_flow_to_inputs_and_state(model) -> None:
    x = torch.randn(2, 3, F, requires_grad=True)
    h0 = torch.zeros(2, model.state_size, requires_grad=True)
    y, h = model(x, hx=h0, timespans=torch.rand(2, 3))
    (y.square().sum() + h.square().sum()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert h0.grad is not None and torch.isfinite(h0.grad).all()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"x": torch.randn(2, 3, F + 1)}, r"\[B, T, F\]"),
        ({"x": torch.randn(2, 3, 2, F)}, r"\[B, T, F\]"),
        ({"timespans": torch.ones(2, 4)}, r"\[B, T\]"),
        ({"timespans": torch.ones(3)}, r"\[B\]"),
        ({"timespans": torch.ones(2, 3, 2)}, r"\[B, T, 1\]"),
        ({"timespans": torch.tensor([[1.0, float("nan"), 1.0]] * 2)}, "finite"),
        ({"timespans": float("inf")}, "finite"),
        ({"timespans": -1.0}, ">= 0"),
        ({"resets": torch.zeros(3, 2, dtype=torch.bool)}, r"\[B, T\]"),
        ({"hx": torch.zeros(2, 999)}, r"\[B, S\]"),
    ],
)
def test_validation(kwargs: dict, message: str) -> None:
    model = MODELS[0]
    args = {"x": torch.randn(2, 3, F)} | kwargs
    with pytest.raises(ValueError, match=message):
        model(**args)


def test_unbatched_validation() -> None:
    with pytest.raises(ValueError, match=r"\[T\]"):
        MODELS[0](torch.randn(3, F), timespans=torch.ones(4))
    with pytest.raises(ValueError, match=r"\[S\]"):
        MODELS[0](torch.randn(3, F), hx=torch.zeros(1, 6))


def test_registered_unroll_is_used_and_configured(close) -> None:
    from ncp_control import model_from_config
    from ncp_control.sequence import UNROLLS, register_unroll

    calls = []

    def counting(model, x, h, ts, resets):
        calls.append(x.shape)
        return model.unroll_reference(x, h, ts, resets)

    register_unroll("counting_test", counting)
    try:
        model = CfC(F, 5, implementation="counting_test")
        x = torch.randn(2, 3, F)
        y, _ = model(x)
        assert calls == [(2, 3, F)]
        assert model.config()["implementation"] == "counting_test"
        again = model_from_config(model.config())
        again.load_state_dict(model.state_dict())
        again.implementation = "reference"
        close(again(x)[0], y)
        assert again.config()["implementation"] == "reference"
    finally:
        UNROLLS.pop("counting_test")
    with pytest.raises(ValueError, match="implementation"):
        CfC(F, 5, implementation="counting_test")
    with pytest.raises(ValueError, match="reserved"):
        register_unroll("reference", counting)


def test_the_default_without_its_kernels_warns_once_and_runs_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without numba (the ``fast`` extra) the default implementation says so, once, and still
    gives the per-step loop's result."""
    import warnings

    import ncp_control.fast as fast
    import ncp_control.fast.dispatch as dispatch

    model = CfC(3, 8)
    x = torch.randn(2, 5, 3)
    expected, _ = model.unroll_reference(x, torch.zeros(2, model.state_size), torch.ones(2, 5), None)
    monkeypatch.setattr(fast, "available", lambda: False)
    monkeypatch.setattr(dispatch, "available", lambda: False)
    monkeypatch.setattr(fast, "_warned", False)
    with pytest.warns(RuntimeWarning, match=r"ncp-control\[fast\]"):
        y, _ = model(x)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model(x)  # said once per process
