# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Input checks for the control loop's shortcut, compiled so that they cost well under a
microsecond (numpy's or torch's reductions cost several on a one-step call).

Compiled without fast-math: the check exists to see NaN and inf, which fast-math assumes away.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def all_finite(x, h):  # type: ignore[no-untyped-def]
    """Whether every entry of ``x [B, T, F]`` and ``h [B, S]`` is finite (``v * 0`` is 0 for
    a finite ``v`` and NaN for NaN or inf, and a NaN survives the sum)."""
    total = np.float32(0.0)
    for b in range(x.shape[0]):
        for t in range(x.shape[1]):
            for f in range(x.shape[2]):
                total += x[b, t, f] * np.float32(0.0)
    for b in range(h.shape[0]):
        for s in range(h.shape[1]):
            total += h[b, s] * np.float32(0.0)
    return total == np.float32(0.0)
