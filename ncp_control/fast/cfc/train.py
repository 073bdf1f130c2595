"""The CfC training path: each layer over a whole sequence through the compiled kernels, with
autograd (also taken with autograd on but nothing to differentiate, without saving).

A wired CfC is a stack of such layers (layer ``l`` reads layer ``l-1``'s new state at the
same step), so the stack runs layer by layer over the whole sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.fast.arrays import as_numpy, backward_operand
from ncp_control.fast.autograd import first_derivative_only
from ncp_control.fast.buffers import buffer
from ncp_control.fast.cfc.params import CfCLayout, layer_layout, layer_params, pack, unpack_grads
from ncp_control.fast.cfc.support import backbone_activation, layers, supports
from ncp_control.fast.kernel_math import ACT_LECUN, ACT_TANH, ACTIVATION_CODES


def _kernels() -> Any:
    from ncp_control.fast.cfc import kernels

    return kernels


def _forward(
    u: torch.Tensor,
    h0: torch.Tensor,
    ts: torch.Tensor,
    keep: torch.Tensor,
    weights: tuple[np.ndarray, ...],
    mode: int,
    act: int,
    backbone: bool,
    save: bool,
) -> tuple[np.ndarray, ...]:
    """Run ``cfc_forward`` into pooled arrays.

    :param weights: packed weights, as :func:`~ncp_control.fast.cfc.params.pack` returns them
    :return: ``(hseq, hprev, a_s, g_s, q_s)`` (the last four empty unless ``save``)
    """
    T, B, _ = u.shape
    H = h0.shape[1]
    w_in_t, b_in, w_rec_t, w_head_t, b_head, a_param, w_tau = weights
    G = w_in_t.shape[1]
    K = w_head_t.shape[1] if backbone else G
    ns = T if save else 0
    hseq = buffer((T, B, H))
    hprev = buffer((ns, B, H))
    # the backward pass takes the tanh family's derivative from the output alone
    keep_pre = backbone and act not in (ACT_LECUN, ACT_TANH)
    a_s = buffer((ns if keep_pre else 0, B, G))
    g_s = buffer((ns if backbone else 0, B, G))
    q_s = buffer((ns, B, K))
    pre = a_s if (save and keep_pre) else q_s if (save and not backbone) else buffer((1, B, G))
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
    """One layer over the sequence; inputs ``(u, h0, ts, keep, layout, codes, mask,
    *params)`` with the parameters in :func:`~ncp_control.fast.cfc.params.layer_params` order."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        u: torch.Tensor,
        h0: torch.Tensor,
        ts: torch.Tensor,
        keep: torch.Tensor,
        layout: CfCLayout,
        codes: tuple[int, int],
        mask: torch.Tensor | None,
        *params: torch.Tensor,
    ) -> torch.Tensor:
        weights = pack(layout, mask, list(params))
        hseq, hprev, a_s, g_s, q_s = _forward(u, h0, ts, keep, weights, *codes, layout.backbone, True)
        saved = [torch.from_numpy(x) for x in (hprev, a_s, g_s, q_s)]
        ctx.save_for_backward(u, h0, ts, keep, *saved)
        ctx.weights = weights  # copies: later changes of the parameters do not reach them
        ctx.layout, ctx.codes, ctx.mask = layout, codes, mask
        ctx.shapes = [p.shape for p in params]
        ctx.heads_overwritten = False
        return torch.from_numpy(hseq)

    @staticmethod
    @first_derivative_only
    def backward(ctx: Any, dhseq: torch.Tensor) -> Any:  # type: ignore[override]
        u, h0, ts, keep, hprev, a_s, g_s, q_s = ctx.saved_tensors
        w_in_t, _, w_rec_t, w_head_t, _, a_param, w_tau = ctx.weights
        (mode, act), layout = ctx.codes, ctx.layout
        backbone = layout.backbone
        T, B, n_in = u.shape
        H = hprev.shape[2]
        dp = buffer((T, B, w_rec_t.shape[1]))
        if backbone:
            # the heads' gradient overwrites the saved gates step by step (they are read just
            # before, and the lines are then in cache); a second backward pass through the
            # same graph (retain_graph) recomputes them first
            if ctx.heads_overwritten:
                q_s = torch.from_numpy(_forward(u, h0, ts, keep, ctx.weights, mode, act, True, True)[4])
            ctx.heads_overwritten = True
        # a_s is empty for the tanh family, whose derivative the kernel reads from g_s alone
        a_or_g = a_s if a_s.shape[0] else g_s
        head = (*backward_operand(w_head_t, B), act, as_numpy(a_or_g), as_numpy(g_s)) if backbone else None
        dh0, da, dwtau, db_first, db_head = _kernels().cfc_backward(
            as_numpy(dhseq),
            as_numpy(ts),
            as_numpy(keep),
            as_numpy(q_s),
            *backward_operand(w_rec_t, B),
            a_param,
            w_tau,
            mode,
            dp,
            head,
        )
        dp2 = torch.from_numpy(dp).reshape(T * B, -1)
        need = ctx.needs_input_grad
        du = (dp2 @ torch.from_numpy(w_in_t).t()).reshape(T, B, n_in) if need[0] else None
        param_grads: list[torch.Tensor | None] = [None] * len(ctx.shapes)
        if any(need[7:]):
            d_w_head_t = _EMPTY
            if backbone:
                d_w_head_t = g_s.reshape(T * B, -1).t() @ q_s.reshape(T * B, -1)  # q_s now holds dq
            grads = unpack_grads(
                layout,
                ctx.mask,
                ctx.shapes,
                u.reshape(T * B, n_in).t() @ dp2,
                hprev.reshape(T * B, H).t() @ dp2,
                torch.from_numpy(db_first),
                d_w_head_t,
                torch.from_numpy(db_head),
                torch.from_numpy(da),
                torch.from_numpy(dwtau),
            )
            param_grads = [g if n else None for g, n in zip(grads, need[7:])]
        return (du, torch.from_numpy(dh0), None, None, None, None, None, *param_grads)


_EMPTY = torch.empty(0)


def layer_sequence(
    u: torch.Tensor,
    h0: torch.Tensor,
    ts: torch.Tensor,
    keep: torch.Tensor,
    cell: CfCCell,
    params: list[torch.Tensor],
    timespan: float | None,
) -> torch.Tensor:
    """Unroll one CfC layer (ncps ``CfCCell`` arithmetic) over a sequence.

    :param u: layer input ``[T, B, I]`` (float32, CPU)
    :param h0: initial state ``[B, H]``
    :param ts: elapsed time per step and sample ``[T, B]``
    :param keep: ``[T, B]``, 0.0 where the state is zeroed before the step, else 1.0
    :param cell: the layer, a :class:`~ncp_control.cells.CfCCell` whose backbone (if any) has
        one layer with a supported activation (see
        :func:`~ncp_control.fast.cfc.support.supported_layer`)
    :param params: its parameters, ``layer_params(cell)`` (float32, CPU)
    :param timespan: the one timespan of every step and sample, if they share one: the time
        gate's two heads are then merged into ``timespan * time_a + time_b`` (a quarter fewer
        head products; the gradients still reach both)
    :return: the state after every step ``[T, B, H]``
    """
    layout = layer_layout(cell, timespan)
    backbone = layout.backbone
    act = backbone_activation(cell)
    assert act is not None, "unsupported layer (see supported_layer)"
    codes = (_kernels().MODE_CODES[cell.mode], ACTIVATION_CODES[act])
    if torch.is_grad_enabled() and (u.requires_grad or h0.requires_grad or any(p.requires_grad for p in params)):
        out: torch.Tensor = _CfCLayerFunction.apply(u, h0, ts, keep, layout, codes, cell.sparsity_mask, *params)
        return out
    weights = pack(layout, cell.sparsity_mask, params)
    return torch.from_numpy(_forward(u, h0, ts, keep, weights, *codes, backbone, False)[0])


def unroll(
    cell: CfCCell | WiredCfCCell, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Run an unwired or wired CfC cell over a sequence (outputs and gradients those of the
    per-step loop).

    :param cell: the cell
    :param x: inputs ``[B, T, F]`` (float32, CPU)
    :param h: initial state ``[B, S]``
    :param ts: elapsed times ``[B, T]`` (not requiring gradients)
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0
    :return: ``(y [B, T, M], h_last [B, S])``, or None where :func:`~.support.supports` declines
    """
    if not supports(cell):
        return None
    cells, _ = layers(cell)
    if isinstance(cell, CfCCell):
        hseq = _layer_states(cells, x, [h], ts, keep)[0].transpose(0, 1)
        y = hseq if cell.fc is None else cell.fc(hseq)
        return y, hseq[:, -1]
    hseq = cell.join_layers(_layer_states(cells, x, cell.split_layers(h), ts, keep), 2).transpose(0, 1)
    motor = hseq[:, :, : cell.motor_size]
    y = motor if cell.fc is None else cell.fc(motor)
    return y, hseq[:, -1]


def _layer_states(
    cells: list[CfCCell], x: torch.Tensor, h0s: list[torch.Tensor], ts: torch.Tensor, keep: torch.Tensor
) -> list[torch.Tensor]:
    """Each layer's states ``[T, B, H]`` (batch-first arguments as :func:`unroll` takes them,
    ``h0s`` one initial state per layer)."""
    params = [layer_params(c) for c in cells]
    first = ts.reshape(-1)[:1]
    timespan = float(first) if ts.numel() and bool((ts == first).all()) else None
    u = x.transpose(0, 1).contiguous()
    ts_t, keep_t = ts.t().contiguous(), keep.t().contiguous()
    states = []
    for cell, cell_params, h0 in zip(cells, params, h0s):
        u = layer_sequence(u, h0.contiguous(), ts_t, keep_t, cell, cell_params, timespan)
        states.append(u)
    return states
