"""A short summary of a liquid network: neurons, synapses, parameters per layer, sparsity."""

from __future__ import annotations

from typing import Any

from torch import nn

from ncp_control.analysis.structure import core_cell, neuron_count, neuron_groups, wiring_of
from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell

#: parameters of the input and output mappings of LTC and CT-RNN cells
_MAPPINGS = {"input_w": "input mapping", "input_b": "input mapping", "output_w": "output mapping",
             "output_b": "output mapping"}


def _neuron_layer_parameters(cell: nn.Module, wiring: Any) -> dict[str, int]:
    """LTC / CT-RNN: stored parameters attributed to the layer of the neuron they feed
    (the last axis of every neuron parameter is the destination neuron)."""
    layer_of = {}
    for index, layer in enumerate(wiring.layers):
        label = f"layer_{index} ({wiring.get_type_of_neuron(layer[0])})"
        for neuron in layer:
            layer_of[neuron] = label
    counts: dict[str, int] = {}
    for name, param in cell.named_parameters(recurse=False):
        if not param.requires_grad:
            continue
        if name in _MAPPINGS:
            counts[_MAPPINGS[name]] = counts.get(_MAPPINGS[name], 0) + param.numel()
            continue
        per_neuron = param.numel() // param.shape[-1]
        for neuron in range(param.shape[-1]):
            counts[layer_of[neuron]] = counts.get(layer_of[neuron], 0) + per_neuron
    return dict(sorted(counts.items(), key=lambda kv: (not kv[0].startswith("layer"), kv[0])))


def _parameters_per_layer(model: nn.Module) -> dict[str, int]:
    """Trainable parameter entries per layer: neuron layers of the wiring (sensory side first),
    mappings, and other submodules (backbone, LSTM memory, projection)."""
    cell = core_cell(model)
    names: dict[str, str] = {}
    wiring = wiring_of(model)
    if isinstance(cell, (LTCCell, CTRNNCell)) and wiring is not None:
        layer_counts = _neuron_layer_parameters(cell, wiring)
        memory = sum(p.numel() for n, p in model.named_parameters() if p.requires_grad and ".lstm." in f".{n}")
        if memory:
            layer_counts["lstm memory"] = memory
        return layer_counts
    if isinstance(cell, WiredCfCCell) and wiring is not None:
        for index, layer in enumerate(wiring.layers):
            names[f"layer_{index}"] = f"layer_{index} ({wiring.get_type_of_neuron(layer[0])})"
    counts: dict[str, int] = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        parts = name.split(".")[:-1]
        parts = [p for p in parts if p != "cell"] or ["cell"]
        key = names.get(parts[0], "lstm memory" if parts[0] == "lstm" else parts[0])
        counts[key] = counts.get(key, 0) + param.numel()
    return counts


def summarize(model: nn.Module, others: dict[str, nn.Module] | None = None) -> dict[str, Any]:
    """Describe a liquid network (and the modules around it, e.g. a policy's extractor and head).

    :param model: a CfC, LTC or CT-RNN (model or cell).
    :param others: further modules whose trainable parameters are listed by name.
    :return: ``{"model", "inputs", "neurons": {group: n, "total": N}, "synapses": {"sensory",
        "recurrent", "total"}, "sparsity": {"sensory", "recurrent"}, "parameters": {"per_layer":
        {...}, "total"}, "state_size"}``; synapse counts are the wiring's (``None`` unwired).
    """
    wiring = wiring_of(model)
    n = neuron_count(model)
    inputs = int(core_cell(model).input_size)
    neurons: dict[str, int] = {g: len(ids) for g, ids in neuron_groups(wiring, n).items()}
    neurons["total"] = n
    synapses: dict[str, int | None]
    sparsity: dict[str, float | None]
    if wiring is not None:
        sensory, recurrent = wiring.sensory_synapse_count, wiring.synapse_count
        synapses = {"sensory": sensory, "recurrent": recurrent, "total": sensory + recurrent}
        sparsity = {"sensory": 1.0 - sensory / (inputs * n), "recurrent": 1.0 - recurrent / (n * n)}
    else:
        synapses = {"sensory": None, "recurrent": None, "total": None}
        sparsity = {"sensory": None, "recurrent": None}
    per_layer = _parameters_per_layer(model)
    for name, module in (others or {}).items():
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        if count:
            per_layer[name] = count
    return {
        "model": type(model).__name__,
        "inputs": inputs,
        "neurons": neurons,
        "synapses": synapses,
        "sparsity": sparsity,
        "parameters": {"per_layer": per_layer, "total": sum(per_layer.values())},
        "state_size": int(getattr(model, "state_size", n)),
    }


def format_summary(summary: dict[str, Any]) -> str:
    """:param summary: from :func:`summarize`. :return: a few readable lines."""
    neurons = summary["neurons"]
    groups = ", ".join(f"{v} {k}" for k, v in neurons.items() if k != "total")
    lines = [f"{summary['model']}: {summary['inputs']} inputs, {neurons['total']} neurons ({groups}), "
             f"state size {summary['state_size']}"]
    syn, sp = summary["synapses"], summary["sparsity"]
    if syn["total"] is not None:
        lines.append(f"synapses: {syn['total']} ({syn['sensory']} sensory, {syn['recurrent']} between neurons); "
                     f"sparsity {sp['sensory']:.2f} sensory, {sp['recurrent']:.2f} between neurons")
    else:
        lines.append("synapses: unwired (dense)")
    lines.append(f"parameters: {summary['parameters']['total']}")
    for name, count in summary["parameters"]["per_layer"].items():
        lines.append(f"  {name:<24}{count:>8}")
    return "\n".join(lines)
