# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Compiled semi-implicit LTC solver over a whole sequence, forward and backward.

Synapses are lists of edges ``src -> dst`` with per-edge parameters (``mu``, ``sigma``,
``w`` = positive(w) * mask and ``wr`` = w * erev), so a sparse wiring costs its number of
synapses, not ``N * N``; a dense computation is the same kernel over all pairs.
Layout: neuron-major, batch innermost (``[N, B]``) so that every edge's work vectorises
over the batch. Arithmetic follows ``ncp_control.cells.LTCCell`` (semi-implicit solver):
``cm_t = cm / max(dt / U, MIN_STEP)``, ``v' = (cm_t v + gleak vleak + num_s + num(v)) /
(cm_t + gleak + den_s + eps + den(v))``. Only the state entering each unfold and its
denominator are stored for the backward pass (``2 T U N B`` floats).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ncp_control.fast.kernel_math import FASTMATH, JIT, copy_into, fill, fsigmoid, fsigmoid_strict

#: like JIT, but reductions over the batch may be re-associated (vectorised sums); code
#: compiled with it calls ``fsigmoid_strict``, never the numba-inlined exp helpers
JIT_REDUCE = dict(JIT, fastmath=FASTMATH | {"reassoc"})


#: below this batch size the synapse sigmoids are computed in one pass over all edges
#: (vectorised over edges) instead of edge by edge over the batch
STAGED_BELOW_BATCH = 8


@numba.njit(**JIT)
def _synapses(v, idx, par, num, den, z):  # type: ignore[no-untyped-def]
    """``num[dst] += wr * s``, ``den[dst] += w * s`` with ``s = sigmoid(sigma (v[src] - mu))``.

    ``idx [2, E]`` holds ``(src, dst)``, ``par [4, E]`` holds ``(mu, sigma, w, wr)``; ``z``
    is scratch of at least ``E * B`` floats, used below ``STAGED_BELOW_BATCH``.
    """
    B = v.shape[1]
    E = idx.shape[1]
    if B >= STAGED_BELOW_BATCH:
        for e in range(E):
            i, j = idx[0, e], idx[1, e]
            m, sg, we, wre = par[0, e], par[1, e], par[2, e], par[3, e]
            for b in range(B):
                s = fsigmoid(sg * (v[i, b] - m))
                num[j, b] += wre * s
                den[j, b] += we * s
        return
    for e in range(E):
        i, m, sg = idx[0, e], par[0, e], par[1, e]
        for b in range(B):
            z[e * B + b] = sg * (v[i, b] - m)
    for k in range(E * B):
        z[k] = fsigmoid(z[k])
    for e in range(E):
        j, we, wre = idx[1, e], par[2, e], par[3, e]
        for b in range(B):
            s = z[e * B + b]
            num[j, b] += wre * s
            den[j, b] += we * s


@numba.njit(**JIT_REDUCE)
def _synapses_backward(v, idx, par, dnum, dden, dv, dpar):  # type: ignore[no-untyped-def]
    """Gradients of :func:`_synapses` given ``dnum``/``dden`` ``[N, B]``; accumulates into
    ``dv`` and ``dpar [4, E]``."""
    B = v.shape[1]
    one = np.float32(1.0)
    for e in range(idx.shape[1]):
        i, j = idx[0, e], idx[1, e]
        m, sg, we, wre = par[0, e], par[1, e], par[2, e], par[3, e]
        a_mu = np.float32(0.0)
        a_sg = np.float32(0.0)
        a_w = np.float32(0.0)
        a_wr = np.float32(0.0)
        for b in range(B):
            d = v[i, b] - m
            s = fsigmoid_strict(sg * d)
            gn = dnum[j, b]
            gd = dden[j, b]
            a_wr += s * gn
            a_w += s * gd
            dz = (wre * gn + we * gd) * s * (one - s)
            a_sg += dz * d
            a_mu -= dz * sg
            dv[i, b] += dz * sg
        dpar[0, e] += a_mu
        dpar[1, e] += a_sg
        dpar[2, e] += a_w
        dpar[3, e] += a_wr


@numba.njit(**JIT)
def ltc_forward(x, h0, ts, keep, cm, gleak, vleak, eps, unfolds, min_step, s_idx, s_par, r_idx, r_par, save):  # type: ignore[no-untyped-def]
    """Unroll over ``x [T, F, B]`` (mapped inputs) from ``h0 [N, B]``.

    :param s_idx: sensory edges ``[2, Es]`` (src indexes inputs, dst neurons)
    :param s_par: their ``(mu, sigma, w, wr)`` ``[4, Es]``
    :param r_idx: neuron-to-neuron edges ``[2, E]``
    :param r_par: their parameters ``[4, E]``
    :return: ``hseq [T, N, B]``, and when ``save`` the states entering each unfold
        ``vs [T, U, N, B]`` and their denominators ``ds [T, U, N, B]``
    """
    T = x.shape[0]
    N, B = h0.shape
    U = unfolds
    hseq = np.empty((T, N, B), np.float32)
    ns = T if save else 0
    vs = np.empty((ns, U, N, B), np.float32)
    ds = np.empty((ns, U, N, B), np.float32)
    v = h0.copy()
    leak = np.empty((N, B), np.float32)
    base = np.empty((N, B), np.float32)
    cmt = np.empty((N, B), np.float32)
    num = np.empty((N, B), np.float32)
    den = np.empty((N, B), np.float32)
    z = np.empty(max(s_idx.shape[1], r_idx.shape[1]) * B if B < STAGED_BELOW_BATCH else 0, np.float32)
    for t in range(T):
        fill(num, 0.0)
        fill(den, 0.0)
        _synapses(x[t], s_idx, s_par, num, den, z)
        for j in range(N):
            glv = gleak[j] * vleak[j]
            for b in range(B):
                step = max(ts[t, b] / np.float32(U), min_step)
                c = cm[j] / step
                cmt[j, b] = c
                leak[j, b] = glv + num[j, b]
                base[j, b] = c + gleak[j] + den[j, b] + eps
                v[j, b] *= keep[t, b]
        for k in range(U):
            fill(num, 0.0)
            fill(den, 0.0)
            _synapses(v, r_idx, r_par, num, den, z)
            for j in range(N):
                for b in range(B):
                    d = base[j, b] + den[j, b]
                    if save:
                        vs[t, k, j, b] = v[j, b]
                        ds[t, k, j, b] = d
                    v[j, b] = (cmt[j, b] * v[j, b] + leak[j, b] + num[j, b]) / d
        for j in range(N):
            for b in range(B):
                hseq[t, j, b] = v[j, b]
    return hseq, vs, ds


@numba.njit(**JIT_REDUCE)
def ltc_backward(
    dhseq, x, hseq, vs, ds, ts, keep, cm, gleak, vleak, unfolds, min_step, s_idx, s_par, r_idx, r_par
):  # type: ignore[no-untyped-def]
    """Backward pass of :func:`ltc_forward`.

    :return: ``dx [T, F, B]``, ``dh0 [N, B]``, ``dcm``, ``dgleak``, ``dvleak`` ``[N]``, and
        the gradients of ``s_par`` and ``r_par``.
    """
    T, F, _ = x.shape
    N, B = dhseq.shape[1], dhseq.shape[2]
    U = unfolds
    dx = np.zeros((T, F, B), np.float32)
    dcm = np.zeros(N, np.float32)
    dgl = np.zeros(N, np.float32)
    dvl = np.zeros(N, np.float32)
    es, er = s_idx.shape[1], r_idx.shape[1]
    gs = np.zeros((4, es), np.float32)
    gr = np.zeros((4, er), np.float32)
    g = np.zeros((N, B), np.float32)
    gnew = np.empty((N, B), np.float32)
    r = np.empty((N, B), np.float32)
    dd = np.empty((N, B), np.float32)
    dleak = np.empty((N, B), np.float32)
    dbase = np.empty((N, B), np.float32)
    dcmt = np.empty((N, B), np.float32)
    cmt = np.empty((N, B), np.float32)
    for t in range(T - 1, -1, -1):
        for j in range(N):
            for b in range(B):
                g[j, b] += dhseq[t, j, b]
                cmt[j, b] = cm[j] / max(ts[t, b] / np.float32(U), min_step)
        fill(dleak, 0.0)
        fill(dbase, 0.0)
        fill(dcmt, 0.0)
        for k in range(U - 1, -1, -1):
            v = vs[t, k]
            vn = hseq[t] if k == U - 1 else vs[t, k + 1]
            for j in range(N):
                for b in range(B):
                    rr = g[j, b] / ds[t, k, j, b]
                    r[j, b] = rr
                    dd[j, b] = -rr * vn[j, b]
                    dleak[j, b] += rr
                    dbase[j, b] -= rr * vn[j, b]
                    dcmt[j, b] += v[j, b] * rr
                    gnew[j, b] = cmt[j, b] * rr
            _synapses_backward(v, r_idx, r_par, r, dd, gnew, gr)
            copy_into(g, gnew)
        for j in range(N):
            a_cm = np.float32(0.0)
            a_gl = np.float32(0.0)
            a_vl = np.float32(0.0)
            for b in range(B):
                step = max(ts[t, b] / np.float32(U), min_step)
                a_cm += (dcmt[j, b] + dbase[j, b]) / step
                a_gl += dleak[j, b] * vleak[j] + dbase[j, b]
                a_vl += dleak[j, b] * gleak[j]
                g[j, b] *= keep[t, b]
            dcm[j] += a_cm
            dgl[j] += a_gl
            dvl[j] += a_vl
        _synapses_backward(x[t], s_idx, s_par, dleak, dbase, dx[t], gs)
    return dx, g, dcm, dgl, dvl, gs, gr


@numba.njit(**JIT)
def _positive(x, implicit):  # type: ignore[no-untyped-def]
    if not implicit:
        return x
    if x > 20.0:
        return x
    return np.float32(math.log1p(math.exp(x)))


@numba.njit(**JIT)
def positive(x, implicit):  # type: ignore[no-untyped-def]
    """softplus (torch's threshold 20) of a 1-D array, or a copy when not ``implicit``: the
    no-grad path's ``LTCCell.positive``, read straight from the parameters' storage."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = _positive(x[i], implicit)
    return out
