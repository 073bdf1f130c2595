"""The LSTM memory cell of mixed-memory networks (ncps ``LSTMCell`` arithmetic)."""

from __future__ import annotations

import torch
from torch import nn


class LSTMCell(nn.Module):
    """LSTM cell with ncps' parameter names (``input_map``, ``recurrent_map``) and forget bias +1.

    :param input_size: number of input features F.
    :param hidden_size: number of units N.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.input_map = nn.Linear(input_size, 4 * hidden_size, bias=True)
        self.recurrent_map = nn.Linear(hidden_size, 4 * hidden_size, bias=False)
        nn.init.xavier_uniform_(self.input_map.weight)
        nn.init.uniform_(self.input_map.bias, -0.1, 0.1)
        nn.init.orthogonal_(self.recurrent_map.weight)

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: output state ``[B, N]``.
        :param c: memory ``[B, N]``.
        :return: ``(h_new [B, N], c_new [B, N])``.
        """
        z = self.input_map(x) + self.recurrent_map(h)
        i, ig, fg, og = z.chunk(4, 1)
        c_new = c * torch.sigmoid(fg + 1.0) + torch.tanh(i) * torch.sigmoid(ig)
        return torch.tanh(c_new) * torch.sigmoid(og), c_new
