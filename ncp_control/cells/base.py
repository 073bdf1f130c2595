"""The interface every liquid cell implements: one step of continuous-time dynamics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from ncp_control.wirings import Wiring


class LiquidCell(nn.Module):
    """One step of a recurrent cell with elapsed time.

    ``cell(x_t, h, dt) -> (y_t, h_new)`` with ``x_t [B, input_size]``, ``h [B, state_size]``,
    ``dt [B]`` (elapsed time of each sample), ``y_t [B, output_size]``,
    ``h_new [B, state_size]``. The state is one tensor; motor neurons are its first
    ``motor_size`` entries.

    Subclasses set :attr:`input_size`, :attr:`state_size`, :attr:`motor_size` and
    :attr:`output_size` in their constructor and implement :meth:`forward`.
    """

    input_size: int
    state_size: int
    motor_size: int
    output_size: int

    def _attach_wiring(self, input_size: int, wiring: Wiring) -> Wiring:
        """Build ``wiring`` for ``input_size`` and set the sizes of a wired cell.

        Sets :attr:`wiring`, :attr:`input_size`, :attr:`state_size` (the wiring's units) and
        :attr:`motor_size` and :attr:`output_size` (its motor neurons).

        :param input_size: number of input features F.
        :param wiring: the wiring (built here if it is not built yet).
        :return: the built wiring.
        """
        wiring = wiring.build(input_size)
        self.wiring = wiring
        self.input_size = input_size
        self.state_size = wiring.units
        self.motor_size = wiring.output_size
        self.output_size = wiring.output_size
        return wiring

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance the state by ``dt``.

        :param x: inputs ``[B, input_size]``.
        :param h: state ``[B, state_size]``.
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, output_size], h_new [B, state_size])``.
        """
        raise NotImplementedError

    def initial_state(
        self, batch_size: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """:param batch_size: B.
        :param device: device (default: the parameters').
        :param dtype: dtype (default: the parameters').
        :return: a zero state ``[B, state_size]``."""
        reference = next(self.parameters(), None)
        if reference is not None:
            device = reference.device if device is None else device
            dtype = reference.dtype if dtype is None else dtype
        return torch.zeros(batch_size, self.state_size, device=device, dtype=dtype)
