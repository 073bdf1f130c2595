"""Sequence interface: LSTM/GRU/MLP wrappers and liquid models handle resets like a step loop."""

from __future__ import annotations

import pytest
import torch as th
from ncp_control.agents.sequence import GRUSequence, LSTMSequence, MLPSequence, make_sequence_model


def _step_reference(model: th.nn.Module, x: th.Tensor, hx: th.Tensor, resets: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """Run one step at a time, zeroing the state by hand before each reset step."""
    ys = []
    h = hx
    for t in range(x.shape[1]):
        h = h * (~resets[:, t]).float().unsqueeze(-1)
        y, h = model(x[:, t : t + 1], h, None, None)
        ys.append(y)
    return th.cat(ys, dim=1), h


@pytest.mark.parametrize("network", ["lstm", "gru", "cfc", "ltc"])
def test_resets_inside_a_sequence_equal_a_step_loop(network: str) -> None:
    th.manual_seed(0)
    model = make_sequence_model(network, 3, 8)
    x = th.randn(4, 7, 3)
    hx = th.randn(4, model.state_size)
    resets = th.zeros(4, 7, dtype=th.bool)
    resets[0, 0] = resets[1, 3] = resets[2, 3] = resets[3, 6] = True
    y, h = model(x, hx, None, resets)
    y_ref, h_ref = _step_reference(model, x, hx, resets)
    th.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-5)
    th.testing.assert_close(h, h_ref, atol=1e-5, rtol=1e-5)


def test_lstm_state_is_h_then_c() -> None:
    th.manual_seed(0)
    model = LSTMSequence(3, 5)
    x, hx = th.randn(2, 4, 3), th.randn(2, 10)
    y, h = model(x, hx)
    y_ref, (h_ref, c_ref) = model.rnn(x, (hx[:, :5].unsqueeze(0).contiguous(), hx[:, 5:].unsqueeze(0).contiguous()))
    th.testing.assert_close(y, y_ref)
    th.testing.assert_close(h, th.cat([h_ref[0], c_ref[0]], dim=-1))
    assert model.state_size == 10 and GRUSequence(3, 5).state_size == 5


def test_mlp_is_stateless() -> None:
    model = MLPSequence(3, [16, 8])
    y, h = model(th.randn(2, 4, 3), th.zeros(2, 0))
    assert y.shape == (2, 4, 8) and h.shape == (2, 0) and model.state_size == 0


def test_unknown_network_and_misplaced_options_raise() -> None:
    with pytest.raises(ValueError, match="network must be one of"):
        make_sequence_model("transformer", 3, 8)
    with pytest.raises(ValueError, match="cell_kwargs"):
        make_sequence_model("lstm", 3, 8, cell_kwargs={"mode": "pure"})
