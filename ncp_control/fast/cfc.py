"""CfC layers over a whole sequence through the compiled kernels, with autograd.

A wired CfC is a stack of such layers (layer ``l`` reads layer ``l-1``'s new state at the
same step), so the stack runs layer by layer over the whole sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._buffers import buffer
from ._math import ACT_LECUN, ACT_TANH
from ._numpy import as_numpy


def _kernels() -> Any:
    from . import _cfc_kernels

    return _cfc_kernels


def _forward(
    u: torch.Tensor,
    h0: torch.Tensor,
    ts: torch.Tensor,
    keep: torch.Tensor,
    weights: tuple[torch.Tensor, ...],
    mode: int,
    act: int,
    backbone: bool,
    save: bool,
) -> tuple[np.ndarray, ...]:
    """Run ``cfc_forward`` into pooled arrays.

    :param weights: ``(w_in_t, b_in, w_rec_t, w_head_t, b_head, a_param, w_tau)``
    :return: ``(hseq, hprev, a_s, g_s, q_s)`` (the last four empty unless ``save``)
    """
    T, B, _ = u.shape
    H = h0.shape[1]
    G = weights[0].shape[1]
    K = weights[3].shape[1] if backbone else G
    ns = T if save else 0
    hseq = buffer((T, B, H))
    hprev = buffer((ns, B, H))
    # the backward pass takes the tanh family's derivative from the output alone
    keep_pre = backbone and act not in (ACT_LECUN, ACT_TANH)
    a_s = buffer((ns if keep_pre else 0, B, G))
    g_s = buffer((ns if backbone else 0, B, G))
    q_s = buffer((ns, B, K))
    pre = a_s if (save and keep_pre) else q_s if (save and not backbone) else buffer((1, B, G))
    w_in_t, b_in, w_rec_t, w_head_t, b_head, a_param, w_tau = (as_numpy(w) for w in weights)
    _kernels().cfc_forward(
        as_numpy(u),
        as_numpy(h0),
        as_numpy(ts),
        as_numpy(keep),
        w_in_t,
        b_in,
        w_rec_t,
        a_param,
        w_tau,
        mode,
        save,
        hseq,
        hprev,
        q_s,
        pre,
        (w_head_t, b_head, act, g_s) if backbone else None,
    )
    return hseq, hprev, a_s, g_s, q_s


class _CfCLayerFunction(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        u: torch.Tensor,
        h0: torch.Tensor,
        ts: torch.Tensor,
        keep: torch.Tensor,
        w_in_t: torch.Tensor,
        b_in: torch.Tensor,
        w_rec_t: torch.Tensor,
        w_head_t: torch.Tensor,
        b_head: torch.Tensor,
        a_param: torch.Tensor,
        w_tau: torch.Tensor,
        mode: int,
        act: int,
        backbone: bool,
    ) -> torch.Tensor:
        weights = (w_in_t, b_in, w_rec_t, w_head_t, b_head, a_param, w_tau)
        hseq, hprev, a_s, g_s, q_s = _forward(u, h0, ts, keep, weights, mode, act, backbone, True)
        saved = [torch.from_numpy(x) for x in (hprev, a_s, g_s, q_s)]
        ctx.save_for_backward(u, h0, ts, keep, *weights, *saved)
        ctx.flags = (mode, act, backbone)
        ctx.heads_overwritten = False
        return torch.from_numpy(hseq)

    @staticmethod
    def backward(ctx: Any, dhseq: torch.Tensor) -> Any:  # type: ignore[override]
        u, h0, ts, keep, *weights, hprev, a_s, g_s, q_s = ctx.saved_tensors
        w_in_t, _, w_rec_t, w_head_t, _, a_param, w_tau = weights
        mode, act, backbone = ctx.flags
        T, B, n_in = u.shape
        H = hprev.shape[2]
        dp = buffer((T, B, w_rec_t.shape[1]))
        if backbone:
            # the heads' gradient overwrites the saved gates step by step (they are read just
            # before, and the lines are then in cache); a second backward pass through the
            # same graph (retain_graph) recomputes them first
            if ctx.heads_overwritten:
                q_s = torch.from_numpy(_forward(u, h0, ts, keep, tuple(weights), mode, act, True, True)[4])
            ctx.heads_overwritten = True
        dq = as_numpy(q_s) if backbone else buffer((0, B, q_s.shape[2]))
        # a_s is empty for the tanh family, whose derivative the kernel reads from g_s alone
        a_or_g = a_s if a_s.shape[0] else g_s
        head = (as_numpy(w_head_t), act, as_numpy(a_or_g), as_numpy(g_s), dq) if backbone else None
        dh0, da, dwtau, db_first, db_head = _kernels().cfc_backward(
            as_numpy(dhseq),
            as_numpy(ts),
            as_numpy(keep),
            as_numpy(q_s),
            as_numpy(w_rec_t),
            as_numpy(a_param),
            as_numpy(w_tau),
            mode,
            dp,
            head,
        )
        dp2 = torch.from_numpy(dp).reshape(T * B, -1)
        need = ctx.needs_input_grad
        du = (dp2 @ w_in_t.t()).reshape(T, B, n_in) if need[0] else None
        d_w_in_t = u.reshape(T * B, n_in).t() @ dp2 if need[4] else None
        d_b_in = torch.from_numpy(db_first) if need[5] else None
        d_w_rec_t = hprev.reshape(T * B, H).t() @ dp2 if need[6] else None
        d_w_head_t = d_b_head = None
        if backbone:
            dq2 = torch.from_numpy(dq).reshape(T * B, -1)
            d_w_head_t = g_s.reshape(T * B, -1).t() @ dq2 if need[7] else None
            d_b_head = torch.from_numpy(db_head) if need[8] else None
        return (
            du,
            torch.from_numpy(dh0),
            None,
            None,
            d_w_in_t,
            d_b_in,
            d_w_rec_t,
            d_w_head_t,
            d_b_head,
            torch.from_numpy(da) if need[9] else None,
            torch.from_numpy(dwtau) if need[10] else None,
            None,
            None,
            None,
        )


_EMPTY = torch.empty(0)


def cfc_layer_sequence(
    u: torch.Tensor,
    h0: torch.Tensor,
    ts: torch.Tensor,
    keep: torch.Tensor,
    w_first: torch.Tensor,
    b_first: torch.Tensor,
    w_head: torch.Tensor | None,
    b_head: torch.Tensor | None,
    a_param: torch.Tensor | None,
    w_tau: torch.Tensor | None,
    mode: str,
    activation: str,
) -> torch.Tensor:
    """Unroll one CfC layer (ncps ``CfCCell`` arithmetic) over a sequence.

    :param u: layer input ``[T, B, I]`` (float32, CPU)
    :param h0: initial state ``[B, H]``
    :param ts: elapsed time per step and sample ``[T, B]``
    :param keep: ``[T, B]``, 0.0 where the state is zeroed before the step, else 1.0
    :param w_first: first linear map on ``[u, h]``: ``[G, I + H]`` (the backbone's, or the
        stacked heads ff1, ff2, time_a, time_b with any sparsity mask already applied; three
        heads ff1, ff2, ``ts * time_a + time_b`` when every timespan is that one ``ts``)
    :param b_first: its bias ``[G]``
    :param w_head: stacked heads ``[K, G]`` after a one-layer backbone (four or, merged, three
        heads as for ``w_first``), or None
    :param b_head: their bias ``[K]`` or None
    :param a_param: ``A`` ``[H]`` ("pure" mode) or None
    :param w_tau: ``w_tau`` ``[H]`` ("pure" mode) or None
    :param mode: "default", "no_gate" or "pure"
    :param activation: backbone activation name
    :return: the state after every step ``[T, B, H]``
    """
    from ._cfc_kernels import MODE_CODES
    from ._math import ACTIVATION_CODES

    n_in = u.shape[2]
    w_in_t = w_first[:, :n_in].t().contiguous()
    w_rec_t = w_first[:, n_in:].t().contiguous()
    backbone = w_head is not None
    w_head_t = w_head.t().contiguous() if w_head is not None else _EMPTY.reshape(0, 0)
    b_head_ = b_head if b_head is not None else _EMPTY
    a_ = a_param.reshape(-1) if a_param is not None else _EMPTY
    wt_ = w_tau.reshape(-1) if w_tau is not None else _EMPTY
    mode_c, act_c = MODE_CODES[mode], ACTIVATION_CODES[activation]
    tensors = (u, h0, w_in_t, b_first, w_rec_t, w_head_t, b_head_, a_, wt_)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        out: torch.Tensor = _CfCLayerFunction.apply(
            u, h0, ts, keep, w_in_t, b_first, w_rec_t, w_head_t, b_head_, a_, wt_, mode_c, act_c, backbone
        )
        return out
    weights = (w_in_t, b_first, w_rec_t, w_head_t, b_head_, a_, wt_)
    hseq = _forward(u, h0, ts, keep, weights, mode_c, act_c, backbone, False)[0]
    return torch.from_numpy(hseq)
