"""Shared by every cell's path: which tensors the kernels take (float32 on the CPU), zero-copy
views of them as numpy arrays, and the layout of the weights the backward products read."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch


def float32_cpu(tensors: Iterable[torch.Tensor]) -> bool:
    """:param tensors: e.g. a cell's parameters
    :return: whether every one is a float32 tensor on the CPU (the only kind the kernels read)"""
    return all(t.dtype == torch.float32 and t.device.type == "cpu" for t in tensors)


def as_numpy(t: torch.Tensor) -> np.ndarray:
    """A C-contiguous float32 numpy view (copy only when the tensor is not contiguous).

    :param t: CPU tensor, float32
    :return: ndarray sharing memory with ``t`` where possible
    """
    return t.detach().contiguous().numpy()


#: fewest rows (batch size) at which the backward kernels multiply by untransposed weights
UNTRANSPOSED_MIN_ROWS = 16


def backward_operand(w_t: np.ndarray, rows: int) -> tuple[np.ndarray, bool]:
    """How a backward kernel multiplies ``rows`` rows by ``w_t.T``: ``(operand, trans)`` for
    ``gemm(x, operand, out, beta, False, trans)``.

    MKL's small products run 20% to 2.5x faster on an untransposed operand than with its
    transpose flag, and from 16 rows on the two give the same numbers (measured over the
    kernels' shapes). Below 16 rows they can sum in another order, and the learning results
    of the tuned recipes (PPO minibatches of 8 sequences) hang on such last-bit differences
    (one changed product moved a CfC recipe's median return over three seeds from 482.8 to
    322.9), so small batches keep the transposed call and their numbers.

    :param w_t: the weight as the forward pass reads it (``x @ w_t``), C-contiguous
    :param rows: rows of the backward products (the batch size)
    """
    if rows >= UNTRANSPOSED_MIN_ROWS:
        return np.ascontiguousarray(w_t.T), False
    return w_t, True
