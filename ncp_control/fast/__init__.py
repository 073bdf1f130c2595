"""Fused sequence kernels for the liquid cells (optional extra ``fast``: numba).

Importing this package registers the unroll implementation ``"fast"`` with
:func:`ncp_control.sequence.register_unroll`: models with ``implementation="fast"`` run
their sequences through :func:`fast_unroll` where it applies (numba installed, float32 CPU
tensors, a supported cell) and through the plain per-step loop everywhere else, with the
same outputs and gradients.

Where things live. One sub-package per cell holds that cell's whole path:

- :mod:`~ncp_control.fast.cfc` (CfC, wired CfC), :mod:`~ncp_control.fast.ltc`,
  :mod:`~ncp_control.fast.ctrnn`, each with ``support`` (does the path apply to the cell),
  ``params`` (the parameters packed as the kernels read them, one packing for both paths),
  ``kernels`` (the compiled code), ``train`` (autograd) and, for CfC and LTC, ``infer``
  (the no-grad path of control loops and rollouts).

Beside them, shared by every cell:

- :mod:`~ncp_control.fast.dispatch`: routes a model to its cell's path (:func:`fast_unroll`,
  :func:`quick_infer`, :func:`available`)
- :mod:`~ncp_control.fast.inference`: the no-grad plan cache (``clear_cache``) and constant arrays
- :mod:`~ncp_control.fast.autograd`: first derivatives only (the kernels' backward passes)
- :mod:`~ncp_control.fast.arrays`: float32 CPU checks, numpy views, backward operands
- :mod:`~ncp_control.fast.blas`: GEMM callable from compiled code; :mod:`~ncp_control.fast.buffers`:
  pooled, aligned work arrays; :mod:`~ncp_control.fast.kernel_math`: compiled scalar math and
  activations; :mod:`~ncp_control.fast.checks`: the compiled finiteness check
"""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ncp_control.fast.dispatch import all_finite, available, fast_unroll, quick_infer
from ncp_control.sequence import register_finite_check, register_unroll

__all__ = ["available", "fast_unroll", "unroll"]


def unroll(
    model: Any, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, resets: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``"fast"`` implementation: :func:`fast_unroll`, else the model's per-step loop.

    :param model: a :class:`~ncp_control.sequence.LiquidRNN`
    :param x: inputs ``[B, T, F]``
    :param h: initial state ``[B, S]``
    :param ts: elapsed times ``[B, T]``
    :param resets: ``[B, T]`` bool or None
    :return: ``(y [B, T, M], h_last [B, S])``
    """
    result = fast_unroll(model, x, h, ts, resets)
    if result is None:
        if not _warned and not available():  # after the warning, no module lookup per call
            _warn_without_kernels()
        result = model.unroll_reference(x, h, ts, resets)
    return result


_warned = False


def _warn_without_kernels() -> None:
    """Say once per process that the default implementation runs without its kernels."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn("the liquid cells' compiled kernels need the 'fast' extra (numba, SciPy), which is not "
                      "installed: the per-step loop runs instead (the same function, several times slower); "
                      "pip install 'ncp-control[fast]'", RuntimeWarning, stacklevel=4)


register_unroll("fast", unroll, quick_infer)


if available():
    register_finite_check(all_finite())  # the compiled function itself: a wrapper costs a microsecond
