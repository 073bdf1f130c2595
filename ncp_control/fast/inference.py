"""Shared by the no-grad paths (control loops, rollouts): each cell's packed kernel inputs,
kept until a parameter changes, and the constant arrays of the control loop's calls.

A cell's packed plan (built by its own path, e.g. :func:`ncp_control.fast.cfc.infer.stack_plan`)
is kept per cell until a parameter or buffer changes: a different tensor object, storage, or
version counter (every in-place torch operation, optimiser steps and ``load_state_dict``
included, bumps it). Writes that bypass the version counter (through ``.data`` or numpy
views) are not seen: call :func:`clear_cache` after such writes.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch import nn

#: cell -> (slots of its parameters and buffers, those tensors, their versions, their data
#: pointers, the packed plan)
_CACHE: weakref.WeakKeyDictionary[nn.Module, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def clear_cache(cell: nn.Module | None = None) -> None:
    """Forget packed parameters (of one cell, or of all).

    :param cell: the cell, or None for every cell
    """
    if cell is None:
        _CACHE.clear()
    else:
        _CACHE.pop(cell, None)


_VERSION = operator.attrgetter("_version")
_DATA_PTR = torch.Tensor.data_ptr


def cached_plan(cell: nn.Module, build: Callable[[], Any]) -> Any:
    """``build()``'s result for ``cell``, rebuilt only when one of its tensors changed.

    :param cell: the cell whose parameters and buffers the plan depends on
    :param build: packs the plan
    :return: the plan
    """
    entry = _CACHE.get(cell)
    if entry is not None:
        slots, tensors, versions, pointers, plan = entry
        try:
            current = [d[n] for d, n in slots]
            if (
                all(map(operator.is_, current, tensors))
                and list(map(_VERSION, current)) == versions
                and list(map(_DATA_PTR, current)) == pointers
            ):
                return plan
        except KeyError:  # a tensor was removed: collect the slots again
            pass
    slots = []
    for m in cell.modules():
        slots += [(m._parameters, n) for n in m._parameters if m._parameters[n] is not None]
        slots += [(m._buffers, n) for n in m._buffers if m._buffers[n] is not None]
    tensors = [d[n] for d, n in slots]
    plan = build()
    _CACHE[cell] = (slots, tensors, list(map(_VERSION, tensors)), list(map(_DATA_PTR, tensors)), plan)
    return plan


@lru_cache(maxsize=32)
def constant(shape: tuple[int, ...], value: float) -> np.ndarray:
    """A float32 array filled with ``value``, shared between calls: the kernels only read it
    (and a read-only flag would make numba compile them once more for that type).

    :param shape: the array's shape
    :param value: every entry
    :return: the shared array (never write to it)
    """
    return np.full(shape, value, np.float32)


def time_major(a: np.ndarray) -> np.ndarray:
    """``[B, T, ...]`` to C-contiguous ``[T, B, ...]`` (a view for one step).

    :param a: a batch-first array
    :return: the time-major array
    """
    if a.shape[1] == 1:
        return np.ascontiguousarray(a).reshape((1, a.shape[0], *a.shape[2:]))
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))
