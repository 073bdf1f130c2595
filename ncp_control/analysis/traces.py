"""Neuron activity traces: the state of every neuron over an episode, grouped, with PCA."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ncp_control.analysis.pca import pca
from ncp_control.analysis.structure import GROUPS, neuron_count, neuron_groups, wiring_of
from ncp_control.errors import UserError


@dataclass
class NeuronTraces:
    """Activity over one episode.

    :param inputs: sensory inputs ``[T, F]`` (what the network read at each step).
    :param states: neuron states ``[T, N]`` after each step (motor neurons first).
    :param groups: neuron ids per group (``inter``, ``command``, ``motor``).
    :param actions: actions ``[T, A]`` taken, if recorded.
    """

    inputs: torch.Tensor
    states: torch.Tensor
    groups: dict[str, list[int]]
    actions: torch.Tensor | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def explained_variance(self, group: str | None = None) -> torch.Tensor:
        """:param group: a neuron group, ``"sensory"`` (the inputs) or ``None`` (all neurons).
        :return: the explained variance ratio of each principal component of the activity."""
        if group == "sensory":
            data = self.inputs
        elif group is None:
            data = self.states
        elif group in self.groups:
            data = self.states[:, self.groups[group]]
        else:
            raise UserError(f"group must be None, 'sensory' or one of {sorted(self.groups)}, got {group!r}")
        return pca(data)[1]

    def pc1_share(self, group: str | None = None) -> float:
        """:param group: as :meth:`explained_variance`. :return: variance share of the first component."""
        return float(self.explained_variance(group)[0])


def record_traces(model: nn.Module, inputs: torch.Tensor, timespans: torch.Tensor | float | None = None,
                  hx: torch.Tensor | None = None) -> NeuronTraces:
    """Run a liquid model step by step over one input sequence and record its neurons.

    :param model: a CfC, LTC or CT-RNN (wired or not; mixed memory: the neuron part is recorded).
    :param inputs: ``[T, F]``.
    :param timespans: ``[T]``, a float or ``None`` (1.0).
    :param hx: initial state ``[S]`` or ``None`` (rest).
    :return: the traces.
    """
    cell: Any = model.cell if hasattr(model, "cell") else model
    steps = inputs.shape[0]
    ts = torch.ones(steps) if timespans is None else torch.as_tensor(timespans, dtype=torch.float32).expand(steps)
    h = torch.zeros(1, int(cell.state_size)) if hx is None else hx.reshape(1, -1)
    n = neuron_count(model)
    states = []
    with torch.no_grad():
        for t in range(steps):
            _, h = cell(inputs[t : t + 1], h, ts[t : t + 1])
            states.append(h[0, :n])
    return NeuronTraces(inputs.detach().clone(), torch.stack(states), neuron_groups(wiring_of(model), n))


def plot_traces(traces: NeuronTraces, path: str, title: str = "") -> str:
    """Plot the traces, one panel per group (sensory, inter, command, motor), with each
    group's PC1 share in the panel title (needs matplotlib).

    :param traces: from :func:`record_traces` or built from an episode.
    :param path: PNG file to write.
    :param title: figure title.
    :return: ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("sensory", traces.inputs)] + [
        (g, traces.states[:, traces.groups[g]]) for g in GROUPS if g in traces.groups
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 1.7 * len(panels) + 0.6), sharex=True, squeeze=False)
    for ax, (name, data) in zip(axes[:, 0], panels):
        ax.plot(data.numpy(), linewidth=0.7)
        share = traces.pc1_share(name) if data.shape[0] > 1 else float("nan")
        ax.set_title(f"{name} ({data.shape[1]}), PC1 explains {100 * share:.0f}% of the variance", fontsize=9)
    axes[-1, 0].set_xlabel("step")
    all_share = traces.pc1_share() if traces.states.shape[0] > 1 else float("nan")
    fig.suptitle(f"{title} neuron activity; PC1 of all neurons: {100 * all_share:.0f}%".strip(), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
