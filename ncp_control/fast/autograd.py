"""First derivatives only: the kernels' backward passes are not themselves differentiable.

:func:`first_derivative_only` wraps an autograd function's ``backward`` the way torch's
``once_differentiable`` does (the backward pass runs without recording a graph), with an
error that says what to change when something differentiates through it a second time
(``create_graph=True`` and a backward pass through the gradients).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import torch

SECOND_DERIVATIVE_ERROR = (
    "the compiled kernels (implementation='fast') give first derivatives only; to differentiate "
    "through the gradients (create_graph=True), set model.implementation = 'reference'"
)


class _NoSecondDerivative(torch.autograd.Function):
    """Passes the gradients on (as copies); differentiating them raises the error."""

    @staticmethod
    def forward(ctx: Any, anchor: torch.Tensor, *grads: torch.Tensor | None) -> Any:  # type: ignore[override]
        return tuple(g.clone() if g is not None else None for g in grads)

    @staticmethod
    def backward(ctx: Any, *unused: Any) -> Any:  # type: ignore[override]
        raise RuntimeError(SECOND_DERIVATIVE_ERROR)


def first_derivative_only(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator for ``backward`` of a :class:`torch.autograd.Function` (under
    ``@staticmethod``) that returns a tuple of gradients."""

    @functools.wraps(backward)
    def wrapper(ctx: Any, *grad_outputs: Any) -> Any:
        with torch.no_grad():
            grads = backward(ctx, *grad_outputs)
        anchors = [g for g in grad_outputs if isinstance(g, torch.Tensor) and g.requires_grad]
        if not torch.is_grad_enabled() or not anchors:
            return grads
        # create_graph=True: tie the gradients to a node whose backward pass raises
        return _NoSecondDerivative.apply(anchors[0], *grads)

    return wrapper
