"""CT-RNN: the solvers integrate dx/dt = -x / tau + tanh(I W_in + x W + b) correctly."""

from __future__ import annotations

import pytest
import torch
import torchdiffeq

from ncp_control import CTRNN
from ncp_control.wirings import AutoNCP


def exact_solution(model: CTRNN, x: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
    """Integrate the CT-RNN equation written out here independently, with dopri5."""
    cell = model.cell
    tau = torch.nn.functional.softplus(cell.tau)
    w = cell.w * cell.sparsity_mask
    w_in = cell.sensory_w * cell.sensory_sparsity_mask
    state = torch.zeros(x.shape[0], cell.state_size, dtype=x.dtype)
    outputs = []
    for t in range(x.shape[1]):
        drive = (x[:, t] * cell.input_w + cell.input_b) @ w_in + cell.bias
        span = ts[:, t : t + 1]

        def field(_s, v, drive=drive, span=span):
            return span * (-v / tau + torch.tanh(drive + v @ w))

        grid = torch.tensor([0.0, 1.0], dtype=x.dtype)
        state = torchdiffeq.odeint(field, state, grid, rtol=1e-9, atol=1e-11)[-1]
        outputs.append(state[:, : cell.motor_size] * cell.output_w + cell.output_b)
    return torch.stack(outputs, 1)


@pytest.mark.parametrize("units", [6, AutoNCP(8, 2)])
def test_solvers_match_exact_solution(units) -> None:
    torch.manual_seed(7)
    base = CTRNN(3, units).double()
    with torch.no_grad():
        base.cell.w.mul_(3.0)
        base.cell.bias.normal_()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    ts = torch.rand(2, 5, dtype=torch.float64) * 2.0
    with torch.no_grad():
        exact = exact_solution(base, x, ts)

        def error(solver: str, unfolds: int) -> float:
            model = CTRNN(3, base.wiring, solver=solver, ode_unfolds=unfolds).double()
            model.load_state_dict(base.state_dict())
            return (model(x, timespans=ts)[0] - exact).abs().max().item()

        assert error("rk4", 20) < 1e-5
        assert 10.0 < error("rk4", 5) / error("rk4", 10) < 24.0  # fourth order
        for solver in ("euler", "semi_implicit"):
            coarse, fine = error(solver, 10), error(solver, 100)
            assert fine < 5e-2 and 5.0 < coarse / fine < 20.0, (solver, coarse, fine)


def test_wiring_masks_synapses() -> None:
    torch.manual_seed(8)
    model = CTRNN(3, AutoNCP(10, 2, input_size=3))
    x = torch.randn(2, 4, 3)
    y, _ = model(x)
    y.square().sum().backward()
    cell = model.cell
    assert (cell.w.grad[cell.sparsity_mask == 0] == 0).all()
    assert (cell.sensory_w.grad[cell.sensory_sparsity_mask == 0] == 0).all()
    assert cell.w.grad[cell.sparsity_mask == 1].abs().sum() > 0
    # initial weights carry the wiring's polarity
    polarity = torch.tensor(model.wiring.adjacency_matrix, dtype=torch.float32)
    assert (torch.sign(cell.w.detach()) == polarity).all()


def test_invalid_solver() -> None:
    with pytest.raises(ValueError, match="solver"):
        CTRNN(3, 4, solver="dopri5")
