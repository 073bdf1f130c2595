"""An LTC cell's parameters as the kernels read them, packed by one function for both paths.

Synapses are lists of edges ``src -> dst`` (over the wiring's edges, or over all pairs for the
dense computation) with per-edge ``(mu, sigma, w, w * erev)``, where ``w = positive(w) * mask``.
The training path packs with torch operations under autograd and the cell's own
``positive`` (softplus); the no-grad path packs once per parameter change, with ``positive``
computed by the compiled :func:`~ncp_control.fast.ltc.kernels.positive`, straight from the
parameters' storage (its last bits differ from torch's softplus for about one value in five;
rollouts keep the numbers of the compiled one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import torch

from ncp_control.cells.ltc_cell import LTCCell

#: compute synapses over the wiring's edges when they are fewer than this share of all pairs
SPARSE_BELOW_DENSITY = 1.0


class LTCParams(NamedTuple):
    """The kernels' parameter inputs (float32 unless said otherwise)."""

    #: ``positive(cm)`` ``[N]``
    cm: torch.Tensor
    #: ``positive(gleak)`` ``[N]``
    gleak: torch.Tensor
    #: ``vleak`` ``[N]``
    vleak: torch.Tensor
    #: sensory edges, int32 ``[2, Es]`` (src indexes inputs, dst neurons)
    s_idx: torch.Tensor
    #: their ``(mu, sigma, w, w * erev)`` ``[4, Es]``
    s_par: torch.Tensor
    #: neuron-to-neuron edges, int32 ``[2, E]``
    r_idx: torch.Tensor
    #: their ``(mu, sigma, w, w * erev)`` ``[4, E]``
    r_par: torch.Tensor


def use_sparse(cell: LTCCell, sparse: bool | None = None) -> bool:
    """:param cell: the cell
    :param sparse: the caller's choice, or None for the default
    :return: whether synapses are computed over the wiring's edges (default: when they are
        fewer than :data:`SPARSE_BELOW_DENSITY` of all pairs) rather than over all pairs"""
    return float(cell.sparsity_mask.mean()) < SPARSE_BELOW_DENSITY if sparse is None else sparse


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


class Edges(NamedTuple):
    """A synapse list as the kernels (``idx``) and the packing's gathers (``src``, ``dst``)
    read it."""

    #: int32 ``[2, E]``: ``(src, dst)``
    idx: torch.Tensor
    #: int64 ``[E]``
    src: torch.Tensor
    #: int64 ``[E]``
    dst: torch.Tensor


_EDGE_CACHE: dict[tuple[Any, ...], tuple[np.ndarray, Edges]] = {}


def cached_edges(mask: torch.Tensor, sparse: bool) -> Edges:
    """:func:`edges`, remembered per mask (validated by content).

    :param mask: the sparsity mask ``[S, N]``
    :param sparse: see :func:`edges`
    :return: the edges (shared between calls: never write to them)
    """
    values = mask.detach().numpy()
    key = (mask.data_ptr(), tuple(mask.shape), sparse)
    hit = _EDGE_CACHE.get(key)
    if hit is not None and np.array_equal(hit[0], values):
        return hit[1]
    src, dst = edges(mask.detach(), sparse)
    if len(_EDGE_CACHE) > 64:
        _EDGE_CACHE.clear()
    entry = (values.copy(), Edges(torch.stack([src, dst]).to(torch.int32), src, dst))
    _EDGE_CACHE[key] = entry
    return entry[1]


def _edge_params(
    e: Edges, mu: torch.Tensor, sigma: torch.Tensor, w: torch.Tensor, wr: torch.Tensor
) -> torch.Tensor:
    """``(mu, sigma, w, wr)`` of each edge ``[4, E]``."""
    src, dst = e.src, e.dst
    return torch.stack([mu[src, dst], sigma[src, dst], w[src, dst], wr[src, dst]])


def pack(cell: LTCCell, sparse: bool, positive: Callable[[torch.Tensor], torch.Tensor]) -> LTCParams:
    """The kernels' parameter inputs (differentiable where ``positive`` is).

    :param cell: the cell
    :param sparse: over the wiring's edges (else all pairs; see :func:`use_sparse`)
    :param positive: the cell's constraint on ``w``, ``sensory_w``, ``cm`` and ``gleak``
        (``cell.positive`` for the training path)
    :return: the packed parameters
    """
    mask, smask = cell.sparsity_mask, cell.sensory_sparsity_mask
    r_edges, s_edges = cached_edges(mask, sparse), cached_edges(smask, sparse)
    w = positive(cell.w) * mask
    sw = positive(cell.sensory_w) * smask
    return LTCParams(
        cm=positive(cell.cm),
        gleak=positive(cell.gleak),
        vleak=cell.vleak,
        s_idx=s_edges.idx,
        s_par=_edge_params(s_edges, cell.sensory_mu, cell.sensory_sigma, sw, sw * cell.sensory_erev),
        r_idx=r_edges.idx,
        r_par=_edge_params(r_edges, cell.mu, cell.sigma, w, w * cell.erev),
    )
