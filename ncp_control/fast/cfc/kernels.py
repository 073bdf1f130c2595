# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Compiled forward and backward passes of one CfC layer over a whole sequence.

Layout: time first, then batch, ``[T, B, ...]``, float32, C-contiguous. One layer is
ncps' ``CfCCell``: ``z = [u_t, h]``, optional one-layer backbone ``g = act(z W_bb^T + b)``,
heads ``q = g W_h^T + b_h`` (ff1, ff2, time_a, time_b; only ff1 in "pure" mode) and the
closed-form update. Weights arrive split into the input part ``WinT [I, G]`` and the
recurrent part ``WrecT [H, G]`` of the first linear map (backbone, or heads when there is
no backbone). Weight gradients are left to one large matmul each outside the loop.
"""

from __future__ import annotations

import numba
import numpy as np

from ncp_control.fast.blas import empty_aligned, gemm
from ncp_control.fast.kernel_math import (
    ACT_LECUN,
    ACT_TANH,
    INLINE,
    JIT,
    activation,
    activation_grad,
    copy_into,
    fexp,
    fill,
    fsigmoid,
    ftanh,
)

MODE_DEFAULT, MODE_NO_GATE, MODE_PURE = 0, 1, 2
MODE_CODES = {"default": MODE_DEFAULT, "no_gate": MODE_NO_GATE, "pure": MODE_PURE}

#: below this argument ``exp`` is 0 and a sigmoid 0 (``fexp`` clamps its input at -87, which
#: would leave them at about 1e-38: a huge timespan times that tiny derivative is not 0)
SATURATED_LOW = np.float32(-87.0)
#: above this argument a float32 sigmoid is 1 (``exp(-x) < 2**-25``); the fast-math division
#: would give ``1 - 2**-24`` there, and a huge timespan times ``s (1 - s)`` is then not 0
SATURATED_HIGH = np.float32(17.5)


@numba.njit(**INLINE)
def _decay(x):  # type: ignore[no-untyped-def]
    """``exp(x)`` for ``x <= 0``, exactly 0 below :data:`SATURATED_LOW` (as torch's is)."""
    return fexp(x) if x > SATURATED_LOW else np.float32(0.0)


@numba.njit(**INLINE)
def _gate(x):  # type: ignore[no-untyped-def]
    """``sigmoid(x)``, exactly 0 or 1 where it saturates, so that the gradient through a
    saturated time gate is 0 for any timespan, as the per-step loop's is."""
    s = fsigmoid(x) if x > SATURATED_LOW else np.float32(0.0)
    return s if x < SATURATED_HIGH else np.float32(1.0)


@numba.njit(**JIT)
def _heads(u_t, h, WinT, bin_, WrecT, WhT, bh, act, backbone, a, g, q):  # type: ignore[no-untyped-def]
    """Head pre-activations ``q`` of one step (``a``, ``g``: backbone pre/post-activation).

    ``act`` is None when no layer of the stack has a backbone: the backbone's code is then
    pruned before typing (it compiles only for stacks that use it)."""
    B, G = a.shape
    for b in range(B):
        for k in range(G):
            a[b, k] = bin_[k]
    gemm(u_t, WinT, a, 1.0, False, False)
    gemm(h, WrecT, a, 1.0, False, False)
    if act is not None:
        if backbone:
            activation(a, g, act)
            K = q.shape[1]
            for b in range(B):
                for k in range(K):
                    q[b, k] = bh[k]
            gemm(g, WhT, q, 1.0, False, False)


@numba.njit(**JIT)
def _update(h, q, ts_t, A, wtau, mode, store):  # type: ignore[no-untyped-def]
    """The closed-form state update from the heads ``q``, in place.

    With ``store`` (not "pure" mode), ``q[:, :3H]`` is overwritten with ``tanh(ff1)``,
    ``tanh(ff2)`` and the time gate, which the backward pass then reads instead of
    recomputing them. Heads with ``3H`` columns (not "pure" mode) carry the time gate's
    pre-activation ``time_a * ts + time_b`` already merged (one timespan for the whole
    sequence), so ``ts_t`` is not read."""
    B, H = h.shape
    merged = q.shape[1] == 3 * H
    f1v = np.empty(H, np.float32)
    f2v = np.empty(H, np.float32)
    sv = np.empty(H, np.float32)
    for b in range(B):
        tb = ts_t[b]
        if mode == MODE_PURE:
            for k in range(H):
                f1 = q[b, k]
                e = _decay(-tb * (abs(wtau[k]) + abs(f1)))
                h[b, k] = -A[k] * e * f1 + A[k]
        else:
            for k in range(H):  # transcendental part alone, so that it vectorises
                f1v[k] = ftanh(q[b, k])
                f2v[k] = ftanh(q[b, H + k])
            if merged:
                for k in range(H):
                    sv[k] = _gate(q[b, 2 * H + k])
            else:
                for k in range(H):
                    sv[k] = _gate(q[b, 2 * H + k] * tb + q[b, 3 * H + k])
            if store:
                for k in range(H):
                    q[b, k] = f1v[k]
                    q[b, H + k] = f2v[k]
                    q[b, 2 * H + k] = sv[k]
            for k in range(H):
                if mode == MODE_NO_GATE:
                    h[b, k] = f1v[k] + sv[k] * f2v[k]
                else:
                    h[b, k] = f1v[k] * (np.float32(1.0) - sv[k]) + sv[k] * f2v[k]


@numba.njit(**JIT)
def _reset(h, keep_t):  # type: ignore[no-untyped-def]
    B, H = h.shape
    for b in range(B):
        kb = keep_t[b]
        for k in range(H):
            h[b, k] *= kb


@numba.njit(**JIT)
def cfc_forward(u, h0, ts, keep, WinT, bin_, WrecT, A, wtau, mode, save, hseq, hprev_s, q_s, pre, backbone):  # type: ignore[no-untyped-def]
    """Run the layer over ``u [T, B, I]`` from ``h0 [B, H]``.

    ``ts``/``keep`` are ``[T, B]`` (elapsed time; 0 where the state is reset before the step).
    When the first linear map's output is kept (``pre`` of ``T`` steps), its input part is
    one matrix product over all ``T * B`` rows before the loop, which keeps only the
    recurrent product (and the heads after a backbone) inside it; otherwise (a ``[1, B, G]``
    work block: a backbone whose pre-activation the backward pass does not read) each step
    computes its own into the block, which stays in cache. Both give the same numbers.
    ``backbone`` is None (the first linear map gives the heads) or ``(WhT, bh, act, g_s)``:
    the heads' weights and bias after a one-layer backbone with activation code ``act``, and
    where to save its output (``[T, B, G]``). None prunes the backbone's code before typing,
    so that cells without one never compile it.
    Writes ``hseq [T, B, H]`` and, when ``save``, the inputs of the backward pass:
    ``hprev_s [T, B, H]`` (state entering each step) and ``q_s [T, B, K]`` (head
    pre-activations; in modes other than "pure" its first ``3H`` columns hold ``tanh(ff1)``,
    ``tanh(ff2)`` and the time gate). ``pre`` receives the first linear map's output (the
    backbone's pre-activation): ``[T, B, G]`` to keep it (``q_s`` without backbone, when
    saving), or a ``[1, B, G]`` work block. Without ``save`` the saved arrays may have a
    leading size of 0.
    """
    T, B, n_in = u.shape
    G = WinT.shape[1]
    whole = pre.shape[0] == T  # input products of all steps at once, else step by step
    if whole:
        for r in range(T):
            for b in range(B):
                for k in range(G):
                    pre[r, b, k] = bin_[k]
        gemm(u.reshape((T * B, n_in)), WinT, pre.reshape((T * B, G)), 1.0, False, False)
    h = empty_aligned(B, h0.shape[1])
    copy_into(h, h0)
    if backbone is not None:  # work blocks for the backbone output and heads when not saving
        g_work = empty_aligned(0 if save else B, G)
        q_work = empty_aligned(0 if save else B, backbone[0].shape[1])
    for t in range(T):
        _reset(h, keep[t])
        if save:
            copy_into(hprev_s[t], h)
        q = pre[t] if whole else pre[0]
        if not whole:
            for b in range(B):
                for k in range(G):
                    q[b, k] = bin_[k]
            gemm(u[t], WinT, q, 1.0, False, False)
        gemm(h, WrecT, q, 1.0, False, False)
        if backbone is not None:
            WhT, bh, act, g_s = backbone
            K = WhT.shape[1]
            a = q
            g = g_s[t] if save else g_work
            q = q_s[t] if save else q_work
            activation(a, g, act)
            for b in range(B):
                for k in range(K):
                    q[b, k] = bh[k]
            gemm(g, WhT, q, 1.0, False, False)
        _update(h, q, ts[t], A, wtau, mode, save)
        copy_into(hseq[t], h)


#: columns of the layer table of :func:`cfc_stack_forward`
META_H, META_I, META_G, META_K, META_BACKBONE, META_STATE = 0, 1, 2, 3, 4, 5
META_WIN, META_WREC, META_BIN, META_WH, META_BH, META_A, META_WTAU = 6, 7, 8, 9, 10, 11, 12


@numba.njit(inline="always", **JIT)
def _view(flat, meta, col, rows, cols):  # type: ignore[no-untyped-def]
    o = meta[col]
    return flat[o : o + rows * cols].reshape((rows, cols))


@numba.njit(**JIT)
def cfc_stack_forward(x, h0, ts, keep, meta, flat, mode, act):  # type: ignore[no-untyped-def]
    """Stacked layers (layer ``l`` reads layer ``l-1``'s new state) without saving anything.

    ``act`` is the backbones' activation code, or None when no layer has a backbone (which
    leaves the backbone's code out of the compiled kernel).

    :param x: inputs ``[T, B, F]``
    :param h0: initial state ``[B, S]``; layer ``l`` owns columns ``meta[l, META_STATE]`` on
    :param meta: int64 ``[L, 13]`` table of sizes and offsets into ``flat``
    :param flat: every layer's packed weights, float32
    :return: ``hseq [T, B, S]``
    """
    T, B, _ = x.shape
    L = meta.shape[0]
    S = h0.shape[1]
    hseq = np.empty((T, B, S), np.float32)
    store = L < 0  # False, typed like the training kernels' flag (one compiled _update)
    hs = []
    for layer in range(L):
        m = meta[layer]
        h = empty_aligned(B, m[META_H])
        for b in range(B):
            for k in range(m[META_H]):
                h[b, k] = h0[b, m[META_STATE] + k]
        hs.append(h)
    for t in range(T):
        u = x[t]
        for layer in range(L):
            m = meta[layer]
            H, n_in, G, K, backbone = m[META_H], m[META_I], m[META_G], m[META_K], m[META_BACKBONE] != 0
            h = hs[layer]
            _reset(h, keep[t])
            a = empty_aligned(B, G)
            g = empty_aligned(B, G)
            q = empty_aligned(B, K) if backbone else a
            _heads(
                u,
                h,
                _view(flat, m, META_WIN, n_in, G),
                flat[m[META_BIN] : m[META_BIN] + G],
                _view(flat, m, META_WREC, H, G),
                _view(flat, m, META_WH, G if backbone else 0, K if backbone else 0),
                flat[m[META_BH] : m[META_BH] + K],
                act,
                backbone,
                a,
                g,
                q,
            )
            _update(h, q, ts[t], flat[m[META_A] : m[META_A] + H], flat[m[META_WTAU] : m[META_WTAU] + H], mode, store)
            for b in range(B):
                for k in range(H):
                    hseq[t, b, m[META_STATE] + k] = h[b, k]
            u = h
    return hseq


@numba.njit(**JIT)
def _activation_grad_saved(a, g, grad, code):  # type: ignore[no-untyped-def]
    """``grad *= act'(a)``, from the saved output ``g = act(a)`` where that is exact enough
    (the tanh family: no transcendental), else from ``a``."""
    rows, cols = a.shape
    if code == ACT_LECUN:
        c = np.float32(1.0 / 1.7159)
        for i in range(rows):
            for j in range(cols):
                th = g[i, j] * c
                grad[i, j] *= np.float32(1.7159 * 0.666) * (np.float32(1.0) - th * th)
    elif code == ACT_TANH:
        for i in range(rows):
            for j in range(cols):
                grad[i, j] *= np.float32(1.0) - g[i, j] * g[i, j]
    else:
        activation_grad(a, grad, code)


@numba.njit(**JIT)
def _add_rows(m, acc):  # type: ignore[no-untyped-def]
    """``acc += m.sum(0)``."""
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            acc[j] += m[i, j]


@numba.njit(**JIT)
def cfc_backward(dhseq, ts, keep, q_s, Wrec, rec_trans, A, wtau, mode, dP, backbone):  # type: ignore[no-untyped-def]
    """Backward pass of ``cfc_forward``.

    ``(Wrec, rec_trans)`` is the recurrent weight ``WrecT`` passed to ``cfc_forward`` as
    :func:`~ncp_control.fast.arrays.backward_operand` gives it; ``q_s`` as the forward pass saved it;
    ``backbone`` is None or ``(Wh, h_trans, act, a_s, g_s)``: the heads' weight ``WhT`` the
    same way, the activation code and the saved backbone pre- and post-activation. Writes
    ``dP [T, B, G]`` (gradient of the first linear map's output) and, after a backbone, the
    heads' output gradient over ``q_s`` (each step reads its gates before it writes them;
    the lines are then in cache); returns ``dh0 [B, H]``, ``dA [H]`` and ``dwtau [H]`` (pure
    mode), and the bias gradients ``dP`` and the heads' summed over steps and samples
    (``[G]``, ``[K]``, empty without backbone; summed here while they are in cache).
    """
    T, B, H = dhseq.shape
    db_first = np.zeros(dP.shape[2], np.float32)
    db_head = np.zeros(q_s.shape[2] if backbone is not None else 0, np.float32)
    merged = mode != MODE_PURE and q_s.shape[2] == 3 * H  # see _update
    dA = np.zeros(H, np.float32)
    dwtau = np.zeros(H, np.float32)
    dh = empty_aligned(B, H)
    fill(dh, np.float32(0.0))
    one = np.float32(1.0)
    for t in range(T - 1, -1, -1):
        q = q_s[t]
        dq = q if backbone is not None else dP[t]  # written in place, no copies
        for b in range(B):
            tb = ts[t, b]
            if mode == MODE_PURE:
                for k in range(H):
                    d = dhseq[t, b, k] + dh[b, k]
                    f1 = q[b, k]
                    e = _decay(-tb * (abs(wtau[k]) + abs(f1)))
                    et = e * tb  # 0 where e is: a huge timespan never meets a 0 in a product
                    dA[k] += d * (one - e * f1)
                    dq[b, k] = -A[k] * (e - et * abs(f1)) * d
                    dwtau[k] += A[k] * et * f1 * np.sign(wtau[k]) * d
            else:
                for k in range(H):  # q holds the gates saved by the forward pass
                    d = dhseq[t, b, k] + dh[b, k]
                    f1, f2, s = q[b, k], q[b, H + k], q[b, 2 * H + k]
                    if mode == MODE_NO_GATE:
                        df1 = d
                        ds = d * f2
                    else:
                        df1 = d * (one - s)
                        ds = d * (f2 - f1)
                    dq[b, k] = df1 * (one - f1 * f1)
                    dq[b, H + k] = d * s * (one - f2 * f2)
                    dz = ds * s * (one - s)
                    if merged:
                        dq[b, 2 * H + k] = dz
                    else:
                        dq[b, 2 * H + k] = dz * tb
                        dq[b, 3 * H + k] = dz
        if backbone is not None:
            Wh, h_trans, act, a_s, g_s = backbone
            dg = dP[t]
            gemm(dq, Wh, dg, 0.0, False, h_trans)
            _activation_grad_saved(a_s[t], g_s[t], dg, act)
            _add_rows(dq, db_head)
        _add_rows(dP[t], db_first)
        gemm(dP[t], Wrec, dh, 0.0, False, rec_trans)
        for b in range(B):
            kb = keep[t, b]
            for k in range(H):
                dh[b, k] *= kb
    return dh, dA, dwtau, db_first, db_head
