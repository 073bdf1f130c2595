"""Conversion from ``ncps.torch`` models (ncps 1.0.1) to ours, weights copied."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ncp_control.cfc import CfC
from ncp_control.errors import UserError
from ncp_control.sequence import LiquidRNN
from ncp_control.wirings import AutoNCP, FullyConnected, Random, Wiring

_ACTIVATION_NAMES = {"LeCun": "lecun_tanh", "Tanh": "tanh", "ReLU": "relu", "SiLU": "silu", "GELU": "gelu"}


def wiring_from_ncps(wiring: Any) -> Wiring:
    """Convert a built ``ncps.wirings`` wiring to ours.

    AutoNCP, FullyConnected and Random are rebuilt from their arguments (and checked equal);
    any other wiring (NCP, whose seed ncps does not keep, or a custom one) becomes a plain
    :class:`Wiring` with the same matrices and layers.

    :param wiring: a built ncps wiring.
    :return: the equivalent wiring.
    """
    if not wiring.is_built():
        raise UserError("wiring: the ncps wiring must be built (have an input dimension)")
    name = type(wiring).__name__
    inputs = int(wiring.input_dim)
    candidate: Wiring | None = None
    try:
        if name == "AutoNCP":
            candidate = AutoNCP(
                wiring.units, wiring._output_size, wiring._sparsity_level, wiring._seed, inputs
            )
        elif name == "FullyConnected":
            candidate = FullyConnected(
                wiring.units, wiring.output_dim, wiring._erev_init_seed, wiring.self_connections, inputs
            )
        elif name == "Random":
            candidate = Random(
                wiring.units, wiring.output_dim, wiring.sparsity_level, wiring._random_seed, inputs
            )
    except ValueError:
        candidate = None
    adjacency = wiring.adjacency_matrix
    sensory = wiring.sensory_adjacency_matrix
    if (
        candidate is not None
        and (candidate.adjacency_matrix == adjacency).all()
        and (candidate.sensory_adjacency_matrix == sensory).all()
    ):
        return candidate
    layers = [list(wiring.get_neurons_of_layer(i)) for i in range(wiring.num_layers)]
    return Wiring(adjacency, sensory, int(wiring.output_dim), layers)


def _lstm_permutation(order: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Index maps from ncps' state order to neuron-id order.

    :param order: neuron ids in ncps' state order.
    :return: ``(pos [N], gates [4N])``: our entry ``i`` is ncps entry ``pos[i]``.
    """
    pos = torch.argsort(torch.as_tensor(order))
    n = len(order)
    return pos, torch.cat([pos + g * n for g in range(4)])


def _transfer(model: LiquidRNN, source: nn.Module, mixed: bool, order: list[int] | None) -> None:
    """Copy ``source``'s ncps parameters into ``model`` (keys mapped, LSTM rows permuted)."""
    core = "cell.cell." if mixed else "cell."
    state: dict[str, torch.Tensor] = {}
    for key, value in source.state_dict().items():
        if key.startswith("rnn_cell."):
            state[core + key[len("rnn_cell.") :]] = value
        elif key.startswith("fc."):
            state[core + key] = value
        elif key.startswith("lstm."):
            if order is not None:
                pos, gates = _lstm_permutation(order)
                value = value[gates]
                if key == "lstm.recurrent_map.weight":
                    value = value[:, pos]
            state["cell." + key] = value
        else:
            raise UserError(f"module: unexpected ncps parameter {key!r}")
    model.load_state_dict(state, strict=True)
    reference = next(source.parameters())
    model.to(device=reference.device, dtype=reference.dtype)


def _cfc_from_ncps(module: Any) -> CfC:
    import ncps.wirings

    mixed = bool(module.use_mixed)
    common: dict[str, Any] = {
        "proj_size": module.proj_size,
        "return_sequences": module.return_sequences,
        "batch_first": module.batch_first,
        "mixed_memory": mixed,
    }
    cell = module.rnn_cell
    if isinstance(module.wiring_or_units, ncps.wirings.Wiring):
        wiring = wiring_from_ncps(module.wiring_or_units)
        model = CfC(int(module.input_size), wiring, mode=cell._layers[0].mode, **common)
        order = [
            i
            for layer in range(module.wiring_or_units.num_layers)
            for i in module.wiring_or_units.get_neurons_of_layer(layer)
        ]
    else:
        activation, units, dropout = "lecun_tanh", 128, 0.0
        if cell.backbone is not None:
            units = cell.backbone[0].out_features
            activation = _ACTIVATION_NAMES[type(cell.backbone[1]).__name__]
            dropout = next((m.p for m in cell.backbone if isinstance(m, nn.Dropout)), 0.0)
        model = CfC(
            int(module.input_size),
            int(module.wiring_or_units),
            mode=cell.mode,
            activation=activation,
            backbone_units=units,
            backbone_layers=cell.backbone_layers,
            backbone_dropout=dropout,
            **common,
        )
        order = None
    _transfer(model, module, mixed, order)
    return model


def _ltc_from_ncps(module: Any) -> LiquidRNN:
    from ncp_control.ltc import LTC

    cell = module.rnn_cell
    wiring = wiring_from_ncps(module._wiring)
    model = LTC(
        int(module.input_size),
        wiring,
        return_sequences=module.return_sequences,
        batch_first=module.batch_first,
        mixed_memory=bool(module.use_mixed),
        input_mapping=cell._input_mapping,
        output_mapping=cell._output_mapping,
        ode_unfolds=cell._ode_unfolds,
        epsilon=cell._epsilon,
        implicit_param_constraints=cell._implicit_param_constraints,
    )
    _transfer(model, module, bool(module.use_mixed), None)
    return model


def from_ncps(module: nn.Module) -> LiquidRNN:
    """Build our equivalent of an ``ncps.torch`` ``CfC`` or ``LTC`` with its weights copied.

    Outputs are equal (to float rounding) for the same inputs. States differ only in layout:
    ours is one tensor ``[neurons | LSTM memory]`` in neuron-id order (motor neurons first),
    where ncps' wired CfC orders neurons by layer and mixed memory uses a tuple.

    :param module: an ``ncps.torch.CfC`` or ``ncps.torch.LTC``.
    :return: a :class:`~ncp_control.CfC` or :class:`~ncp_control.LTC`.
    :raises ValueError: for any other module.
    """
    import ncps.torch as ncps_torch

    if isinstance(module, ncps_torch.CfC):
        return _cfc_from_ncps(module)
    if isinstance(module, ncps_torch.LTC):
        return _ltc_from_ncps(module)
    raise UserError(f"module must be an ncps.torch CfC or LTC, got {type(module).__name__}")
