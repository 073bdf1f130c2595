"""Fixtures for the ncp_control tests: comparing our models with ncps."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

ATOL = 1e-5


def _ncps_state_to_ours(module, state) -> torch.Tensor:
    """Turn an ncps final state (tensor or ``(h, c)``) into our one-tensor layout.

    :param module: the ncps model (for the wired CfC's layer order).
    :param state: its returned state.
    :return: ``[B, S]`` in neuron-id order, LSTM memory appended.
    """
    import ncps.torch as ncps_torch
    import ncps.wirings as ncps_wirings

    parts = list(state) if isinstance(state, tuple) else [state]
    if isinstance(module, ncps_torch.CfC) and isinstance(module.wiring_or_units, ncps_wirings.Wiring):
        wiring = module.wiring_or_units
        order = [i for layer in range(wiring.num_layers) for i in wiring.get_neurons_of_layer(layer)]
        pos = torch.argsort(torch.as_tensor(order))
        parts = [p[:, pos] for p in parts]
    return torch.cat(parts, 1)


def _assert_close(actual: torch.Tensor, expected: torch.Tensor, atol: float = ATOL) -> None:
    """Elementwise ``|actual - expected| <= atol`` with a helpful message."""
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    difference = (actual - expected).abs().max().item()
    assert difference <= atol, f"max difference {difference:.3g} > {atol}"


@pytest.fixture
def ncps_state() -> Callable:
    """:return: a function ``(ncps_module, ncps_state) -> our state layout``."""
    return _ncps_state_to_ours


@pytest.fixture
def close() -> Callable:
    """:return: a function ``(actual, expected, atol=1e-5)`` asserting closeness."""
    return _assert_close
