# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Packing of raw LTC parameters into kernel layouts (no-grad path; CfC layers are packed by
:mod:`._cfc_params`, for both paths).

Reading the parameters' own storage on every call keeps inference exact however the
parameters were changed, without a round of torch operations per call.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._math import JIT


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
