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
    :param input_names: a name per sensory input (e.g. the observation's entries), if known.
    :param times: ``[T]`` seconds since the start at each step, if known (else steps are counted).
    """

    inputs: torch.Tensor
    states: torch.Tensor
    groups: dict[str, list[int]]
    actions: torch.Tensor | None = None
    extra: dict[str, float] = field(default_factory=dict)
    input_names: list[str] | None = None
    times: torch.Tensor | None = None

    def clock(self) -> tuple[torch.Tensor, str]:
        """:return: the time axis ``[T]`` and its label (seconds where known, else steps)."""
        if self.times is not None and self.times.shape[0] == self.states.shape[0]:
            return self.times.to(torch.float64), "time (s)"
        return torch.arange(self.states.shape[0], dtype=torch.float64), "step"

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


#: sensory inputs named in a legend (more are drawn without one)
MAX_LEGEND = 12


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_traces(traces: NeuronTraces, path: str, title: str = "") -> str:
    """Plot the traces, one panel per group (sensory, inter, command, motor) against time (or
    steps), with each group's PC1 share in the panel title and the sensory inputs named in a
    legend where their names are known (needs matplotlib).

    :param traces: from :func:`record_traces` or built from an episode.
    :param path: PNG file to write.
    :param title: figure title.
    :return: ``path``.
    """
    plt = _pyplot()
    panels = [("sensory", traces.inputs)] + [
        (g, traces.states[:, traces.groups[g]]) for g in GROUPS if g in traces.groups
    ]
    clock, label = traces.clock()
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 1.9 * len(panels) + 0.8), sharex=True, squeeze=False)
    for ax, (name, data) in zip(axes[:, 0], panels):
        if data.shape[1] > 10:  # more lines than the default colours: twenty distinct ones
            ax.set_prop_cycle(color=[plt.get_cmap("tab20")(i) for i in range(20)])
        lines = ax.plot(clock.numpy(), data.numpy(), linewidth=0.8)
        share = traces.pc1_share(name) if data.shape[0] > 1 else float("nan")
        ax.set_title(f"{name} ({data.shape[1]}), PC1 explains {100 * share:.0f}% of the variance", fontsize=9)
        ax.set_ylabel("input" if name == "sensory" else "state", fontsize=8)
        ax.tick_params(labelsize=7)
        if name == "sensory" and traces.input_names and len(traces.input_names) <= MAX_LEGEND:
            ax.legend(lines, traces.input_names, fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        elif name == "motor":
            ids = traces.groups["motor"]
            if len(ids) <= MAX_LEGEND:
                ax.legend(lines, [f"motor {i}" for i in ids], fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5),
                          frameon=False)
    axes[-1, 0].set_xlabel(label)
    all_share = traces.pc1_share() if traces.states.shape[0] > 1 else float("nan")
    fig.suptitle(f"{title} neuron activity; PC1 of all neurons: {100 * all_share:.0f}%".strip(), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_pca(traces: NeuronTraces, path: str, title: str = "") -> str:
    """The neuron activity's trajectory in its principal components, in 2-D (PC1, PC2) and 3-D
    (PC1-PC3), coloured by time: the picture of the LTC paper's expressivity study, for an
    episode of a trained policy (needs matplotlib).

    :param traces: at least 2 steps of activity.
    :param path: PNG file to write.
    :param title: figure title.
    :return: ``path``.
    """
    from matplotlib.collections import LineCollection
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    plt = _pyplot()
    projection, ratio = pca(traces.states, components=3)
    points = projection
    clock, label = traces.clock()
    colour = clock.numpy()
    share = [100 * float(ratio[i]) if i < ratio.shape[0] else 0.0 for i in range(3)]
    fig = plt.figure(figsize=(12, 4.8))
    flat = fig.add_subplot(1, 2, 1)
    segments = torch.stack([points[:-1, :2], points[1:, :2]], dim=1).numpy()
    lines = LineCollection(list(segments), cmap="viridis", linewidths=1.4)
    lines.set_array(colour[1:])
    flat.add_collection(lines)
    flat.scatter([float(points[0, 0])], [float(points[0, 1])], color="black", s=18, zorder=3, label="start")
    flat.autoscale()
    flat.set_xlabel(f"PC1 ({share[0]:.0f}% of variance)")
    flat.set_ylabel(f"PC2 ({share[1]:.0f}%)")
    flat.legend(fontsize=7, loc="best")
    deep: Any = fig.add_subplot(1, 2, 2, projection="3d")
    segments3 = torch.stack([points[:-1], points[1:]], dim=1).numpy()
    lines3 = Line3DCollection(list(segments3), cmap="viridis", linewidths=1.2)
    lines3.set_array(colour[1:])
    deep.add_collection3d(lines3)
    for axis_index, setter in enumerate((deep.set_xlim, deep.set_ylim, deep.set_zlim)):
        low, high = float(points[:, axis_index].min()), float(points[:, axis_index].max())
        setter(low - 1e-9, high + 1e-9)
    deep.set_xlabel(f"PC1 ({share[0]:.0f}%)", fontsize=8)
    deep.set_ylabel(f"PC2 ({share[1]:.0f}%)", fontsize=8)
    deep.set_zlabel(f"PC3 ({share[2]:.0f}%)", fontsize=8)
    deep.tick_params(labelsize=6)
    bar = fig.colorbar(lines, ax=[flat, deep], shrink=0.8, pad=0.08)
    bar.set_label(label)
    fig.suptitle(f"{title} neuron activity in its principal components ({traces.states.shape[1]} neurons, "
                 f"{traces.states.shape[0]} steps)".strip(), fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
