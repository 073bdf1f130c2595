"""A CT-RNN cell's parameters as the kernels read them (torch operations under autograd: the
one packing, used with and without gradients)."""

from __future__ import annotations

import torch

from ncp_control.cells.ctrnn_cell import CTRNNCell


def drive(cell: CTRNNCell, x: torch.Tensor) -> torch.Tensor:
    """The input part of the dynamics, ``(x * input_w + input_b) (sensory_w * mask) + bias``.

    :param cell: the cell
    :param x: inputs ``[B, T, F]``
    :return: ``[B, T, N]``
    """
    return (x * cell.input_w + cell.input_b) @ (cell.sensory_w * cell.sensory_sparsity_mask) + cell.bias


def pack(cell: CTRNNCell) -> tuple[torch.Tensor, torch.Tensor]:
    """:param cell: the cell
    :return: the masked recurrent weights ``w * mask`` ``[N, N]`` and the inverse time
        constants ``[N]``, C-contiguous"""
    w = (cell.w * cell.sparsity_mask).contiguous()
    inv_tau = (1.0 / cell.time_constant()).contiguous()
    return w, inv_tau
