"""The CfC no-grad path (control loops, rollouts): every layer's packed weights in one flat
array, kept per cell until a parameter changes (see :mod:`ncp_control.fast.inference`), and
one compiled kernel that runs the whole stack step by step without saving anything."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch

from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.fast.cfc.params import layer_layout, layer_params, pack
from ncp_control.fast.cfc.support import backbone_activation, layers, supports
from ncp_control.fast.inference import cached_plan, constant, time_major

#: ``(meta, flat, mode code, activation code or None)``, as ``cfc_stack_forward`` takes them
StackPlan = tuple[np.ndarray, np.ndarray, int, "int | None"]


def layer_arrays(cell: CfCCell) -> tuple[Any, ...]:
    """Packed kernel weights of one supported layer with four heads (the timespan varies per
    call).

    :param cell: the layer (see :func:`~ncp_control.fast.cfc.support.supported_layer`)
    :return: ``(WinT, WrecT, bin, WhT, bh, A, w_tau, activation name, has backbone)``
    """
    layout = layer_layout(cell, None)
    win_t, b_in, wrec_t, wh_t, bh, a_param, w_tau = pack(layout, cell.sparsity_mask, layer_params(cell))
    return win_t, wrec_t, b_in, wh_t, bh, a_param, w_tau, backbone_activation(cell), layout.backbone


def stack_plan(cell: CfCCell | WiredCfCCell) -> StackPlan | None:
    """Layer table and packed weights of a cell's layers for ``cfc_stack_forward``.

    :param cell: an unwired or wired CfC cell
    :return: ``(meta, flat, mode code, activation code or None without backbones)``, or None
        where :func:`~ncp_control.fast.cfc.support.supports` declines the cell
    """
    from ncp_control.fast.cfc import kernels as k
    from ncp_control.fast.kernel_math import ACTIVATION_CODES

    if not supports(cell):
        return None
    cells, starts = layers(cell)
    rows, chunks, size = [], [], 0
    act = "lecun_tanh"
    for layer, start in zip(cells, starts):
        win_t, wrec_t, b_in, wh_t, bh, a_param, w_tau, act, backbone = layer_arrays(layer)
        offsets = []
        for array in (win_t, wrec_t, b_in, wh_t, bh, a_param, w_tau):
            offsets.append(size)
            chunks.append(array.reshape(-1))
            size += array.size
        heads = wh_t.shape[1] if backbone else win_t.shape[1]
        rows.append([wrec_t.shape[0], win_t.shape[0], win_t.shape[1], heads, int(backbone), start, *offsets])
    flat = np.concatenate([*chunks, np.zeros(max(r[0] + r[3] for r in rows), np.float32)])
    meta = np.array(rows, dtype=np.int64)
    # no backbone anywhere: None leaves the backbone's code out of the compiled kernel
    act_code = ACTIVATION_CODES[act] if meta[:, k.META_BACKBONE].any() else None
    return meta, flat, k.MODE_CODES[cells[0].mode], act_code


@lru_cache(maxsize=1)
def _stack_forward() -> Any:
    from ncp_control.fast.cfc.kernels import cfc_stack_forward

    return cfc_stack_forward


def infer(
    cell: CfCCell | WiredCfCCell,
    x: np.ndarray,
    h: np.ndarray,
    ts: np.ndarray | float,
    keep: np.ndarray | None,
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Run a CfC cell over a sequence without autograd.

    :param cell: an unwired or wired CfC cell
    :param x: inputs ``[B, T, F]`` (float32)
    :param h: initial state ``[B, S]``
    :param ts: elapsed times ``[B, T]``, or one timespan for every step and sample
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0; None
        for no resets
    :return: ``(y [B, T, M], h_last [B, S])``, or None where the cell is not supported
    """
    plan = cached_plan(cell, lambda: stack_plan(cell))
    if plan is None:
        return None
    batch, steps = x.shape[0], x.shape[1]
    ts_tm = constant((steps, batch), ts) if isinstance(ts, float) else time_major(ts)
    keep_tm = constant((steps, batch), 1.0) if keep is None else time_major(keep)
    hseq = _stack_forward()(time_major(x), np.ascontiguousarray(h), ts_tm, keep_tm, *plan)
    motor = cell.motor_size
    if steps == 1:  # views shaped in numpy: indexing a tensor costs about a microsecond
        h_last = torch.from_numpy(hseq[0])
        y = torch.from_numpy(hseq[0, :, None, :motor])
    else:
        h_last = torch.from_numpy(np.ascontiguousarray(hseq[-1]))
        y = torch.from_numpy(np.ascontiguousarray(np.swapaxes(hseq[:, :, :motor], 0, 1)))
    fc = cell.fc
    return (y if fc is None else fc(y)), h_last
