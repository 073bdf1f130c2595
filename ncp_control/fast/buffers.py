"""Reused float32 work arrays for the sequence kernels.

A training step of a CfC layer allocates several megabytes of saved activations and
gradients. Fresh allocations of that size come from the operating system as untouched
pages, and the first write to each page costs a fault; on a batch-64, 128-step sequence
that took about as long as the arithmetic. :func:`buffer` hands out arrays from a small
pool instead, reusing an array only when nothing else refers to it any more (neither a
tensor made from it, nor a view), so results never share memory with a live tensor.
Every array it hands out starts on a 64-byte boundary (see :mod:`ncp_control.fast.blas`).
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

#: pooled arrays, each with the offset of its first 64-byte boundary
_POOL: list[tuple[np.ndarray, int]] = []
_LOCK = threading.Lock()
#: references to a free pooled array while :func:`buffer` looks at it: its pool entry, the
#: loop variable and ``getrefcount``'s own argument
_FREE_REFS = 3


def _pooled_bytes() -> int:
    return sum(raw.nbytes for raw, _ in _POOL)


def _new_raw(size: int) -> tuple[np.ndarray, int]:
    """A fresh array with room for ``size`` elements from a 64-byte boundary on, and the
    offset (in elements) of that boundary."""
    raw = np.empty(size + ALIGN - 1, np.float32)
    return raw, (-(raw.ctypes.data // 4)) % ALIGN


def _view(raw: np.ndarray, start: int, shape: tuple[int, ...], size: int) -> np.ndarray:
    return raw[start : start + size].reshape(shape)


def buffer(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised C-contiguous float32 array that starts on a 64-byte boundary, from
    the pool where one is free.

    :param shape: the array's shape
    :return: an array that no live tensor or array shares memory with (a view of a larger
        one, which numpy records as its base, so the pool sees it as in use)
    """
    size = 1
    for n in shape:
        size *= n
    if size == 0:
        return np.empty(shape, np.float32)
    if size * 4 < MIN_POOLED_BYTES:
        return _view(*_new_raw(size), shape, size)
    with _LOCK:
        free_other = []
        for entry in _POOL:
            raw, start = entry
            if sys.getrefcount(raw) == _FREE_REFS:
                if raw.size == size + ALIGN - 1:
                    return _view(raw, start, shape, size)
                free_other.append(entry)
        raw, start = _new_raw(size)
        while free_other and _pooled_bytes() + raw.nbytes > POOL_LIMIT_BYTES:
            dropped = free_other.pop()
            _POOL[:] = [entry for entry in _POOL if entry is not dropped]
        if _pooled_bytes() + raw.nbytes <= POOL_LIMIT_BYTES:
            _POOL.append((raw, start))
        return _view(raw, start, shape, size)


def release_buffers() -> None:
    """Drop the pool (arrays still in use stay valid; their memory is freed with them)."""
    with _LOCK:
        _POOL.clear()
