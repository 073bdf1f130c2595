"""Chooses the compiled sequence path for a model, or declines (returns ``None``)."""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

from ncp_control.cells.cfc_cell import ACTIVATIONS, CfCCell
from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.fast import inference


@lru_cache(maxsize=1)
def available() -> bool:
    """:return: whether the optional kernels can run (numba and SciPy's BLAS importable)."""
    return all(importlib.util.find_spec(name) is not None for name in ("numba", "scipy"))


def _activation_name(module: nn.Module) -> str | None:
    for name, kind in ACTIVATIONS.items():
        if type(module) is kind:
            if isinstance(module, nn.GELU) and module.approximate != "none":
                return None
            return name
    return None


def _float32_cpu(params: Any) -> bool:
    return all(p.dtype == torch.float32 and p.device.type == "cpu" for p in params)


def _cfc_states(
    cells: list[Any],
    fc: nn.Module | None,
    x: torch.Tensor,
    h0s: list[torch.Tensor],
    ts: torch.Tensor,
    keep: torch.Tensor,
) -> list[torch.Tensor] | None:
    """Each layer's states ``[T, B, H]``, or None where the kernels do not apply (a layer
    they do not run, or parameters, the output map's included, not float32 on the CPU)."""
    from ncp_control.fast._cfc_params import layer_params
    from ncp_control.fast.cfc import cfc_layer_sequence, supported_layer

    if not all(supported_layer(c) for c in cells):
        return None
    params = [layer_params(c) for c in cells]
    if not all(map(_float32_cpu, params)) or (fc is not None and not _float32_cpu(fc.parameters())):
        return None
    first = ts.reshape(-1)[:1]
    timespan = float(first) if ts.numel() and bool((ts == first).all()) else None
    u = x.transpose(0, 1).contiguous()
    ts_t, keep_t = ts.t().contiguous(), keep.t().contiguous()
    states = []
    for cell, cell_params, h0 in zip(cells, params, h0s):
        u = cfc_layer_sequence(u, h0.contiguous(), ts_t, keep_t, cell, cell_params, timespan)
        states.append(u)
    return states


def _unroll_cfc(cell: Any, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor) -> Any:
    if isinstance(cell, CfCCell):
        states = _cfc_states([cell], cell.fc, x, [h], ts, keep)
        if states is None:
            return None
        hseq = states[0].transpose(0, 1)
        y = hseq if cell.fc is None else cell.fc(hseq)
        return y, hseq[:, -1]
    assert isinstance(cell, WiredCfCCell)
    slices = cell._slices
    states = _cfc_states(cell.layer_cells, cell.fc, x, [h[:, a:b] for a, b in slices], ts, keep)
    if states is None:
        return None
    hseq = torch.cat([states[i] for i in cell._id_order], 2).transpose(0, 1)
    motor = hseq[:, :, : cell.motor_size]
    y = motor if cell.fc is None else cell.fc(motor)
    return y, hseq[:, -1]


def _unroll_ltc(cell: Any, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor) -> Any:
    from ncp_control.fast.ltc import ltc_semi_implicit_sequence

    if cell.solver != "semi_implicit":
        return None
    hseq = ltc_semi_implicit_sequence(cell, x, h, ts, keep)
    batch, steps, units = hseq.shape
    y = cell.map_outputs(hseq.reshape(batch * steps, units)).reshape(batch, steps, -1)
    return y, hseq[:, -1]


def _unroll_ctrnn(cell: Any, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor) -> Any:
    from ncp_control.fast.ctrnn import ctrnn_semi_implicit_sequence

    if cell.solver != "semi_implicit":
        return None
    hseq = ctrnn_semi_implicit_sequence(cell, x, h, ts, keep)
    y = hseq[:, :, : cell.motor_size] * cell.output_w + cell.output_b
    return y, hseq[:, -1]


def _cfc_plan(cell: Any) -> Any:

    if isinstance(cell, WiredCfCCell):
        return inference.cfc_stack_plan(list(cell.layer_cells), [a for a, _ in cell._slices])
    return inference.cfc_stack_plan([cell], [0])


def _time_major(a: np.ndarray) -> np.ndarray:
    """``[B, T, ...]`` to C-contiguous ``[T, B, ...]`` (a view for one step)."""
    if a.shape[1] == 1:
        return np.ascontiguousarray(a).reshape((1, a.shape[0], *a.shape[2:]))
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


def _cfc_infer(cell: Any, x_np: np.ndarray, h_np: np.ndarray, ts_tm: np.ndarray, keep_tm: np.ndarray) -> Any:
    """No-grad CfC stack: ``x_np [B, T, F]``, ``h_np [B, S]``, time-major ``ts_tm``/``keep_tm``
    ``[T, B]``; the ``(y, h_last)`` of :func:`fast_unroll`, or None where unsupported."""
    plan = inference.cached_plan(cell, lambda: _cfc_plan(cell))
    fc = cell.fc
    if plan is None or (fc is not None and fc.weight.dtype != torch.float32):
        return None
    steps = x_np.shape[1]
    hseq = _stack_forward()(_time_major(x_np), np.ascontiguousarray(h_np), ts_tm, keep_tm, *plan)
    motor = cell.motor_size
    if steps == 1:  # views shaped in numpy: indexing a tensor costs about a microsecond
        h_last = torch.from_numpy(hseq[0])
        y = torch.from_numpy(hseq[0, :, None, :motor])
    else:
        h_last = torch.from_numpy(np.ascontiguousarray(hseq[-1]))
        y = torch.from_numpy(np.ascontiguousarray(np.swapaxes(hseq[:, :, :motor], 0, 1)))
    return (y if fc is None else fc(y)), h_last


def _infer(cell: Any, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, resets: torch.Tensor | None) -> Any:
    # inputs arrive without gradient tracking (no_grad): .numpy() needs no detach
    x_np, ts_np = x.numpy(), ts.numpy()
    keep = None if resets is None else (~resets.numpy()).astype(np.float32)
    if isinstance(cell, (CfCCell, WiredCfCCell)):
        batch, steps = x_np.shape[0], x_np.shape[1]
        keep_tm = _constant((steps, batch), 1.0) if keep is None else _time_major(keep)
        return _cfc_infer(cell, x_np, h.numpy(), _time_major(ts_np), keep_tm)
    return _ltc_infer(cell, x_np, h.numpy(), ts_np, _constant(ts_np.shape, 1.0) if keep is None else keep)


def _ltc_infer(cell: Any, x_np: np.ndarray, h_np: np.ndarray, ts_np: np.ndarray, keep_np: np.ndarray) -> Any:
    """No-grad semi-implicit LTC on batch-first arrays; None for other solvers."""
    if cell.solver != "semi_implicit" or cell.w.dtype != torch.float32:
        return None
    states, outputs = inference.ltc_states(cell, x_np, h_np, ts_np, keep_np)
    return torch.from_numpy(outputs), torch.from_numpy(np.ascontiguousarray(states[:, -1]))


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
    if type(cell) not in (CfCCell, WiredCfCCell, LTCCell) or not available():
        return None
    if type(x) is not torch.Tensor or x.dim() != 3 or x.dtype != torch.float32 or not x.is_cpu or x.requires_grad:
        return None
    batch, steps, features = x.shape
    if batch == 0 or steps == 0 or features != cell.input_size:
        return None
    if hx is None:
        h_np = _constant((batch, cell.state_size), 0.0)
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
    if not _all_finite()(x_np, h_np):
        return None  # the validated path names the non-finite argument
    result: tuple[torch.Tensor, torch.Tensor] | None
    if type(cell) is LTCCell:
        result = _ltc_infer(cell, x_np, h_np, _constant((batch, steps), timespan), _constant((batch, steps), 1.0))
    else:
        result = _cfc_infer(cell, x_np, h_np, _constant((steps, batch), timespan), _constant((steps, batch), 1.0))
    return result


@lru_cache(maxsize=32)
def _constant(shape: tuple[int, ...], value: float) -> np.ndarray:
    """A float32 array filled with ``value``, shared between calls: the kernels only read it
    (and a read-only flag would make numba compile them once more for that type)."""
    return np.full(shape, value, np.float32)


@lru_cache(maxsize=1)
def _all_finite() -> Any:
    from ._checks import all_finite

    return all_finite


@lru_cache(maxsize=1)
def _stack_forward() -> Any:
    from ._cfc_kernels import cfc_stack_forward

    return cfc_stack_forward


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
    if not available() or not isinstance(cell, (CfCCell, WiredCfCCell, LTCCell, CTRNNCell)):
        return None
    if not x.is_cpu or x.dtype != torch.float32 or h.dtype != torch.float32 or ts.dtype != torch.float32:
        return None
    if not torch.is_grad_enabled() and not isinstance(cell, CTRNNCell):
        return _infer(cell, x, h, ts, resets)
    keep = torch.ones_like(ts) if resets is None else (~resets).to(ts.dtype)
    if ts.requires_grad:
        return None
    if isinstance(cell, (CfCCell, WiredCfCCell)):
        return _unroll_cfc(cell, x, h, ts, keep)  # checks the parameters it reads itself
    if not _float32_cpu(cell.parameters()):
        return None
    if isinstance(cell, CTRNNCell):
        return _unroll_ctrnn(cell, x, h, ts, keep)
    return _unroll_ltc(cell, x, h, ts, keep)
