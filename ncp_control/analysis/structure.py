"""The structure of a liquid network: its wiring, neuron groups and trained synapses."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.cells.mixed_memory import unwrap_memory
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.errors import UserError
from ncp_control.sequence import LiquidRNN
from ncp_control.wirings import Wiring

#: neuron groups, sensory side first
GROUPS = ("sensory", "inter", "command", "motor")


def core_cell(model: nn.Module) -> Any:
    """:param model: a liquid sequence model or cell. :return: the liquid cell inside (mixed memory unwrapped)."""
    cell: Any = model.cell if isinstance(model, LiquidRNN) else model
    return unwrap_memory(cell)


def wiring_of(model: nn.Module) -> Wiring | None:
    """:param model: a liquid sequence model or cell. :return: its built wiring, or ``None`` (unwired CfC)."""
    wiring = getattr(core_cell(model), "wiring", None)
    return wiring if isinstance(wiring, Wiring) else None


def neuron_count(model: nn.Module) -> int:
    """:param model: a liquid model or cell. :return: number of neurons N (mixed memory not counted)."""
    return int(core_cell(model).state_size)


def neuron_groups(wiring: Wiring | None, neurons: int) -> dict[str, list[int]]:
    """Neuron ids of each group (``sensory`` is left out: inputs are not neurons of the state).

    :param wiring: a built wiring or ``None`` (all neurons are ``inter``).
    :param neurons: N.
    :return: ``{"inter": [...], "command": [...], "motor": [...]}`` (empty groups omitted).
    """
    groups: dict[str, list[int]] = {}
    for i in range(neurons):
        kind = wiring.get_type_of_neuron(i) if wiring is not None else "inter"
        groups.setdefault(kind, []).append(i)
    return {g: groups[g] for g in GROUPS if g in groups}


def synapse_strengths(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Trained, signed strength of every synapse of a wired liquid network (0 where none).

    - LTC: ``softplus(w)`` (the conductance) signed by the reversal potential ``erev``;
    - CT-RNN: the weight ``w`` (its sign is the polarity);
    - wired CfC: the ``ff1`` weight of the synapse in the destination layer.

    :param model: a wired CfC, LTC or CT-RNN (model or cell).
    :return: ``(sensory [F, N], recurrent [N, N])``, indexed ``[source, destination]``.
    :raises ValueError: for a model without wiring.
    """
    cell = core_cell(model)
    wiring = wiring_of(model)
    if wiring is None:
        raise UserError(f"model must be a wired liquid network (CfC/LTC/CT-RNN over a wiring), got {type(model).__name__}")
    sensory_mask = torch.as_tensor(wiring.sensory_adjacency_matrix != 0, dtype=torch.float32)
    mask = torch.as_tensor(wiring.adjacency_matrix != 0, dtype=torch.float32)
    with torch.no_grad():
        if isinstance(cell, LTCCell):
            sensory = cell.positive(cell.sensory_w) * torch.sign(cell.sensory_erev)
            recurrent = cell.positive(cell.w) * torch.sign(cell.erev)
        elif isinstance(cell, CTRNNCell):
            sensory, recurrent = cell.sensory_w.clone(), cell.w.clone()
        elif isinstance(cell, WiredCfCCell):
            sensory, recurrent = _cfc_strengths(cell, wiring)
        else:
            raise UserError(f"no synapse strengths for {type(cell).__name__}")
    return sensory * sensory_mask, recurrent * mask


def _cfc_strengths(cell: WiredCfCCell, wiring: Wiring) -> tuple[torch.Tensor, torch.Tensor]:
    n, f = wiring.units, cell.input_size
    sensory, recurrent = torch.zeros(f, n), torch.zeros(n, n)
    previous: list[int] = []
    for index, layer in enumerate(cell.layer_cells):
        dest = list(wiring.layers[index])
        weight = layer.ff1.weight  # [n_l, n_prev + n_l]
        n_prev = weight.shape[1] - len(dest)
        if index == 0:
            sensory[:, dest] = weight[:, :n_prev].T
        else:
            recurrent[torch.tensor(previous)[:, None], torch.tensor(dest)] = weight[:, :n_prev].T
        recurrent[torch.tensor(dest)[:, None], torch.tensor(dest)] = weight[:, n_prev:].T
        previous = dest
    return sensory, recurrent


def draw_trained_wiring(model: nn.Module, ax: Any = None, max_width: float = 3.0,
                        input_names: list[str] | None = None) -> list[Any]:
    """Draw the wiring with trained synapses in layers, left to right (sensory -> inter ->
    command -> motor, :func:`ncp_control.wirings.draw.layered_positions`): line width by strength,
    colour by sign (green excitatory, red inhibitory); neurons coloured by group, each column
    titled, the sensory inputs named where names are given (needs networkx and matplotlib).
    Nodes shrink as columns grow, so that 48 neurons or 32 inputs stay apart.

    :param model: a wired liquid network.
    :param ax: matplotlib axes (default: current axes).
    :param max_width: line width of the strongest synapse.
    :param input_names: a name per sensory input (e.g. the observation's entries).
    :return: legend handles (place the legend outside the axes: the nodes fill them).
    """
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt
    import networkx as nx

    from ncp_control.wirings.draw import NEURON_COLORS, SYNAPSE_COLORS, layered_positions, wiring_graph

    wiring = wiring_of(model)
    sensory, recurrent = synapse_strengths(model)
    assert wiring is not None
    graph = wiring_graph(wiring)
    ax = plt.gca() if ax is None else ax
    pos = layered_positions(wiring, sensory.shape[0])
    tallest = max(sensory.shape[0], *(len(layer) for layer in wiring.layers))
    node_size = max(10.0, min(120.0, 1600.0 / tallest))
    types = [d["neuron_type"] for _, d in graph.nodes(data=True)]
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[NEURON_COLORS[t] for t in types], node_size=node_size)
    edges, widths, colours = [], [], []
    peak = max(float(sensory.abs().max()), float(recurrent.abs().max()), 1e-12)
    for matrix, prefix in ((sensory, "sensory_"), (recurrent, "neuron_")):
        for src, dest in zip(*torch.nonzero(matrix, as_tuple=True)):
            value = float(matrix[src, dest])
            edges.append((f"{prefix}{int(src)}", f"neuron_{int(dest)}"))
            widths.append(0.1 + max_width * abs(value) / peak)
            colours.append(SYNAPSE_COLORS["excitatory" if value > 0 else "inhibitory"])
    nx.draw_networkx_edges(graph, pos, ax=ax, edgelist=edges, width=widths, edge_color=colours, arrows=False,
                           alpha=0.55, node_size=node_size)
    columns = [("sensory", "sensory_0")] + [(wiring.get_type_of_neuron(layer[0]), f"neuron_{min(layer)}")
                                            for layer in wiring.layers if layer]
    for name, node in columns:
        ax.text(pos[node][0], 1.04, name, ha="center", va="bottom", fontsize=9, transform=ax.transData)
    if input_names is not None and len(input_names) == sensory.shape[0]:
        every = max(1, -(-sensory.shape[0] // 24))  # at most 24 labels
        for i, name in enumerate(input_names):
            if i % every == 0:
                x, y = pos[f"sensory_{i}"]
                ax.text(x - 0.03, y, name, ha="right", va="center", fontsize=6)
    ax.set_xlim(-0.25 if input_names else -0.08, 1.08)
    ax.set_ylim(-0.03, 1.1)
    ax.set_axis_off()
    handles = [mpatches.Patch(color=NEURON_COLORS[t], label=f"{t} neurons") for t in NEURON_COLORS if t in types]
    handles += [mpatches.Patch(color=c, label=f"{p} synapse (width: strength)") for p, c in SYNAPSE_COLORS.items()]
    return handles
