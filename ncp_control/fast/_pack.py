# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Packing of raw cell parameters into kernel layouts (no-grad path).

Reading the parameters' own storage on every call keeps inference exact however the
parameters were changed, without a round of torch operations per call.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._math import JIT


def pack_cfc(heads_w, heads_b, mask, bb_w, bb_b, n_in):  # type: ignore[no-untyped-def]
    """Kernel weights of one CfC layer (numpy: a few copies, nothing to compile).

    :param heads_w: tuple of head weights ``[H, G0]`` (ff1, ff2, time_a, time_b; only ff1 when pure)
    :param heads_b: tuple of their biases ``[H]``
    :param mask: ``[H, I + H]`` mask for the first two heads, or an empty array
    :param bb_w: backbone weight ``[BU, I + H]``, or an empty array
    :param bb_b: backbone bias ``[BU]``
    :param n_in: input width I
    :return: ``(WinT [I, G], WrecT [H, G], bin [G], WhT, bh)`` as ``cfc_forward`` takes them
    """
    masked = [w * mask if (mask.size and c < 2) else w for c, w in enumerate(heads_w)]
    heads_t = np.ascontiguousarray(np.concatenate(masked).T)  # [G0, K]
    heads_bias = np.concatenate(heads_b)
    if bb_w.size == 0:
        return heads_t[:n_in].copy(), heads_t[n_in:].copy(), heads_bias, np.empty((0, 0), np.float32), heads_bias
    bb_t = bb_w.T
    return bb_t[:n_in].copy(), bb_t[n_in:].copy(), bb_b.copy(), heads_t, heads_bias


@numba.njit(**JIT)
def _positive(x, implicit):  # type: ignore[no-untyped-def]
    if not implicit:
        return x
    if x > 20.0:
        return x
    return np.float32(math.log1p(math.exp(x)))


@numba.njit(**JIT)
def pack_ltc_edges(idx, mu, sigma, w, erev, mask, implicit):  # type: ignore[no-untyped-def]
    """Per-edge ``(mu, sigma, w, w * erev)`` ``[4, E]`` with ``w = positive(w) * mask`` for the
    edges ``idx [2, E]``, as the LTC kernel takes them."""
    E = idx.shape[1]
    out = np.empty((4, E), np.float32)
    for e in range(E):
        i, j = idx[0, e], idx[1, e]
        we = _positive(w[i, j], implicit) * mask[i, j]
        out[0, e] = mu[i, j]
        out[1, e] = sigma[i, j]
        out[2, e] = we
        out[3, e] = we * erev[i, j]
    return out


@numba.njit(**JIT)
def positive(x, implicit):  # type: ignore[no-untyped-def]
    """softplus (torch's, threshold 20) of a 1-D array, or a copy when not ``implicit``."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = _positive(x[i], implicit)
    return out
