"""Fused sequence kernels for the liquid cells (optional extra ``fast``: numba).

Importing this package registers the unroll implementation ``"fast"`` with
:func:`ncp_control.sequence.register_unroll`: models with ``implementation="fast"`` run
their sequences through :func:`fast_unroll` where it applies (numba installed, float32 CPU
tensors, a supported cell) and through the plain per-step loop everywhere else, with the
same outputs and gradients.
"""

from __future__ import annotations

from typing import Any

import torch

from ncp_control.fast.dispatch import available, fast_unroll, quick_infer
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
        result = model.unroll_reference(x, h, ts, resets)
    return result


register_unroll("fast", unroll, quick_infer)


if available():
    from ncp_control.fast.dispatch import _all_finite

    register_finite_check(_all_finite())  # the compiled function itself: a wrapper costs a microsecond
