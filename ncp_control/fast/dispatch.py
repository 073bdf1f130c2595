"""Routes a sequence model to its cell's compiled path, or declines (returns ``None``).

The checks that concern every cell alike (numba installed, float32 CPU inputs, timespans
without gradients; the control loop's shortcut: its arguments) are made here; whether the
path applies to the cell itself is for each cell's ``support`` module to say.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.fast.inference import constant

#: ``unroll(cell, x [B,T,F], h [B,S], ts [B,T], keep [B,T]) -> (y, h_last) | None`` (tensors)
UnrollFn = Callable[..., "tuple[torch.Tensor, torch.Tensor] | None"]
#: ``infer(cell, x [B,T,F], h [B,S], ts [B,T] | float, keep [B,T] | None) -> (y, h_last) | None``
#: (numpy arrays, no autograd)
InferFn = Callable[..., "tuple[torch.Tensor, torch.Tensor] | None"]

#: the cells whose no-grad path the control loop's shortcut takes (exact types)
_QUICK_CELLS = (CfCCell, WiredCfCCell, LTCCell)


@lru_cache(maxsize=1)
def available() -> bool:
    """:return: whether the optional kernels can run (numba and SciPy's BLAS importable)."""
    return all(importlib.util.find_spec(name) is not None for name in ("numba", "scipy"))


@cache
def entry_points(cell_type: type) -> tuple[UnrollFn, InferFn | None] | None:
    """The compiled path of a kind of cell (its package imported on first use: the kernels
    need numba).

    :param cell_type: the cell's class
    :return: ``(unroll, infer)`` (``infer`` None where the cell has no separate no-grad path),
        or None for cells without a compiled path (mixed memory, LSTM, ...)
    """
    if issubclass(cell_type, (CfCCell, WiredCfCCell)):
        from ncp_control.fast import cfc

        return cfc.unroll, cfc.infer
    if issubclass(cell_type, LTCCell):
        from ncp_control.fast import ltc

        return ltc.unroll, ltc.infer
    if issubclass(cell_type, CTRNNCell):
        from ncp_control.fast import ctrnn

        return ctrnn.unroll, None
    return None


def fast_unroll(
    model: nn.Module, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, resets: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Run a sequence model's cell over the sequence with the compiled kernels.

    Same arguments and result as ``LiquidRNN._unroll``; outputs and gradients (inputs,
    initial state, parameters) equal the per-step loop's to float32 rounding. Without
    gradients (``torch.no_grad()``) the kernels read the parameters directly.

    :param model: a :class:`~ncp_control.sequence.LiquidRNN`
    :param x: inputs ``[B, T, F]``
    :param h: initial state ``[B, S]``
    :param ts: elapsed times ``[B, T]``
    :param resets: ``[B, T]`` bool or None
    :return: ``(y [B, T, M], h_last [B, S])``, or None where the fast path does not apply
        (numba missing, non-float32 or non-CPU tensors, differentiable timespans, mixed
        memory, LTC solvers other than semi-implicit, backbones deeper than one layer)
    """
    cell: Any = model._modules["cell"]
    paths = entry_points(cell.__class__) if available() else None
    if paths is None:
        return None
    if not x.is_cpu or x.dtype != torch.float32 or h.dtype != torch.float32 or ts.dtype != torch.float32:
        return None
    unroll, infer = paths
    if not torch.is_grad_enabled() and infer is not None:
        # inputs arrive without gradient tracking (no_grad): .numpy() needs no detach
        keep_np = None if resets is None else (~resets.numpy()).astype(np.float32)
        return infer(cell, x.numpy(), h.numpy(), ts.numpy(), keep_np)
    keep = torch.ones_like(ts) if resets is None else (~resets).to(ts.dtype)
    if ts.requires_grad:
        return None
    return unroll(cell, x, h, ts, keep)


def quick_infer(model: nn.Module, x: Any, hx: Any, timespan: float) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The control loop's shortcut (no autograd, no resets, one timespan for every step): a
    CfC's or semi-implicit LTC's kernel straight from the arguments, before the general
    validation.

    :param model: a :class:`~ncp_control.sequence.LiquidRNN` with ``batch_first``
    :param x: the ``x`` passed to ``forward``; only a float32 CPU ``[B, T, F]`` tensor is taken
    :param hx: None or a float32 CPU ``[B, S]`` tensor
    :param timespan: the elapsed time of every step (finite, >= 0)
    :return: ``(y [B, T, M], h_last [B, S])``, or None for anything else, non-finite
        inputs or state included (the validated path then handles it, errors included)
    """
    cell: Any = model._modules["cell"]
    if type(cell) not in _QUICK_CELLS or not available():
        return None
    if type(x) is not torch.Tensor or x.dim() != 3 or x.dtype != torch.float32 or not x.is_cpu or x.requires_grad:
        return None
    batch, steps, features = x.shape
    if batch == 0 or steps == 0 or features != cell.input_size:
        return None
    if hx is None:
        h_np = constant((batch, cell.state_size), 0.0)
    elif (
        type(hx) is torch.Tensor
        and hx.shape == (batch, cell.state_size)
        and hx.dtype == torch.float32
        and hx.is_cpu
        and not hx.requires_grad
    ):
        h_np = hx.numpy()
    else:
        return None
    x_np = x.numpy()
    if not all_finite()(x_np, h_np):
        return None  # the validated path names the non-finite argument
    paths = entry_points(cell.__class__)
    assert paths is not None and paths[1] is not None
    return paths[1](cell, x_np, h_np, timespan, None)


@lru_cache(maxsize=1)
def all_finite() -> Callable[[np.ndarray, np.ndarray], bool]:
    """:return: the compiled check that ``x [B, T, F]`` and ``h [B, S]`` are finite (needs numba)"""
    from ncp_control.fast.checks import all_finite as check

    return check  # type: ignore[no-any-return]
