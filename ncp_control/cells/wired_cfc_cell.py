"""The wired CfC cell: one CfC layer per wiring layer, inputs masked by the wiring."""

from __future__ import annotations

import torch
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.errors import UserError
from ncp_control.wirings import Wiring


def layer_masks(wiring: Wiring) -> list[torch.Tensor]:
    """Input masks of each wiring layer, as ncps' wired CfC builds them.

    Layer ``l`` reads the previous layer's neurons (the sensory inputs for ``l = 0``) through
    the wiring's synapses and its own neurons through an all-ones block.

    :param wiring: a built wiring.
    :return: one ``[n_l, n_{l-1} + n_l]`` 0/1 mask per layer.
    """
    masks = []
    for index, neurons in enumerate(wiring.layers):
        if index == 0:
            source = wiring.sensory_adjacency_matrix[:, list(neurons)]
        else:
            source = wiring.adjacency_matrix[list(wiring.layers[index - 1])][:, list(neurons)]
        ones = torch.ones(len(neurons), len(neurons))
        masks.append(torch.cat([torch.as_tensor(source, dtype=torch.float32).abs().T, ones], 1))
    return masks


class WiredCfCCell(LiquidCell):
    """CfC over a wiring (ncps ``WiredCfCCell`` arithmetic), one :class:`CfCCell` per layer
    (``layer_0`` reads the inputs, ``layer_{l}`` reads ``layer_{l-1}``), without backbone.

    The state is indexed by neuron id, so motor neurons (ids ``0..M-1``) come first; each
    layer's neurons must be consecutive ids (true of every NCP and single-layer wiring).

    :param input_size: number of input features F.
    :param wiring: the wiring (built here for ``input_size`` if it is not built yet).
    :param mode: ``"default"``, ``"no_gate"`` or ``"pure"``.
    :param proj_size: if set, ``y = fc(motor neurons)``.
    """

    def __init__(
        self, input_size: int, wiring: Wiring, mode: str = "default", proj_size: int | None = None
    ) -> None:
        super().__init__()
        wiring = self._attach_wiring(input_size, wiring)
        self.output_size = self.motor_size if proj_size is None else proj_size
        self.mode = mode
        self._slices: list[tuple[int, int]] = []
        for neurons in wiring.layers:
            start, end = min(neurons), max(neurons) + 1
            if list(neurons) != list(range(start, end)):
                raise UserError("wiring: a wired CfC needs each layer's neurons to be consecutive ids")
            self._slices.append((start, end))
        # order in which layer outputs are concatenated to give the state in neuron-id order
        self._id_order = sorted(range(len(self._slices)), key=lambda i: self._slices[i][0])
        in_features = input_size
        for index, mask in enumerate(layer_masks(wiring)):
            size = mask.shape[0]
            cell = CfCCell(in_features, size, mode, "lecun_tanh", 0, 0, 0.0, sparsity_mask=mask)
            self.add_module(f"layer_{index}", cell)
            in_features = size
        self.fc = nn.Linear(self.motor_size, proj_size) if proj_size is not None else None

    @property
    def layer_cells(self) -> list[CfCCell]:
        """The per-layer cells, sensory side first."""
        return [getattr(self, f"layer_{i}") for i in range(len(self._slices))]

    @property
    def layer_slices(self) -> tuple[tuple[int, int], ...]:
        """Each layer's columns ``[start, end)`` of the state, sensory side first (the order
        of :attr:`layer_cells`)."""
        return tuple(self._slices)

    def split_layers(self, h: torch.Tensor) -> list[torch.Tensor]:
        """Each layer's part of a state, as :attr:`layer_cells` read it.

        :param h: state ``[B, units]`` in neuron-id order.
        :return: one ``[B, n_l]`` view per layer, sensory side first.
        """
        return [h[:, start:end] for start, end in self._slices]

    def join_layers(self, states: list[torch.Tensor], dim: int = -1) -> torch.Tensor:
        """The inverse of :meth:`split_layers`: the layers' states in neuron-id order.

        :param states: one tensor per layer, sensory side first, each ``[..., n_l]`` along
            ``dim`` (e.g. ``[B, n_l]`` for one step or ``[T, B, n_l]`` for a sequence).
        :param dim: the neuron dimension.
        :return: the concatenation along ``dim`` (``[..., units]``).
        """
        return torch.cat([states[i] for i in self._id_order], dim)

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, units]`` in neuron-id order.
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, output_size], h_new [B, units])``.
        """
        ts = dt.unsqueeze(-1)
        outputs = []
        inputs = x
        for cell, h_layer in zip(self.layer_cells, self.split_layers(h)):
            inputs = cell.step(inputs, h_layer, ts)
            outputs.append(inputs)
        h_new = self.join_layers(outputs, 1)
        motor = h_new[:, : self.motor_size]
        return (motor if self.fc is None else self.fc(motor)), h_new
