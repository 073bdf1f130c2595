"""Trajectory-length expressivity (Hasani et al., Liquid Time-constant Networks, 2021).

A circle ``I(t) = (sin t, cos t)``, ``t`` in ``[0, 2 pi)``, is fed through a stack of ``depth``
randomly initialised layers of ``width`` units. Each layer's hidden trajectory is projected to
2-D by PCA and its arc length measured: the longer, the more the network bends a simple input
curve, a measure of its expressive power. Weight matrices are drawn from
``N(0, sigma_w^2 / fan_in)`` and biases from ``N(0, sigma_b^2)``; the other parameters keep
their initial values (LTC conductances still pass through softplus, reversal potentials keep
their +-1 polarity).

The circle is run ``loops`` times and the last loop is measured, so the transient from the
state at rest does not count. Each sample lasts ``2 pi / steps`` for the continuous-time
networks (the circle's own time).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ncp_control.analysis.pca import arc_length, pca
from ncp_control.errors import UserError

#: networks compared
KINDS = ("ltc", "cfc", "ctrnn", "lstm", "mlp")


def circle_inputs(steps: int, loops: int = 1) -> torch.Tensor:
    """:param steps: samples per loop. :param loops: loops.
    :return: ``[loops * steps, 2]`` points ``(sin t, cos t)``."""
    t = torch.arange(loops * steps, dtype=torch.float32) * (2 * math.pi / steps)
    return torch.stack([torch.sin(t), torch.cos(t)], 1)


def _layer(kind: str, input_size: int, width: int) -> nn.Module:
    from ncp_control import CTRNN, LTC, CfC

    if kind == "ltc":
        return LTC(input_size, width)
    if kind == "cfc":
        return CfC(input_size, width)
    if kind == "ctrnn":
        return CTRNN(input_size, width)
    if kind == "lstm":
        return nn.LSTM(input_size, width, batch_first=True)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(input_size, width), nn.Tanh())
    raise UserError(f"kind must be one of {KINDS}, got {kind!r}")


#: parameters treated as weight matrices (redrawn ``N(0, sigma_w^2 / fan_in)``), by name ending
_WEIGHTS = ("weight", "weight_ih_l0", "weight_hh_l0", "w", "sensory_w")
#: parameters treated as biases (redrawn ``N(0, sigma_b^2)``)
_BIASES = ("bias", "bias_ih_l0", "bias_hh_l0")


def randomize(layer: nn.Module, sigma_w: float, sigma_b: float, generator: torch.Generator) -> None:
    """Redraw a layer's weight matrices and biases in place.

    :param layer: one layer of :func:`random_stack`.
    :param sigma_w: weight scale (variance ``sigma_w^2 / fan_in``).
    :param sigma_b: bias standard deviation.
    :param generator: random generator.
    """
    with torch.no_grad():
        for name, param in layer.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in _WEIGHTS and param.dim() == 2:
                # nn.Linear/LSTM store [out, in]; the liquid cells store [in, out] (w, sensory_w)
                fan_in = param.shape[1] if leaf.startswith("weight") else param.shape[0]
                param.copy_(torch.randn(param.shape, generator=generator) * (sigma_w / math.sqrt(fan_in)))
            elif leaf in _BIASES:
                param.copy_(torch.randn(param.shape, generator=generator) * sigma_b)


def random_stack(kind: str, width: int, depth: int, seed: int = 0, sigma_w: float = 2.0,
                 sigma_b: float = 1.0, input_size: int = 2) -> list[nn.Module]:
    """Build ``depth`` randomly initialised layers of one kind.

    :param kind: one of :data:`KINDS`.
    :param width: units per layer.
    :param depth: number of layers.
    :param seed: seed of the initialisation.
    :param sigma_w: weight scale.
    :param sigma_b: bias scale.
    :param input_size: inputs of the first layer.
    :return: the layers.
    """
    if width < 1 or depth < 1:
        raise UserError(f"width and depth must be >= 1, got {width} and {depth}")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    layers = []
    for index in range(depth):
        layer = _layer(kind, input_size if index == 0 else width, width)
        randomize(layer, sigma_w, sigma_b, generator)
        layers.append(layer.eval())
    return layers


def hidden_trajectories(layers: list[nn.Module], inputs: torch.Tensor, timespan: float) -> list[torch.Tensor]:
    """Run the stack over one input sequence.

    :param layers: from :func:`random_stack`.
    :param inputs: ``[T, 2]``.
    :param timespan: elapsed time per sample (continuous-time layers).
    :return: each layer's outputs ``[T, width]``.
    """
    from ncp_control.sequence import LiquidRNN

    out = []
    x = inputs.unsqueeze(0)
    with torch.no_grad():
        for layer in layers:
            if isinstance(layer, LiquidRNN):
                x, _ = layer(x, timespans=timespan)
            elif isinstance(layer, nn.LSTM):
                x, _ = layer(x)
            else:
                x = layer(x)
            out.append(x[0])
    return out


def trajectory_lengths(kind: str, width: int, depth: int, seed: int = 0, steps: int = 200, loops: int = 2,
                       sigma_w: float = 2.0, sigma_b: float = 1.0, timespan: float | None = None) -> list[float]:
    """Arc length of each layer's 2-D PCA-projected trajectory over the last loop of the circle.

    :param kind: one of :data:`KINDS`.
    :param width: units per layer.
    :param depth: layers.
    :param seed: initialisation seed.
    :param steps: samples per loop.
    :param loops: loops run (the last one is measured).
    :param sigma_w: weight scale.
    :param sigma_b: bias scale.
    :param timespan: elapsed time per sample (default ``2 pi / steps``).
    :return: ``depth`` lengths, first layer first.
    """
    layers = random_stack(kind, width, depth, seed, sigma_w, sigma_b)
    ts = 2 * math.pi / steps if timespan is None else float(timespan)
    trajectories = hidden_trajectories(layers, circle_inputs(steps, loops), ts)
    return [arc_length(pca(h[-steps:])[0]) for h in trajectories]


def compare(kinds: tuple[str, ...] = KINDS, widths: tuple[int, ...] = (16, 32, 64), depth: int = 3,
            seeds: tuple[int, ...] = (0, 1, 2), **kwargs: Any) -> list[dict[str, Any]]:
    """Measure every kind, width and seed; a stack of ``depth`` layers gives depths 1..depth.

    :param kinds: networks.
    :param widths: widths.
    :param depth: deepest stack.
    :param seeds: seeds.
    :param kwargs: passed to :func:`trajectory_lengths`.
    :return: rows ``{"kind", "width", "depth", "seed", "length"}``.
    """
    rows = []
    for kind in kinds:
        for width in widths:
            for seed in seeds:
                for layer, length in enumerate(trajectory_lengths(kind, width, depth, seed, **kwargs), 1):
                    rows.append({"kind": kind, "width": width, "depth": layer, "seed": seed, "length": length})
    return rows


def median_lengths(rows: list[dict[str, Any]]) -> dict[tuple[str, int, int], float]:
    """:param rows: from :func:`compare`. :return: median length over seeds per ``(kind, width, depth)``."""
    groups: dict[tuple[str, int, int], list[float]] = {}
    for row in rows:
        groups.setdefault((row["kind"], row["width"], row["depth"]), []).append(row["length"])
    return {key: float(torch.tensor(v).median()) for key, v in groups.items()}


def format_table(rows: list[dict[str, Any]]) -> str:
    """:param rows: from :func:`compare`. :return: a text table of median lengths (kinds x width/depth)."""
    medians = median_lengths(rows)
    kinds = list(dict.fromkeys(k for k, _, _ in medians))
    columns = sorted({(w, d) for _, w, d in medians})
    head = "network " + "".join(f"{f'w{w} d{d}':>11}" for w, d in columns)
    lines = [head]
    for kind in kinds:
        lines.append(f"{kind:<8}" + "".join(f"{medians.get((kind, w, d), float('nan')):>11.3g}" for w, d in columns))
    return "\n".join(lines)


def plot_expressivity(rows: list[dict[str, Any]], path: str, width: int | None = None, seed: int = 0,
                      steps: int = 200, **kwargs: Any) -> str:
    """Plot median length against width (one panel per depth) and each kind's projected
    trajectory at the widest width and deepest layer (needs matplotlib).

    :param rows: from :func:`compare`.
    :param path: PNG file to write.
    :param width: width of the example trajectories (default: the widest measured).
    :param seed: seed of the example trajectories.
    :param steps: samples per loop (as measured).
    :param kwargs: ``loops``, ``sigma_w``, ``sigma_b`` as measured.
    :return: ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    medians = median_lengths(rows)
    kinds = list(dict.fromkeys(k for k, _, _ in medians))
    widths = sorted({w for _, w, _ in medians})
    depths = sorted({d for _, _, d in medians})
    width = widths[-1] if width is None else width
    fig, axes = plt.subplots(2, max(len(depths), len(kinds)), figsize=(3.2 * max(len(depths), len(kinds)), 6.4),
                             squeeze=False)
    for col, depth in enumerate(depths):
        ax = axes[0][col]
        for kind in kinds:
            ax.plot(widths, [medians[(kind, w, depth)] for w in widths], marker="o", label=kind)
        ax.set_yscale("log")
        ax.set_xlabel("width")
        ax.set_title(f"layer {depth}")
    axes[0][0].set_ylabel("trajectory length (median over seeds)")
    axes[0][0].legend(fontsize=7)
    loops = int(kwargs.get("loops", 2))
    for col, kind in enumerate(kinds):
        layers = random_stack(kind, width, depths[-1], seed, kwargs.get("sigma_w", 2.0), kwargs.get("sigma_b", 1.0))
        ts = kwargs.get("timespan") or 2 * math.pi / steps
        hidden = hidden_trajectories(layers, circle_inputs(steps, loops), ts)[-1][-steps:]
        points = pca(hidden)[0]
        ax = axes[1][col]
        ax.plot(points[:, 0].numpy(), points[:, 1].numpy(), linewidth=0.8)
        ax.set_title(f"{kind}, w{width} layer {depths[-1]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes[0][len(depths):]) + list(axes[1][len(kinds):]):
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
