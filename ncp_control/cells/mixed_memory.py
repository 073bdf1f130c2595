"""Mixed memory: an LSTM memory path in front of any liquid cell (Lechner & Hasani 2020)."""

from __future__ import annotations

import torch
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.lstm import LSTMCell


class MixedMemoryCell(LiquidCell):
    """Runs an :class:`LSTMCell` over ``(x, h, c)``, then the wrapped cell from the LSTM's
    output state (ncps' ``mixed_memory=True``). The state is one tensor
    ``[neuron state (N) | LSTM memory (N)]``.

    :param cell: the liquid cell (state size N).
    """

    def __init__(self, cell: LiquidCell) -> None:
        super().__init__()
        self.cell = cell
        self.lstm = LSTMCell(cell.input_size, cell.state_size)
        self.input_size = cell.input_size
        self.state_size = 2 * cell.state_size
        self.motor_size = cell.motor_size
        self.output_size = cell.output_size

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, 2N]`` (neuron state, then LSTM memory).
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, output_size], h_new [B, 2N])``.
        """
        n = self.cell.state_size
        neurons, memory = self.lstm(x, h[:, :n], h[:, n:])
        y, neurons = self.cell(x, neurons, dt)
        return y, torch.cat([neurons, memory], 1)


def unwrap_memory(cell: nn.Module) -> nn.Module:
    """:param cell: a cell, possibly inside a :class:`MixedMemoryCell`.
    :return: the wrapped liquid cell, or ``cell`` itself when it is not a mixed-memory cell."""
    return cell.cell if isinstance(cell, MixedMemoryCell) else cell
