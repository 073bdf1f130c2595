"""state_dict and config round trips give identical outputs."""

from __future__ import annotations

import io
import json

import pytest
import torch

from ncp_control import CTRNN, LTC, CfC, model_from_config
from ncp_control.wirings import NCP, AutoNCP, Random, Wiring


def build(name: str) -> torch.nn.Module:
    torch.manual_seed(21)
    return {
        "cfc": lambda: CfC(
            3, 7, mode="no_gate", backbone_units=9, backbone_layers=2, activation="gelu", proj_size=2
        ),
        "cfc_wired_mixed": lambda: CfC(3, AutoNCP(9, 2, sparsity_level=0.3, seed=4), mixed_memory=True),
        "cfc_ncp": lambda: CfC(3, NCP(3, 3, 2, 2, 2, 2, 1, seed=8), mode="pure", return_sequences=False),
        "ltc_random": lambda: LTC(
            3, Random(6, 2, 0.4, 9), ode_unfolds=3, solver="rk4", output_mapping="linear"
        ),
        "ltc_plain_wiring": lambda: LTC(
            3, Wiring(torch.eye(4).int().numpy(), torch.ones(3, 4).int().numpy(), 1)
        ),
        "ctrnn": lambda: CTRNN(3, 5, mixed_memory=True, solver="euler", batch_first=False),
    }[name]()


@pytest.mark.parametrize(
    "name", ["cfc", "cfc_wired_mixed", "cfc_ncp", "ltc_random", "ltc_plain_wiring", "ctrnn"]
)
def test_config_and_state_dict_round_trip(name: str) -> None:
    model = build(name)
    config = json.loads(json.dumps(model.config()))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    torch.manual_seed(99)  # different fresh weights
    again = model_from_config(config)
    assert type(again) is type(model)
    assert again.config() == model.config()
    again.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.randn(4, 2, 3)
    ts = torch.rand(4, 2) + 0.1
    with torch.no_grad():
        y, h = model(x, timespans=ts)
        y2, h2 = again(x, timespans=ts)
    assert torch.equal(y, y2) and torch.equal(h, h2)
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key


def test_unknown_class() -> None:
    with pytest.raises(ValueError, match="class"):
        model_from_config({"class": "GRU", "units": 3})
