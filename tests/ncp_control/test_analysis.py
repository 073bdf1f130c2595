"""ncp_control.analysis: PCA and arc length against closed forms, the measured expressivity
ordering, neuron traces against the sequence model, summary counts against the wiring."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from ncp_control import CTRNN, LTC, AutoNCP, CfC
from ncp_control.analysis import (
    arc_length,
    compare,
    draw_trained_wiring,
    format_summary,
    median_lengths,
    pca,
    plot_expressivity,
    plot_pca,
    plot_traces,
    record_traces,
    summarize,
    synapse_strengths,
    trajectory_lengths,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _wired() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {
        "cfc": CfC(6, AutoNCP(19, 3, seed=7, input_size=6)),
        "ltc": LTC(6, AutoNCP(19, 3, seed=7, input_size=6)),
        "ctrnn": CTRNN(6, AutoNCP(19, 3, seed=7, input_size=6), mixed_memory=True),
    }


def test_pca_recovers_an_embedded_ellipse() -> None:
    t = torch.linspace(0, 2 * math.pi, 2001, dtype=torch.float64)
    ellipse = torch.stack([3 * torch.cos(t), torch.sin(t)], 1)
    rotation, _ = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1)))
    embedded = torch.cat([ellipse, torch.zeros(2001, 3, dtype=torch.float64)], 1) @ rotation + 4.0
    projection, ratio = pca(embedded)
    # Ramanujan's perimeter of the ellipse with semi-axes 3 and 1
    a, b = 3.0, 1.0
    h = (a - b) ** 2 / (a + b) ** 2
    perimeter = math.pi * (a + b) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
    assert arc_length(projection) == pytest.approx(perimeter, rel=1e-4)
    assert float(ratio[:2].sum()) == pytest.approx(1.0, abs=1e-12)
    assert float(ratio[0]) == pytest.approx(9 / 10, rel=1e-3)  # variances 9/2 and 1/2


def test_expressivity_grows_with_width_and_has_the_measured_ordering() -> None:
    """Measured (3 seeds, widths 16-64, 3 layers; docs/performance.md, *Trajectory length*): CfC > MLP > CT-RNN > LSTM > LTC at
    every width, all but LTC longer when wider, and the LTC trajectory shrinking with depth."""
    rows = compare(kinds=("ltc", "cfc", "ctrnn", "lstm", "mlp"), widths=(12, 48), depth=2, seeds=(0, 1), steps=100)
    m = median_lengths(rows)
    for width in (12, 48):
        order = [m[(k, width, 1)] for k in ("cfc", "mlp", "ctrnn", "ltc")]
        assert order == sorted(order, reverse=True), (width, order)
        assert m[("lstm", width, 1)] > m[("ltc", width, 1)]
    for kind in ("cfc", "ctrnn", "lstm", "mlp"):
        assert m[(kind, 48, 1)] > m[(kind, 12, 1)], kind
    assert m[("ltc", 48, 2)] < m[("ltc", 48, 1)]


def test_trajectory_lengths_are_reproducible_and_validated() -> None:
    first = trajectory_lengths("ctrnn", 8, 2, seed=3, steps=50)
    assert trajectory_lengths("ctrnn", 8, 2, seed=3, steps=50) == pytest.approx(first, rel=1e-6)
    assert trajectory_lengths("ctrnn", 8, 2, seed=4, steps=50) != pytest.approx(first, rel=1e-3)
    with pytest.raises(ValueError, match="kind"):
        trajectory_lengths("gru", 8, 1)
    with pytest.raises(ValueError, match="width and depth"):
        trajectory_lengths("mlp", 0, 1)


@pytest.mark.parametrize("name", ["cfc", "ltc", "ctrnn"])
def test_traces_follow_the_model_and_group_by_wiring(name: str) -> None:
    model = _wired()[name].eval()
    x = torch.randn(60, 6, generator=torch.Generator().manual_seed(2))
    ts = 0.5 + torch.rand(60, generator=torch.Generator().manual_seed(3))
    traces = record_traces(model, x, ts)
    with torch.no_grad():
        y, h = model(x.unsqueeze(0), timespans=ts.unsqueeze(0))
    torch.testing.assert_close(traces.states[-1], h[0, :19])
    if name == "cfc":  # the wired CfC's outputs are its motor neurons, the first three states
        torch.testing.assert_close(traces.states[:, :3], y[0])
    wiring = model.cell.cell.wiring if name == "ctrnn" else model.wiring
    assert {g: len(v) for g, v in traces.groups.items()} == {
        "inter": len(wiring.layers[0]), "command": len(wiring.layers[1]), "motor": 3}
    shares = traces.explained_variance()
    assert float(shares.sum()) == pytest.approx(1.0) and 0 < traces.pc1_share() <= 1


def test_pc1_share_of_rank_one_activity_is_one() -> None:
    model = _wired()["cfc"]
    traces = record_traces(model, torch.randn(30, 6))
    traces.states = torch.outer(torch.sin(torch.arange(30.0)), torch.randn(19))
    assert traces.pc1_share() == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["cfc", "ltc", "ctrnn"])
def test_summary_counts_equal_the_wiring(name: str) -> None:
    model = _wired()[name]
    wiring = model.cell.cell.wiring if name == "ctrnn" else model.wiring
    summary = summarize(model)
    assert summary["synapses"] == {"sensory": wiring.sensory_synapse_count, "recurrent": wiring.synapse_count,
                                   "total": wiring.sensory_synapse_count + wiring.synapse_count}
    assert summary["neurons"]["total"] == 19 and summary["neurons"]["motor"] == 3
    assert summary["sparsity"]["recurrent"] == pytest.approx(1 - wiring.synapse_count / 19**2)
    assert summary["parameters"]["total"] == sum(p.numel() for p in model.parameters())
    sensory, recurrent = synapse_strengths(model)
    assert int((sensory != 0).sum()) == wiring.sensory_synapse_count
    assert int((recurrent != 0).sum()) == wiring.synapse_count
    assert "synapses: " in format_summary(summary)


def test_untrained_polarities_are_the_wiring_polarities() -> None:
    for name in ("ltc", "ctrnn"):
        model = _wired()[name]
        wiring = model.cell.cell.wiring if name == "ctrnn" else model.wiring
        sensory, recurrent = synapse_strengths(model)
        assert torch.equal(torch.sign(recurrent), torch.tensor(wiring.adjacency_matrix, dtype=torch.float32))
        assert torch.equal(torch.sign(sensory), torch.tensor(wiring.sensory_adjacency_matrix, dtype=torch.float32))
    with pytest.raises(ValueError, match="wired"):
        synapse_strengths(CfC(6, 8))


def test_plots_are_written(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model = _wired()["ltc"]
    plot_traces(record_traces(model, torch.randn(40, 6)), str(tmp_path / "traces.png"))
    fig = plt.figure()
    draw_trained_wiring(model)
    fig.savefig(tmp_path / "wiring.png")
    plt.close(fig)
    rows = compare(kinds=("mlp", "ctrnn"), widths=(4, 8), depth=2, seeds=(0,), steps=40)
    plot_expressivity(rows, str(tmp_path / "expressivity.png"), steps=40)
    for name in ("traces.png", "wiring.png", "expressivity.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG


def test_layered_drawing_keeps_48_neurons_apart_in_layers_left_to_right(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ncp_control.wirings.draw import layered_positions

    model = CfC(10, AutoNCP(48, 2, seed=3, input_size=10))
    wiring = model.cell.wiring
    positions = layered_positions(wiring, 10)
    x = {kind: {positions[f"neuron_{i}"][0] for i in range(48) if wiring.get_type_of_neuron(i) == kind}
         for kind in ("inter", "command", "motor")}
    assert all(len(v) == 1 for v in x.values())  # one column per layer
    sensory_x = {positions[f"sensory_{i}"][0] for i in range(10)}
    assert sensory_x == {0.0} and 0.0 < x["inter"].pop() < x["command"].pop() < x["motor"].pop() == 1.0
    for layer in wiring.layers:  # evenly spread: no two neurons of a column closer than 1 / (its size)
        ys = sorted(positions[f"neuron_{i}"][1] for i in layer)
        if len(ys) > 1:
            assert min(b - a for a, b in zip(ys, ys[1:])) == pytest.approx(1 / len(layer))
    fig, ax = plt.subplots()
    names = [f"obs{i}" for i in range(10)]
    handles = draw_trained_wiring(model, ax=ax, input_names=names)
    texts = [t.get_text() for t in ax.texts]
    assert {"sensory", "inter", "command", "motor"} <= set(texts) and set(names) <= set(texts)
    assert {h.get_label() for h in handles} >= {"motor neurons", "inter neurons", "command neurons"}
    plt.close(fig)


def test_pca_picture_and_time_axis(tmp_path: Path) -> None:
    traces = record_traces(_wired()["cfc"], torch.randn(30, 6))
    assert traces.clock()[1] == "step" and traces.clock()[0][-1] == 29
    traces.times = torch.arange(1, 31) * 0.05
    traces.input_names = [f"x{i}" for i in range(6)]
    clock, label = traces.clock()
    assert label == "time (s)" and float(clock[-1]) == pytest.approx(1.5)
    plot_pca(traces, str(tmp_path / "pca.png"), title="test:")
    plot_traces(traces, str(tmp_path / "traces.png"))
    for name in ("pca.png", "traces.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
