"""from_ncps: wiring conversion, state layout, rejected modules."""

from __future__ import annotations

import ncps.torch as ncps_torch
import ncps.wirings as ncps_wirings
import numpy as np
import pytest
import torch

from ncp_control import CfC, from_ncps
from ncp_control.interop import wiring_from_ncps
from ncp_control.wirings import AutoNCP, FullyConnected, Random, Wiring


def test_wiring_conversion_keeps_kind_when_reproducible() -> None:
    cases = [
        (ncps_wirings.AutoNCP(16, 3, 0.4, seed=2), AutoNCP),
        (ncps_wirings.FullyConnected(5, 2, erev_init_seed=3), FullyConnected),
        (ncps_wirings.Random(6, 2, 0.5, random_seed=4), Random),
        (ncps_wirings.NCP(4, 3, 2, 2, 2, 3, 2, seed=1), Wiring),
    ]
    for reference, kind in cases:
        reference.build(5)
        ours = wiring_from_ncps(reference)
        assert type(ours) is kind
        np.testing.assert_array_equal(ours.adjacency_matrix, reference.adjacency_matrix)
        np.testing.assert_array_equal(ours.sensory_adjacency_matrix, reference.sensory_adjacency_matrix)
        assert ours.output_size == reference.output_dim
        assert ours.layers == tuple(
            tuple(reference.get_neurons_of_layer(i)) for i in range(reference.num_layers)
        )


def test_unbuilt_wiring_rejected() -> None:
    with pytest.raises(ValueError, match="built"):
        wiring_from_ncps(ncps_wirings.AutoNCP(8, 2))


def test_wired_cfc_initial_state_in_neuron_order(close, ncps_state) -> None:
    torch.manual_seed(12)
    reference = ncps_torch.CfC(3, ncps_wirings.AutoNCP(10, 2, seed=3), mixed_memory=True)
    ours = from_ncps(reference)
    assert isinstance(ours, CfC)
    x = torch.randn(2, 4, 3)
    h0, c0 = torch.randn(2, 10), torch.randn(2, 10)
    with torch.no_grad():
        y_ref, state_ref = reference(x, (h0, c0))
        y, h = ours(x, hx=ncps_state(reference, (h0, c0)))
    close(y, y_ref)
    close(h, ncps_state(reference, state_ref))
    # motor neurons first in our state, last in ncps' wired CfC state
    close(h[:, :2], state_ref[0][:, -2:])


def test_converted_model_trains_like_ncps(close) -> None:
    torch.manual_seed(13)
    reference = ncps_torch.LTC(3, 5)
    ours = from_ncps(reference)
    x = torch.randn(2, 3, 3)
    reference(x)[0].sum().backward()
    ours(x)[0].sum().backward()
    for name, param in reference.rnn_cell.named_parameters():
        if param.requires_grad:
            close(getattr(ours.cell, name).grad, param.grad)


def test_rejects_other_modules() -> None:
    with pytest.raises(ValueError, match="CfC or LTC"):
        from_ncps(torch.nn.LSTM(3, 4))


@pytest.mark.parametrize("batch_first,return_sequences", [(False, True), (True, False), (False, False)])
def test_layout_options_carry_over(batch_first: bool, return_sequences: bool, close) -> None:
    torch.manual_seed(14)
    for reference in (
        ncps_torch.CfC(3, 5, batch_first=batch_first, return_sequences=return_sequences),
        ncps_torch.LTC(3, 5, batch_first=batch_first, return_sequences=return_sequences, ode_unfolds=2),
    ):
        ours = from_ncps(reference)
        x = torch.randn(4, 2, 3)  # [T, B, F] or [B, T, F]
        with torch.no_grad():
            y_ref, h_ref = reference(x)
            y, h = ours(x)
            close(y, y_ref)
            close(h, h_ref)
            # unbatched input (ncps keeps a batch dimension of 1 in one case: [1, M])
            y_ref, h_ref = reference(x[:, 0] if not batch_first else x[0])
            y, h = ours(x[:, 0] if not batch_first else x[0])
            assert y.dim() == (2 if return_sequences else 1)
            close(y, y_ref.reshape(y.shape))
            close(h, h_ref)
