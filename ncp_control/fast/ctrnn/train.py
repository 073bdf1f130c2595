"""The CT-RNN path: the semi-implicit solver over a whole sequence through the compiled
kernels, with autograd; without gradients the same kernels run without saving (the CT-RNN
has no separate no-grad path)."""

from __future__ import annotations

from typing import Any

import torch

from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.fast.arrays import as_numpy, backward_operand
from ncp_control.fast.autograd import first_derivative_only
from ncp_control.fast.ctrnn.params import drive, pack
from ncp_control.fast.ctrnn.support import supports


def _kernels() -> Any:
    from ncp_control.fast.ctrnn import kernels

    return kernels


class _CTRNNFunction(torch.autograd.Function):
    """The semi-implicit solver over the sequence; inputs ``(drive, h0, ts, keep, w, inv_tau,
    unfolds)`` time-major, gradients for the drive, initial state, ``w`` and ``inv_tau``."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        drive: torch.Tensor,
        h0: torch.Tensor,
        ts: torch.Tensor,
        keep: torch.Tensor,
        w: torch.Tensor,
        inv_tau: torch.Tensor,
        unfolds: int,
    ) -> torch.Tensor:
        hseq, vs, ths = _kernels().ctrnn_forward(
            as_numpy(drive),
            as_numpy(h0),
            as_numpy(ts),
            as_numpy(keep),
            as_numpy(w),
            as_numpy(inv_tau),
            unfolds,
            True,
        )
        out = torch.from_numpy(hseq)
        ctx.save_for_backward(ts, keep, w, inv_tau, out, torch.from_numpy(vs), torch.from_numpy(ths))
        return out

    @staticmethod
    @first_derivative_only
    def backward(ctx: Any, dhseq: torch.Tensor) -> Any:  # type: ignore[override]
        ts, keep, w, inv_tau, hseq, vs, ths = ctx.saved_tensors
        ddrive, dz, dh0, dinv = _kernels().ctrnn_backward(
            as_numpy(dhseq),
            as_numpy(hseq),
            as_numpy(vs),
            as_numpy(ths),
            as_numpy(ts),
            as_numpy(keep),
            *backward_operand(as_numpy(w), dhseq.shape[1]),
            as_numpy(inv_tau),
        )
        n = w.shape[0]
        dw = vs.reshape(-1, n).t() @ torch.from_numpy(dz).reshape(-1, n)
        return torch.from_numpy(ddrive), torch.from_numpy(dh0), None, None, dw, torch.from_numpy(dinv), None


def ctrnn_semi_implicit_sequence(
    cell: CTRNNCell, x: torch.Tensor, h0: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor
) -> torch.Tensor:
    """Unroll a :class:`~ncp_control.cells.CTRNNCell` (semi-implicit solver) over a sequence.

    :param cell: the cell
    :param x: inputs ``[B, T, F]`` (float32)
    :param h0: initial state ``[B, N]``
    :param ts: elapsed times ``[B, T]``
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0
    :return: the state after every step ``[B, T, N]``
    """
    inputs = drive(cell, x)
    w, inv_tau = pack(cell)
    args = (
        inputs.transpose(0, 1).contiguous(),
        h0.contiguous(),
        ts.t().contiguous(),
        keep.t().contiguous(),
        w,
        inv_tau,
    )
    if torch.is_grad_enabled() and any(a.requires_grad for a in args):
        hseq: torch.Tensor = _CTRNNFunction.apply(*args, cell.ode_unfolds)
    else:
        hseq = torch.from_numpy(
            _kernels().ctrnn_forward(*(as_numpy(a) for a in args), cell.ode_unfolds, False)[0]
        )
    return hseq.transpose(0, 1)


def unroll(
    cell: CTRNNCell, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, keep: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Run a CT-RNN cell over a sequence (outputs and gradients those of the per-step loop).

    :param cell: the cell
    :param x: inputs ``[B, T, F]`` (float32, CPU)
    :param h: initial state ``[B, N]``
    :param ts: elapsed times ``[B, T]`` (not requiring gradients)
    :param keep: ``[B, T]``: 0.0 where the state is zeroed before the step, else 1.0
    :return: ``(y [B, T, M], h_last [B, N])``, or None where
        :func:`~ncp_control.fast.ctrnn.support.supports` declines
    """
    if not supports(cell):
        return None
    hseq = ctrnn_semi_implicit_sequence(cell, x, h, ts, keep)
    return cell.map_outputs(hseq), hseq[:, -1]
