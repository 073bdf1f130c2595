"""The LTC cell's semi-implicit solver over a whole sequence through the compiled kernels."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

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
        *rest: Any,
    ) -> torch.Tensor:
        sens, rec, eps, unfolds, min_step = rest[:6], rest[6:12], rest[12], rest[13], rest[14]
        sens_np = tuple(as_numpy(t) for t in sens)
        rec_np = tuple(as_numpy(t) for t in rec)
        hseq, vs, ds = _kernels().ltc_forward(
            as_numpy(x),
            as_numpy(h0),
            as_numpy(ts),
            as_numpy(keep),
            as_numpy(cm),
            as_numpy(gleak),
            as_numpy(vleak),
            eps,
            unfolds,
            min_step,
            sens_np,
            rec_np,
            True,
        )
        hseq_t = torch.from_numpy(hseq)
        ctx.save_for_backward(
            x, ts, keep, cm, gleak, vleak, hseq_t, torch.from_numpy(vs), torch.from_numpy(ds), *sens, *rec
        )
        ctx.consts = (unfolds, min_step)
        return hseq_t

    @staticmethod
    def backward(ctx: Any, dhseq: torch.Tensor) -> Any:  # type: ignore[override]
        x, ts, keep, cm, gleak, vleak, hseq, vs, ds, *edges_ = ctx.saved_tensors
        unfolds, min_step = ctx.consts
        sens = tuple(as_numpy(t) for t in edges_[:6])
        rec = tuple(as_numpy(t) for t in edges_[6:])
        dx, dh0, dcm, dgl, dvl, gs, gr = _kernels().ltc_backward(
            as_numpy(dhseq),
            as_numpy(x),
            as_numpy(hseq),
            as_numpy(vs),
            as_numpy(ds),
            as_numpy(ts),
            as_numpy(keep),
            as_numpy(cm),
            as_numpy(gleak),
            as_numpy(vleak),
            unfolds,
            min_step,
            sens,
            rec,
        )
        gs_t, gr_t = torch.from_numpy(gs), torch.from_numpy(gr)
        return (
            torch.from_numpy(dx),
            torch.from_numpy(dh0),
            None,
            None,
            torch.from_numpy(dcm),
            torch.from_numpy(dgl),
            torch.from_numpy(dvl),
            None,
            None,
            gs_t[0],
            gs_t[1],
            gs_t[2],
            gs_t[3],
            None,
            None,
            gr_t[0],
            gr_t[1],
            gr_t[2],
            gr_t[3],
            None,
            None,
            None,
        )


def _edge_params(
    mask: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, w: torch.Tensor, wr: torch.Tensor, sparse: bool
) -> tuple[torch.Tensor, ...]:
    src, dst = edges(mask, sparse)
    return (
        src.to(torch.int32),
        dst.to(torch.int32),
        mu[src, dst],
        sigma[src, dst],
        w[src, dst],
        wr[src, dst],
    )


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
    rec = _edge_params(mask, cell.mu, cell.sigma, w_masked, w_erev, sparse)
    sw = cell.positive(cell.sensory_w) * smask
    sens = _edge_params(smask, cell.sensory_mu, cell.sensory_sigma, sw, sw * cell.sensory_erev, sparse)
    xm = cell.map_inputs(x).permute(1, 2, 0).contiguous()
    args = (
        xm,
        h0.t().contiguous(),
        ts.t().contiguous(),
        keep.t().contiguous(),
        cell.positive(cell.cm).contiguous(),
        cell.positive(cell.gleak).contiguous(),
        cell.vleak.contiguous(),
        *sens,
        *rec,
        cell.epsilon,
        cell.ode_unfolds,
    )
    eps, min_step = float(cell.epsilon), float(MIN_STEP)
    eps32, min32 = np.float32(eps), np.float32(min_step)
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        hseq: torch.Tensor = _LTCFunction.apply(*args[:-2], eps32, cell.ode_unfolds, min32)
    else:
        hseq = torch.from_numpy(
            _kernels().ltc_forward(
                as_numpy(args[0]),
                as_numpy(args[1]),
                as_numpy(args[2]),
                as_numpy(args[3]),
                as_numpy(args[4]),
                as_numpy(args[5]),
                as_numpy(args[6]),
                eps32,
                cell.ode_unfolds,
                min32,
                tuple(as_numpy(t) for t in sens),
                tuple(as_numpy(t) for t in rec),
                False,
            )[0]
        )
    return hseq.permute(2, 0, 1)


_EDGE_CACHE: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def cached_edges(mask: torch.Tensor, sparse: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`edges` as int32 numpy arrays, remembered per mask (validated by content).

    :param mask: the sparsity mask ``[S, N]``
    :param sparse: see :func:`edges`
    :return: ``(src, dst)``
    """
    values = mask.detach().numpy()
    key = (mask.data_ptr(), tuple(mask.shape), sparse)
    hit = _EDGE_CACHE.get(key)
    if hit is not None and np.array_equal(hit[0], values):
        return hit[1], hit[2]
    src, dst = edges(mask.detach(), sparse)
    if len(_EDGE_CACHE) > 64:
        _EDGE_CACHE.clear()
    entry = (values.copy(), src.to(torch.int32).numpy(), dst.to(torch.int32).numpy())
    _EDGE_CACHE[key] = entry
    return entry[1], entry[2]
