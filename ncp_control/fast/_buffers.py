"""Reused float32 work arrays for the sequence kernels.

A training step of a CfC layer allocates several megabytes of saved activations and
gradients. Fresh allocations of that size come from the operating system as untouched
pages, and the first write to each page costs a fault; on a batch-64, 128-step sequence
that took about as long as the arithmetic. :func:`buffer` hands out arrays from a small
pool instead, reusing an array only when nothing else refers to it any more (neither a
tensor made from it, nor a view), so results never share memory with a live tensor.
Every array it hands out starts on a 64-byte boundary (see :mod:`._blas`).
"""

from __future__ import annotations

import sys
import threading

import numpy as np

#: alignment of every array handed out, in float32 elements (64 bytes)
ALIGN = 16
#: arrays smaller than this are allocated normally (small allocations are cheap)
MIN_POOLED_BYTES = 1 << 18
#: the pool keeps at most this many bytes of arrays
POOL_LIMIT_BYTES = 256 << 20

_POOL: list[np.ndarray] = []
_LOCK = threading.Lock()
#: references to a free pooled array while :func:`_is_free` looks at it: the pool's list,
#: the loop variable and ``getrefcount``'s own argument
_FREE_REFS = 3


def _pooled_bytes() -> int:
    return sum(a.nbytes for a in _POOL)


def _aligned(raw: np.ndarray, size: int, shape: tuple[int, ...]) -> np.ndarray:
    """The ``size`` elements of ``raw`` from its first 64-byte boundary, as ``shape`` (a view:
    numpy records ``raw`` as its base, so the pool sees it as in use)."""
    start = (-(raw.ctypes.data // 4)) % ALIGN
    return raw[start : start + size].reshape(shape)


def buffer(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised C-contiguous float32 array that starts on a 64-byte boundary, from
    the pool where one is free.

    :param shape: the array's shape
    :return: an array that no live tensor or array shares memory with
    """
    size = 1
    for n in shape:
        size *= n
    if size * 4 < MIN_POOLED_BYTES:
        return _aligned(np.empty(size + ALIGN - 1, np.float32), size, shape)
    with _LOCK:
        free_other = []
        for raw in _POOL:
            if sys.getrefcount(raw) == _FREE_REFS:
                if raw.size == size + ALIGN - 1:
                    return _aligned(raw, size, shape)
                free_other.append(raw)
        new = np.empty(size + ALIGN - 1, np.float32)
        while free_other and _pooled_bytes() + new.nbytes > POOL_LIMIT_BYTES:
            _POOL.remove(free_other.pop())
        if _pooled_bytes() + new.nbytes <= POOL_LIMIT_BYTES:
            _POOL.append(new)
        return _aligned(new, size, shape)


def release_buffers() -> None:
    """Drop the pool (arrays still in use stay valid; their memory is freed with them)."""
    with _LOCK:
        _POOL.clear()
