"""CfC: equality with ncps 1.0.1 through from_ncps, for every mode, wired and unwired."""

from __future__ import annotations

import ncps.torch as ncps_torch
import ncps.wirings as ncps_wirings
import pytest
import torch

from ncp_control import CfC, from_ncps
from ncp_control.wirings import AutoNCP

MODES = ["default", "no_gate", "pure"]


def make_ncps(kind: str, mode: str, mixed: bool) -> ncps_torch.CfC:
    if kind == "unwired":
        return ncps_torch.CfC(5, 8, mode=mode, mixed_memory=mixed, backbone_units=16, backbone_layers=2)
    if kind == "unwired_proj":
        return ncps_torch.CfC(
            5, 8, proj_size=3, mode=mode, mixed_memory=mixed, activation="silu", backbone_layers=0
        )
    if kind == "autoncp":
        return ncps_torch.CfC(5, ncps_wirings.AutoNCP(12, 3, seed=7), mode=mode, mixed_memory=mixed)
    if kind == "ncp_proj":
        return ncps_torch.CfC(
            5, ncps_wirings.NCP(4, 3, 2, 2, 2, 3, 2, seed=3), proj_size=2, mode=mode, mixed_memory=mixed
        )
    raise AssertionError(kind)


@pytest.mark.parametrize("mixed", [False, True])
@pytest.mark.parametrize("kind", ["unwired", "unwired_proj", "autoncp", "ncp_proj"])
@pytest.mark.parametrize("mode", MODES)
def test_equals_ncps(mode: str, kind: str, mixed: bool, close, ncps_state) -> None:
    torch.manual_seed(0)
    reference = make_ncps(kind, mode, mixed)
    ours = from_ncps(reference)
    assert isinstance(ours, CfC)
    x = torch.randn(3, 6, 5)
    with torch.no_grad():
        y_ref, h_ref = reference(x)
        y, h = ours(x)
    close(y, y_ref)
    close(h, ncps_state(reference, h_ref))
    assert ours.state_size == h.shape[1] and ours.output_size == y.shape[2]
    # batch 1 with timespans (the case ncps gets right)
    ts = torch.rand(1, 6, 1) * 2.0
    with torch.no_grad():
        y_ref, h_ref = reference(x[:1], timespans=ts)
        y, h = ours(x[:1], timespans=ts)
    close(y, y_ref)
    close(h, ncps_state(reference, h_ref))


def test_wired_motor_neurons_first() -> None:
    torch.manual_seed(1)
    model = CfC(5, AutoNCP(12, 3, input_size=5))
    y, h = model(torch.randn(2, 4, 5))
    assert model.motor_size == 3 and model.state_size == 12
    assert torch.equal(y[:, -1], h[:, :3])


def test_mixed_memory_state_layout() -> None:
    torch.manual_seed(2)
    model = CfC(4, 6, mixed_memory=True, backbone_layers=0)
    x = torch.randn(2, 3, 4)
    _, h = model(x)
    assert h.shape == (2, 12)
    # the neuron half is the output of the last step (unprojected CfC)
    y, _ = model(x)
    assert torch.equal(y[:, -1], h[:, :6])


def test_wired_rejects_backbone_arguments() -> None:
    with pytest.raises(ValueError, match="backbone_units"):
        CfC(5, AutoNCP(12, 3), backbone_units=16)


@pytest.mark.parametrize(
    "kwargs,argument",
    [
        ({"mode": "fast"}, "mode"),
        ({"activation": "sine"}, "activation"),
        ({"proj_size": 0}, "proj_size"),
        ({"backbone_dropout": 1.0}, "backbone_dropout"),
    ],
)
def test_invalid_arguments(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        CfC(5, 8, **kwargs)


def test_input_size_mismatch_with_built_wiring() -> None:
    with pytest.raises(ValueError, match="input_size"):
        CfC(5, AutoNCP(12, 3, input_size=4))
