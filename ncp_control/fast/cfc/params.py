"""One CfC layer's parameters as the kernels' packed weights, and the way back for gradients.

:func:`pack` serves both the training path (inside the layer's autograd function, see
:mod:`ncp_control.fast.cfc.train`) and the no-grad path (cached per cell, see
:mod:`ncp_control.fast.cfc.infer`).

The packing (sparsity mask on ff1/ff2, the time gate's heads merged for one shared timespan,
stacking, transposes) runs in numpy inside the autograd function instead of as a dozen
small autograd operations per layer and call; on the short sequences of PPO minibatches
those operations and their backward nodes cost more than the kernels. The backward pass
repeats, with the same float32 operations, what autograd does for such a packing: a masked
head's weight gets ``grad * mask``, the merged heads ``time_a``/``time_b`` get
``grad * timespan`` and ``grad``, so gradients are the same numbers.
"""

from __future__ import annotations

from typing import NamedTuple, cast

import numpy as np
import torch
from torch import nn

from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.fast.arrays import as_numpy


class CfCLayout(NamedTuple):
    """How one layer's parameters map onto the kernels' weights."""

    #: width of the layer's input ``u`` (the first linear map reads ``[u, h]``)
    n_in: int
    #: state size ``H``
    hidden: int
    #: heads in the parameters: 1 ("pure" mode: ff1) or 4 (ff1, ff2, time_a, time_b)
    n_heads: int
    #: the first linear map is a one-layer backbone (its weight and bias come first)
    backbone: bool
    #: ff1 and ff2 are multiplied by the layer's sparsity mask
    masked: bool
    #: the one timespan of every step and sample, with which time_a and time_b are merged
    #: into ``timespan * time_a + time_b``; None keeps four heads
    timespan: float | None


def layer_layout(cell: CfCCell, timespan: float | None) -> CfCLayout:
    """The layout of a :class:`~ncp_control.cells.CfCCell`; ``timespan`` as in
    :class:`CfCLayout` (ignored in "pure" mode, which has no time gate)."""
    pure = cell.mode == "pure"
    return CfCLayout(
        n_in=cell.input_size,
        hidden=cell.hidden_size,
        n_heads=1 if pure else 4,
        backbone=cell.backbone is not None,
        masked=cell.sparsity_mask is not None,
        timespan=None if pure else timespan,
    )


def layer_params(cell: CfCCell) -> list[torch.Tensor]:
    """The parameters a layer's kernels read, in packing order: the backbone's weight and
    bias (if any), then each head's weight and bias, then ``A`` and ``w_tau`` ("pure")."""
    pure = cell.mode == "pure"
    heads = [cell.ff1] if pure else [cell.ff1, cell.ff2, cell.time_a, cell.time_b]
    first = cast(nn.Linear, cell.backbone[0]) if cell.backbone is not None else None
    params = [first.weight, first.bias] if first is not None else []
    for m in heads:
        params += [m.weight, m.bias]
    return params + ([cell.A, cell.w_tau] if pure else [])


def pack(layout: CfCLayout, mask: torch.Tensor | None, params: list[torch.Tensor]) -> tuple[np.ndarray, ...]:
    """The kernels' weights from the parameters (numpy; masking and merging are the float32
    operations torch would do).

    :return: ``(WinT [I, G], b_first [G], WrecT [H, G], WhT [G, K], b_head [K], A [H],
        w_tau [H])``; the last four empty where unused
    """
    arrays = [as_numpy(p) for p in params]
    first: list[np.ndarray] = arrays[:2] if layout.backbone else []
    head_arrays = arrays[len(first) : len(first) + 2 * layout.n_heads]
    weights, biases = head_arrays[0::2], head_arrays[1::2]
    if layout.masked:
        mask_np = as_numpy(mask)  # type: ignore[arg-type]
        weights = [w * mask_np if i < 2 else w for i, w in enumerate(weights)]
    if layout.timespan is not None:
        ts = np.float32(layout.timespan)
        weights = [*weights[:2], ts * weights[2] + weights[3]]
        biases = [*biases[:2], ts * biases[2] + biases[3]]
    w_heads = np.concatenate(weights) if len(weights) > 1 else weights[0]
    b_heads = np.concatenate(biases) if len(biases) > 1 else biases[0]
    empty = np.empty(0, np.float32)
    if layout.backbone:
        w_first, b_first = first
        w_head_t, b_head = w_heads.T, b_heads
    else:
        w_first, b_first = w_heads, b_heads
        w_head_t, b_head = empty.reshape(0, 0), empty
    n_in = layout.n_in
    w_in_t, w_rec_t = w_first[:, :n_in].T.copy(), w_first[:, n_in:].T.copy()
    a_param, w_tau = (arrays[-2].reshape(-1), arrays[-1].reshape(-1)) if layout.n_heads == 1 else (empty, empty)
    # copies throughout: the backward pass reads them after the parameters may have changed
    return w_in_t, b_first.copy(), w_rec_t, w_head_t.copy(), b_head.copy(), a_param.copy(), w_tau.copy()


def _head_grads(
    layout: CfCLayout, mask: torch.Tensor | None, d_weight: torch.Tensor, d_bias: torch.Tensor
) -> list[torch.Tensor]:
    """Gradients of each head's weight and bias from those of the stacked heads."""
    H = layout.hidden
    rows = [d_weight[i * H : (i + 1) * H] for i in range(d_weight.shape[0] // H)]
    bias_rows = [d_bias[i * H : (i + 1) * H] for i in range(d_bias.shape[0] // H)]
    if mask is not None:  # present exactly when layout.masked
        rows = [r * mask if i < 2 else r for i, r in enumerate(rows)]
    if layout.timespan is not None:  # merged = timespan * time_a + time_b
        rows = [*rows[:2], rows[2] * layout.timespan, rows[2]]
        bias_rows = [*bias_rows[:2], bias_rows[2] * layout.timespan, bias_rows[2]]
    return [g for pair in zip(rows, bias_rows) for g in pair]


def unpack_grads(
    layout: CfCLayout,
    mask: torch.Tensor | None,
    shapes: list[torch.Size],
    d_w_in_t: torch.Tensor,
    d_w_rec_t: torch.Tensor,
    d_b_first: torch.Tensor,
    d_w_head_t: torch.Tensor,
    d_b_head: torch.Tensor,
    d_a: torch.Tensor,
    d_w_tau: torch.Tensor,
) -> list[torch.Tensor]:
    """The parameters' gradients (in :func:`layer_params` order, of the parameters' ``shapes``)
    from those of the packed weights (as :func:`pack` returns them; ``d_w_head_t`` and
    ``d_b_head`` unused without a backbone, ``d_a`` and ``d_w_tau`` outside "pure" mode)."""
    d_first = torch.cat([d_w_in_t.t(), d_w_rec_t.t()], 1)
    if layout.backbone:
        grads = [d_first, d_b_first, *_head_grads(layout, mask, d_w_head_t.t(), d_b_head)]
    else:
        grads = _head_grads(layout, mask, d_first, d_b_first)
    if layout.n_heads == 1:
        grads += [d_a.reshape(shapes[-2]), d_w_tau.reshape(shapes[-1])]
    return grads
