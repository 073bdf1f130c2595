"""The LTC training path: the semi-implicit solver over a whole sequence through the compiled
kernels, with autograd (also taken with autograd on but nothing to differentiate, without
saving)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ncp_control.cells.ltc_cell import MIN_STEP, LTCCell
from ncp_control.fast.arrays import as_numpy
from ncp_control.fast.autograd import first_derivative_only
from ncp_control.fast.ltc.params import pack, use_sparse
from ncp_control.fast.ltc.support import supports


def _kernels() -> Any:
    from ncp_control.fast.ltc import kernels

    return kernels


class _LTCFunction(torch.autograd.Function):
    """The semi-implicit solver over the sequence; inputs as ``ltc_forward`` takes them
    (time-major, neuron-major state, packed parameters), gradients for the mapped inputs,
    initial state, ``cm``, ``gleak``, ``vleak`` and both edge parameter lists."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        h0: torch.Tensor,
        ts: torch.Tensor,
        keep: torch.Tensor,
        cm: torch.Tensor,
        gleak: torch.Tensor,
        vleak: torch.Tensor,
        s_idx: torch.Tensor,
        s_par: torch.Tensor,
        r_idx: torch.Tensor,
        r_par: torch.Tensor,
        eps: np.float32,
        unfolds: int,
        min_step: np.float32,
    ) -> torch.Tensor:
        tensors = (x, h0, ts, keep, cm, gleak, vleak)
        edges_ = (s_idx, s_par, r_idx, r_par)
        hseq, vs, ds = _kernels().ltc_forward(
            *(as_numpy(t) for t in tensors), eps, unfolds, min_step, *(as_numpy(t) for t in edges_), True
        )
        hseq_t = torch.from_numpy(hseq)
        ctx.save_for_backward(
            x, ts, keep, cm, gleak, vleak, hseq_t, torch.from_numpy(vs), torch.from_numpy(ds), *edges_
        )
        ctx.consts = (unfolds, min_step)
        return hseq_t

    @staticmethod
    @first_derivative_only
    def backward(ctx: Any, dhseq: torch.Tensor) -> Any:  # type: ignore[override]
        x, ts, keep, cm, gleak, vleak, hseq, vs, ds, s_idx, s_par, r_idx, r_par = ctx.saved_tensors
        unfolds, min_step = ctx.consts
        dx, dh0, dcm, dgl, dvl, gs, gr = _kernels().ltc_backward(
            *(as_numpy(t) for t in (dhseq, x, hseq, vs, ds, ts, keep, cm, gleak, vleak)),
            unfolds,
            min_step,
            *(as_numpy(t) for t in (s_idx, s_par, r_idx, r_par)),
        )
        grads = [torch.from_numpy(a) for a in (dx, dh0, dcm, dgl, dvl, gs, gr)]
        dx_, dh0_, dcm_, dgl_, dvl_, gs_, gr_ = grads
        return dx_, dh0_, None, None, dcm_, dgl_, dvl_, None, gs_, None, gr_, None, None, None


def ltc_semi_implicit_sequence(
    cell: LTCCell,
    x: torch.Tensor,
    h0: torch.Tensor,
    ts: torch.Tensor,
    keep: torch.Tensor,
    sparse: bool | None = None,
) -> torch.Tensor:
    """Unroll an :class:`~ncp_control.cells.LTCCell` (semi-implicit solver) over a sequence.

    :param cell: the LTC cell (its parameters, masks, unfolds and epsilon are used)
    :param x: raw inputs ``[B, T, F]`` (float32)
    :param h0: initial state ``[B, N]``
    :param ts: elapsed times ``[B, T]``
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0
    :param sparse: compute over the wiring's edges (default: when they are fewer than
        :data:`~ncp_control.fast.ltc.params.SPARSE_BELOW_DENSITY` of all pairs)
    :return: the state after every step ``[B, T, N]``
    """
    params = pack(cell, use_sparse(cell, sparse), cell.positive)
    tensors = (
        cell.map_inputs(x).permute(1, 2, 0).contiguous(),
        h0.t().contiguous(),
        ts.t().contiguous(),
        keep.t().contiguous(),
        params.cm.contiguous(),
        params.gleak.contiguous(),
        params.vleak.contiguous(),
    )
    edges = (params.s_idx, params.s_par, params.r_idx, params.r_par)
    eps, min_step = np.float32(cell.epsilon), np.float32(MIN_STEP)
    if torch.is_grad_enabled() and any(t.requires_grad for t in (*tensors, params.s_par, params.r_par)):
        hseq: torch.Tensor = _LTCFunction.apply(*tensors, *edges, eps, cell.ode_unfolds, min_step)
    else:
        arrays = [as_numpy(t) for t in tensors]
        edge_arrays = [as_numpy(t) for t in edges]
        hseq = torch.from_numpy(
            _kernels().ltc_forward(*arrays, eps, cell.ode_unfolds, min_step, *edge_arrays, False)[0]
        )
    return hseq.permute(2, 0, 1)


def unroll(
    cell: LTCCell, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Run an LTC cell over a sequence (outputs and gradients those of the per-step loop).

    :param cell: the cell
    :param x: inputs ``[B, T, F]`` (float32, CPU)
    :param h: initial state ``[B, N]``
    :param ts: elapsed times ``[B, T]`` (not requiring gradients)
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0
    :return: ``(y [B, T, M], h_last [B, N])``, or None where
        :func:`~ncp_control.fast.ltc.support.supports` declines
    """
    if not supports(cell):
        return None
    hseq = ltc_semi_implicit_sequence(cell, x, h, ts, keep)
    batch, steps, units = hseq.shape
    y = cell.map_outputs(hseq.reshape(batch * steps, units)).reshape(batch, steps, -1)
    return y, hseq[:, -1]
