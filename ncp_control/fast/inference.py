"""The no-grad path (control loops, rollouts): kernels without any autograd bookkeeping.

The kernel layouts of a cell's parameters are packed by compiled code and kept per cell
until a parameter or buffer changes: a different tensor object, storage, or version
counter (every in-place torch operation, optimiser steps and ``load_state_dict`` included,
bumps it). Writes that bypass the version counter (through ``.data`` or numpy views) are
not seen: call :func:`clear_cache` after such writes.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

#: cell -> (slots of its parameters and buffers, those tensors, their versions, their data
#: pointers, the packed plan)
_CACHE: weakref.WeakKeyDictionary[nn.Module, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def clear_cache(cell: nn.Module | None = None) -> None:
    """Forget packed parameters (of one cell, or of all).

    :param cell: the cell, or None for every cell
    """
    if cell is None:
        _CACHE.clear()
    else:
        _CACHE.pop(cell, None)


_VERSION = operator.attrgetter("_version")
_DATA_PTR = torch.Tensor.data_ptr


def cached_plan(cell: nn.Module, build: Callable[[], Any]) -> Any:
    """``build()``'s result for ``cell``, rebuilt only when one of its tensors changed.

    :param cell: the cell whose parameters and buffers the plan depends on
    :param build: packs the plan
    :return: the plan
    """
    entry = _CACHE.get(cell)
    if entry is not None:
        slots, tensors, versions, pointers, plan = entry
        try:
            current = [d[n] for d, n in slots]
            if (
                all(map(operator.is_, current, tensors))
                and list(map(_VERSION, current)) == versions
                and list(map(_DATA_PTR, current)) == pointers
            ):
                return plan
        except KeyError:  # a tensor was removed: collect the slots again
            pass
    slots = []
    for m in cell.modules():
        slots += [(m._parameters, n) for n in m._parameters if m._parameters[n] is not None]
        slots += [(m._buffers, n) for n in m._buffers if m._buffers[n] is not None]
    tensors = [d[n] for d, n in slots]
    plan = build()
    _CACHE[cell] = (slots, tensors, list(map(_VERSION, tensors)), list(map(_DATA_PTR, tensors)), plan)
    return plan


_EMPTY1 = np.empty(0, np.float32)
_EMPTY2 = np.empty((0, 0), np.float32)


def _np(t: torch.Tensor | None, empty: np.ndarray = _EMPTY2) -> np.ndarray:
    return empty if t is None else t.detach().numpy()


def cfc_layer_arrays(cell: Any) -> tuple[Any, ...] | None:
    """Packed kernel weights of a :class:`~ncp_control.cells.CfCCell`: ``(WinT, WrecT, bin,
    WhT, bh, A, w_tau, activation name, has backbone)`` with four heads (the timespan varies
    per call), or None if the kernels do not run the layer."""
    from ._cfc_params import layer_layout, layer_params, pack
    from .cfc import backbone_activation, supported_layer

    if not supported_layer(cell):
        return None
    layout = layer_layout(cell, None)
    win_t, b_in, wrec_t, wh_t, bh, a_param, w_tau = pack(layout, cell.sparsity_mask, layer_params(cell))
    return win_t, wrec_t, b_in, wh_t, bh, a_param, w_tau, backbone_activation(cell), layout.backbone


def cfc_stack_plan(cells: list[Any], starts: list[int]) -> tuple[np.ndarray, np.ndarray, int, int | None] | None:
    """Layer table and packed weights of stacked CfC layers for ``cfc_stack_forward``.

    :param cells: the layers' :class:`~ncp_control.cells.CfCCell`, sensory side first
    :param starts: the first state column of each layer
    :return: ``(meta, flat, mode code, activation code or None without backbones)``, or None
        if a layer is unsupported
    """
    from . import _cfc_kernels as k
    from ._math import ACTIVATION_CODES

    rows, chunks, size = [], [], 0
    act = "lecun_tanh"
    for cell, start in zip(cells, starts):
        arrays = cfc_layer_arrays(cell)
        if arrays is None:
            return None
        win_t, wrec_t, b_in, wh_t, bh, a_param, w_tau, act, backbone = arrays
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


def ltc_states(
    cell: Any,
    x: np.ndarray,
    h0: np.ndarray,
    ts: np.ndarray,
    keep: np.ndarray,
    sparse: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The semi-implicit LTC without gradients (float32 arrays).

    :param cell: an :class:`~ncp_control.cells.LTCCell`
    :param x: raw inputs ``[B, T, F]``
    :param h0: ``[B, N]``
    :param ts: ``[B, T]``
    :param keep: ``[B, T]``
    :param sparse: over the wiring's edges (else all pairs; None: when that is cheaper)
    :return: states ``[B, T, N]`` and mapped outputs ``[B, T, M]``
    """
    from ncp_control.cells.ltc_cell import MIN_STEP

    from ._ltc_kernels import ltc_forward

    plan = cached_plan(cell, lambda: ltc_arrays(cell, sparse))
    if sparse is not None and plan[0] != sparse:
        clear_cache(cell)
        plan = cached_plan(cell, lambda: ltc_arrays(cell, sparse))
    _, in_w, in_b, out_w, out_b, cm, gleak, vleak, s_idx, s_par, r_idx, r_par = plan
    xm = x
    if in_w is not None:
        xm = xm * in_w
    if in_b is not None:
        xm = xm + in_b
    hseq = ltc_forward(
        np.ascontiguousarray(xm.transpose(1, 2, 0)),
        np.ascontiguousarray(h0.T),
        np.ascontiguousarray(ts.T),
        np.ascontiguousarray(keep.T),
        cm,
        gleak,
        vleak,
        np.float32(cell.epsilon),
        cell.ode_unfolds,
        np.float32(MIN_STEP),
        s_idx,
        s_par,
        r_idx,
        r_par,
        False,
    )[0].transpose(2, 0, 1)
    y = hseq[:, :, : cell.motor_size]
    if out_w is not None:
        y = y * out_w
    if out_b is not None:
        y = y + out_b
    return hseq, np.ascontiguousarray(y)


def ltc_arrays(cell: Any, sparse: bool | None) -> tuple[Any, ...]:
    """Packed kernel inputs of an :class:`~ncp_control.cells.LTCCell` (no gradients).

    :param cell: the cell
    :param sparse: over the wiring's edges (else all pairs; None: when that is cheaper)
    :return: ``(sparse, input_w, input_b, output_w, output_b, cm, gleak, vleak, s_idx, s_par,
        r_idx, r_par)``
    """
    from . import _pack
    from .ltc import SPARSE_BELOW_DENSITY, cached_edges

    if sparse is None:
        sparse = float(cell.sparsity_mask.mean()) < SPARSE_BELOW_DENSITY
    implicit = cell.implicit_param_constraints
    r_idx = cached_edges(cell.sparsity_mask, sparse)
    s_idx = cached_edges(cell.sensory_sparsity_mask, sparse)
    r_par = _pack.pack_ltc_edges(
        r_idx, _np(cell.mu), _np(cell.sigma), _np(cell.w), _np(cell.erev), _np(cell.sparsity_mask), implicit
    )
    s_par = _pack.pack_ltc_edges(
        s_idx,
        _np(cell.sensory_mu),
        _np(cell.sensory_sigma),
        _np(cell.sensory_w),
        _np(cell.sensory_erev),
        _np(cell.sensory_sparsity_mask),
        implicit,
    )
    linear_in, linear_out = ("affine", "linear"), ("affine", "linear")
    return (
        sparse,
        _np(cell.input_w).copy() if cell.input_mapping in linear_in else None,
        _np(cell.input_b).copy() if cell.input_mapping == "affine" else None,
        _np(cell.output_w).copy() if cell.output_mapping in linear_out else None,
        _np(cell.output_b).copy() if cell.output_mapping == "affine" else None,
        _pack.positive(_np(cell.cm, _EMPTY1), implicit),
        _pack.positive(_np(cell.gleak, _EMPTY1), implicit),
        _np(cell.vleak, _EMPTY1).copy(),
        s_idx,
        s_par,
        r_idx,
        r_par,
    )
