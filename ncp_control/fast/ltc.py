"""The LTC cell's semi-implicit solver over a whole sequence through the compiled kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._autograd import first_derivative_only
from ._numpy import as_numpy

#: compute synapses over the wiring's edges when they are fewer than this share of all pairs
SPARSE_BELOW_DENSITY = 1.0


def _kernels() -> Any:
    from . import _ltc_kernels

    return _ltc_kernels


def edges(mask: torch.Tensor, sparse: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Synapse list of a ``[S, N]`` 0/1 mask.

    :param mask: the sparsity mask (rows: sources, columns: targets)
    :param sparse: only the nonzero entries (else every pair, the dense computation)
    :return: ``(src, dst)`` int64 ``[E]``, ordered by source
    """
    if sparse:
        src, dst = torch.nonzero(mask, as_tuple=True)
        return src, dst
    rows, cols = mask.shape
    return torch.arange(rows).repeat_interleave(cols), torch.arange(cols).repeat(rows)


class _LTCFunction(torch.autograd.Function):
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


def _edge_params(
    mask: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, w: torch.Tensor, wr: torch.Tensor, sparse: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    src, dst = edges(mask, sparse)
    idx = torch.stack([src, dst]).to(torch.int32)
    return idx, torch.stack([mu[src, dst], sigma[src, dst], w[src, dst], wr[src, dst]])


def ltc_semi_implicit_sequence(
    cell: Any,
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
        :data:`SPARSE_BELOW_DENSITY` of all pairs)
    :return: the state after every step ``[B, T, N]``
    """
    from ncp_control.cells.ltc_cell import MIN_STEP

    mask, smask = cell.sparsity_mask, cell.sensory_sparsity_mask
    if sparse is None:
        sparse = float(mask.mean()) < SPARSE_BELOW_DENSITY
    w_masked, w_erev = cell.weights()
    r_idx, r_par = _edge_params(mask, cell.mu, cell.sigma, w_masked, w_erev, sparse)
    sw = cell.positive(cell.sensory_w) * smask
    s_idx, s_par = _edge_params(
        smask, cell.sensory_mu, cell.sensory_sigma, sw, sw * cell.sensory_erev, sparse
    )
    tensors = (
        cell.map_inputs(x).permute(1, 2, 0).contiguous(),
        h0.t().contiguous(),
        ts.t().contiguous(),
        keep.t().contiguous(),
        cell.positive(cell.cm).contiguous(),
        cell.positive(cell.gleak).contiguous(),
        cell.vleak.contiguous(),
    )
    eps, min_step = np.float32(cell.epsilon), np.float32(MIN_STEP)
    if torch.is_grad_enabled() and any(t.requires_grad for t in (*tensors, s_par, r_par)):
        hseq: torch.Tensor = _LTCFunction.apply(
            *tensors, s_idx, s_par, r_idx, r_par, eps, cell.ode_unfolds, min_step
        )
    else:
        arrays = [as_numpy(t) for t in tensors]
        edge_arrays = [as_numpy(t) for t in (s_idx, s_par, r_idx, r_par)]
        hseq = torch.from_numpy(
            _kernels().ltc_forward(*arrays, eps, cell.ode_unfolds, min_step, *edge_arrays, False)[0]
        )
    return hseq.permute(2, 0, 1)


_EDGE_CACHE: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}


def cached_edges(mask: torch.Tensor, sparse: bool) -> np.ndarray:
    """:func:`edges` as an int32 ``[2, E]`` array ``(src, dst)``, remembered per mask
    (validated by content).

    :param mask: the sparsity mask ``[S, N]``
    :param sparse: see :func:`edges`
    :return: ``[2, E]``
    """
    values = mask.detach().numpy()
    key = (mask.data_ptr(), tuple(mask.shape), sparse)
    hit = _EDGE_CACHE.get(key)
    if hit is not None and np.array_equal(hit[0], values):
        return hit[1]
    src, dst = edges(mask.detach(), sparse)
    if len(_EDGE_CACHE) > 64:
        _EDGE_CACHE.clear()
    entry = (values.copy(), torch.stack([src, dst]).to(torch.int32).numpy())
    _EDGE_CACHE[key] = entry
    return entry[1]
