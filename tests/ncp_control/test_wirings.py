"""Wirings: same draws as ncps 1.0.1, immutability, serialisation, validation, drawing."""

from __future__ import annotations

import json

import ncps.wirings as ncps_wirings
import numpy as np
import pytest

from ncp_control.wirings import NCP, AutoNCP, FullyConnected, Random, Wiring

SIZES = [(32, 4, 17), (8, 2, 3), (19, 1, 32), (50, 8, 5)]
SEEDS = [1, 22222, 12345]


def assert_same(ours: Wiring, reference: ncps_wirings.Wiring, input_size: int) -> None:
    reference.build(input_size)
    assert ours.units == reference.units
    assert ours.output_size == reference.output_dim
    np.testing.assert_array_equal(ours.adjacency_matrix, reference.adjacency_matrix)
    np.testing.assert_array_equal(ours.sensory_adjacency_matrix, reference.sensory_adjacency_matrix)
    for layer in range(reference.num_layers):
        assert ours.get_neurons_of_layer(layer) == list(reference.get_neurons_of_layer(layer))
    for neuron in range(ours.units):
        assert ours.get_type_of_neuron(neuron) == reference.get_type_of_neuron(neuron)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("units,output,inputs", SIZES)
def test_equal_to_ncps(seed: int, units: int, output: int, inputs: int) -> None:
    for sparsity in (0.1, 0.5, 0.8):
        assert_same(
            AutoNCP(units, output, sparsity, seed, input_size=inputs),
            ncps_wirings.AutoNCP(units, output, sparsity, seed),
            inputs,
        )
    self_connections = seed % 2 == 0
    assert_same(
        FullyConnected(units, output, seed, self_connections, input_size=inputs),
        ncps_wirings.FullyConnected(units, output, seed, self_connections),
        inputs,
    )
    assert_same(
        Random(units, output, 0.3, seed, input_size=inputs),
        ncps_wirings.Random(units, output, 0.3, seed),
        inputs,
    )
    assert_same(
        NCP(6, 5, 3, 4, 3, 6, 2, seed, input_size=inputs), ncps_wirings.NCP(6, 5, 3, 4, 3, 6, 2, seed), inputs
    )


def all_kinds(input_size: int | None = 7) -> list[Wiring]:
    return [
        AutoNCP(16, 3, 0.4, seed=3, input_size=input_size),
        NCP(5, 4, 2, 3, 2, 4, 2, seed=9, input_size=input_size),
        FullyConnected(6, 2, erev_init_seed=4, self_connections=False, input_size=input_size),
        Random(9, 3, 0.25, random_seed=5, input_size=input_size),
        Wiring(np.eye(3, dtype=int) - np.eye(3, k=1, dtype=int), np.ones((2, 3), dtype=int), output_size=1),
    ]


@pytest.mark.parametrize("wiring", all_kinds())
def test_dict_round_trip(wiring: Wiring) -> None:
    data = json.loads(json.dumps(wiring.to_dict()))
    again = Wiring.from_dict(data)
    assert type(again) is type(wiring)
    assert again == wiring
    np.testing.assert_array_equal(again.adjacency_matrix, wiring.adjacency_matrix)
    np.testing.assert_array_equal(again.sensory_adjacency_matrix, wiring.sensory_adjacency_matrix)
    assert again.layers == wiring.layers


@pytest.mark.parametrize("wiring", all_kinds(input_size=None)[:4])
def test_build_returns_new_wiring(wiring: Wiring) -> None:
    assert not wiring.is_built()
    with pytest.raises(ValueError, match="not built"):
        _ = wiring.adjacency_matrix
    built = wiring.build(7)
    assert built is not wiring and built.input_size == 7 and wiring.input_size is None
    assert built.build(7) is built
    with pytest.raises(ValueError, match="input_size=7"):
        built.build(8)


def test_immutable() -> None:
    wiring = AutoNCP(16, 3, input_size=4)
    with pytest.raises(AttributeError):
        wiring.seed = 1  # type: ignore[misc]
    with pytest.raises(ValueError):
        wiring.adjacency_matrix[0, 0] = 1


def test_synapse_counts() -> None:
    wiring = Random(10, sparsity_level=0.3, input_size=4)
    assert wiring.synapse_count == 70  # round(100 * 0.7) distinct pairs
    assert wiring.sensory_synapse_count == 28
    full = FullyConnected(5, self_connections=False, input_size=3)
    assert full.synapse_count == 20 and full.sensory_synapse_count == 15
    ncp = AutoNCP(32, 4, input_size=17)
    assert ncp.synapse_count == int(np.count_nonzero(ncp.adjacency_matrix))
    # every motor neuron receives exactly motor_fanin command synapses or more
    command = list(ncp.layers[1])
    assert (np.count_nonzero(ncp.adjacency_matrix[command][:, :4], axis=0) >= ncp.motor_fanin).all()
    assert isinstance(ncp.synapse_count, int)


@pytest.mark.parametrize(
    "make,argument",
    [
        (lambda: AutoNCP(10, 8), "output_size"),
        (lambda: AutoNCP(10, 0), "output_size"),
        (lambda: AutoNCP(10, 2, sparsity_level=1.0), "sparsity_level"),
        (lambda: AutoNCP(10, 2, sparsity_level=-0.1), "sparsity_level"),
        (lambda: AutoNCP(3, 1), "units"),
        (lambda: Random(5, sparsity_level=1.5), "sparsity_level"),
        (lambda: FullyConnected(5, output_dim=6), "output_dim"),
        (lambda: FullyConnected(0), "units"),
        (lambda: NCP(4, 3, 2, 5, 2, 1, 2), "sensory_fanout"),
        (lambda: NCP(4, 3, 2, 2, 4, 1, 2), "inter_fanout"),
        (lambda: NCP(4, 3, 2, 2, 2, 1, 4), "motor_fanin"),
        (lambda: NCP(0, 3, 2, 2, 2, 1, 2), "inter_neurons"),
        (lambda: AutoNCP(10, 2, input_size=0), "input_size"),
        (lambda: Wiring(np.full((2, 2), 2)), "adjacency_matrix"),
        (lambda: Wiring(np.zeros((2, 2)), np.zeros((3, 3))), "sensory_adjacency_matrix"),
        (lambda: Wiring(np.zeros((3, 3)), layers=[[0, 1]]), "layers"),
    ],
)
def test_validation_names_argument(make, argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        make()


def test_from_dict_unknown_kind() -> None:
    with pytest.raises(ValueError, match="kind"):
        Wiring.from_dict({"kind": "Nope"})


def test_draw_colours_by_layer_and_polarity() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ncp_control.wirings.draw import NEURON_COLORS, SYNAPSE_COLORS, wiring_graph

    wiring = AutoNCP(12, 2, input_size=3)
    graph = wiring_graph(wiring)
    assert graph.number_of_edges() == wiring.synapse_count + wiring.sensory_synapse_count
    types = {d["neuron_type"] for _, d in graph.nodes(data=True)}
    assert types == {"sensory", "inter", "command", "motor"}
    for src, dest, data in graph.edges(data=True):
        matrix = wiring.sensory_adjacency_matrix if src.startswith("sensory") else wiring.adjacency_matrix
        value = matrix[int(src.split("_")[1]), int(dest.split("_")[1])]
        assert data["polarity"] == ("excitatory" if value > 0 else "inhibitory")
    fig, ax = plt.subplots()
    handles = wiring.draw(ax=ax)
    labels = {h.get_label() for h in handles}
    assert {f"{t} neurons" for t in NEURON_COLORS} <= labels
    assert {f"{p} synapse" for p in SYNAPSE_COLORS} <= labels
    plt.close(fig)
