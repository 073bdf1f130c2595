"""The LTC no-grad path (control loops, rollouts): the packed parameters as numpy arrays, kept
per cell until a parameter changes (see :mod:`ncp_control.fast.inference`), and the compiled
solver without saving anything."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ncp_control.cells.ltc_cell import MIN_STEP, LTCCell
from ncp_control.fast.arrays import float32_cpu
from ncp_control.fast.inference import cached_plan, constant
from ncp_control.fast.ltc.params import pack, use_sparse
from ncp_control.fast.ltc.support import solver_supported

#: ``(input_w, input_b, output_w, output_b, cm, gleak, vleak, s_idx, s_par, r_idx, r_par)``,
#: the mappings None where the cell has none
LTCPlan = tuple[Any, ...]


def plan(cell: LTCCell) -> LTCPlan | None:
    """The kernel inputs of a cell's parameters as numpy arrays (copies: later changes of the
    parameters do not reach them).

    :param cell: the cell
    :return: the plan, or None unless every parameter is float32 on the CPU
    """
    from ncp_control.fast.ltc.kernels import positive as compiled_positive

    if not float32_cpu(cell.parameters()):
        return None
    implicit = cell.implicit_param_constraints

    def positive(t: torch.Tensor) -> torch.Tensor:
        values = t.detach().numpy()
        return torch.from_numpy(compiled_positive(values.reshape(-1), implicit).reshape(values.shape))

    with torch.no_grad():
        params = pack(cell, use_sparse(cell), positive)
    linear_in, linear_out = ("affine", "linear"), ("affine", "linear")
    return (
        cell.input_w.detach().numpy().copy() if cell.input_mapping in linear_in else None,
        cell.input_b.detach().numpy().copy() if cell.input_mapping == "affine" else None,
        cell.output_w.detach().numpy().copy() if cell.output_mapping in linear_out else None,
        cell.output_b.detach().numpy().copy() if cell.output_mapping == "affine" else None,
        params.cm.numpy(),
        params.gleak.numpy(),
        params.vleak.detach().numpy().copy(),
        *(t.numpy() for t in (params.s_idx, params.s_par, params.r_idx, params.r_par)),
    )


def ltc_states(
    cell: LTCCell, x: np.ndarray, h0: np.ndarray, ts: np.ndarray, keep: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The semi-implicit LTC without gradients (float32 arrays).

    :param cell: the cell (semi-implicit solver)
    :param x: raw inputs ``[B, T, F]``
    :param h0: ``[B, N]``
    :param ts: ``[B, T]``
    :param keep: ``[B, T]``
    :return: states ``[B, T, N]`` and mapped outputs ``[B, T, M]``, or None where the
        parameters are not float32 CPU tensors
    """
    from ncp_control.fast.ltc.kernels import ltc_forward

    packed = cached_plan(cell, lambda: plan(cell))
    if packed is None:
        return None
    in_w, in_b, out_w, out_b, cm, gleak, vleak, s_idx, s_par, r_idx, r_par = packed
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


def infer(
    cell: LTCCell, x: np.ndarray, h: np.ndarray, ts: np.ndarray | float, keep: np.ndarray | None
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Run an LTC cell over a sequence without autograd.

    :param cell: the cell
    :param x: inputs ``[B, T, F]`` (float32)
    :param h: initial state ``[B, N]``
    :param ts: elapsed times ``[B, T]``, or one timespan for every step and sample
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0; None
        for no resets
    :return: ``(y [B, T, M], h_last [B, N])``, or None where the cell is not supported
    """
    if not solver_supported(cell):
        return None
    shape = (x.shape[0], x.shape[1])
    result = ltc_states(
        cell,
        x,
        h,
        constant(shape, ts) if isinstance(ts, float) else ts,
        constant(shape, 1.0) if keep is None else keep,
    )
    if result is None:
        return None
    states, outputs = result
    return torch.from_numpy(outputs), torch.from_numpy(np.ascontiguousarray(states[:, -1]))
