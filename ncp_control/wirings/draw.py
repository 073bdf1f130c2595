"""Drawing a wiring with networkx and matplotlib (the optional ``draw`` extra)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ncp_control.errors import UserError

if TYPE_CHECKING:
    from ncp_control.wirings.base import Wiring

#: colour of each neuron type
NEURON_COLORS = {"sensory": "tab:olive", "inter": "tab:blue", "command": "tab:purple", "motor": "tab:orange"}
#: colour of each synapse polarity
SYNAPSE_COLORS = {"excitatory": "tab:green", "inhibitory": "tab:red"}
#: the layouts :func:`draw_wiring` knows (``layered``: sensory -> inter -> command -> motor, left to right)
LAYOUTS = ("layered", "shell", "circular", "spring", "kamada", "spectral", "random")


def layered_positions(wiring: Wiring | None, inputs: int, neurons: int | None = None) -> dict[str, tuple[float, float]]:
    """Where each node goes in the layered drawing: one column per layer, left to right (the
    ``inputs`` sensory nodes, then each layer of the wiring: inter, command and motor neurons for
    an NCP), each column spread evenly from top to bottom by id.

    :param wiring: a built wiring, or None for an unwired network (its neurons in one column).
    :param inputs: number of sensory inputs.
    :param neurons: number of neurons (needed without a wiring).
    :return: ``{"sensory_i" | "neuron_i": (x, y)}`` with x and y in [0, 1] (y = 1 at the top), the
        node names of :func:`wiring_graph`.
    """
    if wiring is not None:
        layers: list[list[int]] = [list(layer) for layer in wiring.layers]
    elif neurons is not None:
        layers = [list(range(neurons))]
    else:
        raise UserError("layered_positions needs a wiring or the number of neurons")
    columns = [[f"sensory_{i}" for i in range(inputs)]] + [[f"neuron_{i}" for i in sorted(layer)] for layer in layers]
    columns = [column for column in columns if column]
    positions = {}
    for index, column in enumerate(columns):
        x = index / (len(columns) - 1) if len(columns) > 1 else 0.5
        for row, node in enumerate(column):
            positions[node] = (x, 1.0 - (row + 0.5) / len(column))
    return positions


def wiring_graph(wiring: Wiring) -> Any:
    """Build the directed graph of a built wiring.

    :param wiring: a built wiring.
    :return: a ``networkx.DiGraph``; nodes ``sensory_i`` / ``neuron_i`` carry ``neuron_type``,
        edges carry ``polarity`` (``"excitatory"`` or ``"inhibitory"``).
    """
    import networkx as nx

    sensory = wiring.sensory_adjacency_matrix
    graph = nx.DiGraph()
    for i in range(sensory.shape[0]):
        graph.add_node(f"sensory_{i}", neuron_type="sensory")
    for i in range(wiring.units):
        graph.add_node(f"neuron_{i}", neuron_type=wiring.get_type_of_neuron(i))
    for (src, dest), value in _nonzero(sensory):
        graph.add_edge(f"sensory_{src}", f"neuron_{dest}", polarity=_polarity(value))
    for (src, dest), value in _nonzero(wiring.adjacency_matrix):
        graph.add_edge(f"neuron_{src}", f"neuron_{dest}", polarity=_polarity(value))
    return graph


def _nonzero(matrix: Any) -> list[tuple[tuple[int, int], int]]:
    rows, cols = matrix.nonzero()
    return [((int(r), int(c)), int(matrix[r, c])) for r, c in zip(rows, cols)]


def _polarity(value: int) -> str:
    return "excitatory" if value > 0 else "inhibitory"


def draw_wiring(
    wiring: Wiring, ax: Any = None, layout: str = "layered", draw_labels: bool = False
) -> list[Any]:
    """Draw ``wiring``: neurons coloured by type, synapses by polarity.

    :param wiring: a built wiring.
    :param ax: matplotlib axes (default: current axes).
    :param layout: ``layered`` (default: sensory -> inter -> command -> motor columns, left to
        right, :func:`layered_positions`) or a networkx layout name (``shell``, ``circular``,
        ``spring``, ``kamada``, ``spectral``, ``random``).
    :param draw_labels: whether to draw node names.
    :return: legend handles (one patch per neuron type present, one per polarity).
    """
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt
    import networkx as nx

    layouts = {
        "layered": None,
        "shell": None,
        "circular": nx.circular_layout,
        "spring": nx.spring_layout,
        "kamada": nx.kamada_kawai_layout,
        "spectral": nx.spectral_layout,
        "random": nx.random_layout,
    }
    if layout not in layouts:
        raise UserError(f"layout must be one of {sorted(layouts)}, got {layout!r}")
    graph = wiring_graph(wiring)
    if ax is None:
        ax = plt.gca()
    if layout == "layered":
        pos = layered_positions(wiring, wiring.sensory_adjacency_matrix.shape[0])
    elif layout == "shell":
        shells = [[n for n, d in graph.nodes(data=True) if d["neuron_type"] == "sensory"]]
        shells += [[f"neuron_{i}" for i in layer] for layer in wiring.layers]
        pos = nx.shell_layout(graph, nlist=[s for s in shells if s])
    else:
        pos = layouts[layout](graph)  # type: ignore[misc]
    types = [d["neuron_type"] for _, d in graph.nodes(data=True)]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[NEURON_COLORS[t] for t in types], node_size=120)
    edges = list(graph.edges(data=True))
    nx.draw_networkx_edges(
        graph,
        pos,
        ax=ax,
        edgelist=[(a, b) for a, b, _ in edges],
        edge_color=[SYNAPSE_COLORS[d["polarity"]] for _, _, d in edges],
        arrowsize=6,
        width=0.6,
    )
    if draw_labels:
        nx.draw_networkx_labels(graph, pos, ax=ax, font_size=6)
    ax.set_axis_off()
    handles = [
        mpatches.Patch(color=NEURON_COLORS[t], label=f"{t} neurons") for t in NEURON_COLORS if t in types
    ]
    handles += [mpatches.Patch(color=c, label=f"{p} synapse") for p, c in SYNAPSE_COLORS.items()]
    return handles
