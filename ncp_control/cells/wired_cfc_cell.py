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
        for cell, (start, end) in zip(self.layer_cells, self._slices):
            inputs = cell.step(inputs, h[:, start:end], ts)
            outputs.append(inputs)
        h_new = torch.cat([outputs[i] for i in self._id_order], 1)
        motor = h_new[:, : self.motor_size]
        return (motor if self.fc is None else self.fc(motor)), h_new
