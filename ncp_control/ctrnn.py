"""CTRNN sequence model: the leaky-integrator continuous-time RNN over a wiring."""

from __future__ import annotations

from typing import Any

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.cells.mixed_memory import MixedMemoryCell, unwrap_memory
from ncp_control.cfc import units_config
from ncp_control.ltc import wiring_for
from ncp_control.sequence import LiquidRNN
from ncp_control.solvers.correction import solver_config
from ncp_control.wirings import Wiring
from ncp_control.wirings.base import check_int


class CTRNN(LiquidRNN):
    """Continuous-time RNN, ``dx/dt = -x / tau + tanh(I W_in + x W + b)``, fixed-step solver.

    Example::

        model = CTRNN(17, 32)                      # fully connected, 32 neurons
        y, h = model(torch.randn(8, 50, 17))       # y [8, 50, 32]

    :param input_size: number of input features F.
    :param units: number of fully connected neurons, or a :class:`Wiring`.
    :param return_sequences: return all steps (else only the last).
    :param batch_first: ``[B, T, F]`` inputs (else ``[T, B, F]``).
    :param mixed_memory: put an LSTM memory in front of the cell (state ``[N | N]``).
    :param ode_unfolds: solver steps per time step.
    :param solver: ``"semi_implicit"`` (default, stable for any step), ``"euler"``, ``"rk4"``, or
        the hypersolvers ``"hyper_euler"``, ``"hyper_semi_implicit"`` (fitted by
        :func:`ncp_control.solvers.fit_hypersolver`; they run in the per-step loop).
    :param implicit_param_constraints: positive time constants through softplus.
    :param implementation: ``"fast"`` (default: the compiled kernels of ``ncp_control.fast``
        where they apply, else the per-step loop), ``"reference"`` (always the per-step loop),
        or another registered unroll with the same outputs.
    :param hypersolver: the shape of a hypersolver correction, ``{"base", "hidden"}`` (set by
        ``fit_hypersolver``; a config carries it so that the weights load), or None.
    """

    def __init__(
        self,
        input_size: int,
        units: int | Wiring,
        return_sequences: bool = True,
        batch_first: bool = True,
        mixed_memory: bool = False,
        ode_unfolds: int = 6,
        solver: str = "semi_implicit",
        implicit_param_constraints: bool = True,
        implementation: str = "fast",
        hypersolver: dict[str, Any] | None = None,
    ) -> None:
        input_size = check_int("input_size", input_size, 1)
        wiring = wiring_for(input_size, units)
        cell: LiquidCell = CTRNNCell(
            input_size, wiring, ode_unfolds, solver, implicit_param_constraints, hypersolver
        )
        if mixed_memory:
            cell = MixedMemoryCell(cell)
        super().__init__(cell, return_sequences, batch_first, implementation)
        self.wiring = wiring
        self._config = {
            "class": "CTRNN",
            "input_size": input_size,
            "units": units_config(wiring if isinstance(units, Wiring) else units),
            "return_sequences": self.return_sequences,
            "batch_first": self.batch_first,
            "mixed_memory": bool(mixed_memory),
            "ode_unfolds": ode_unfolds,
            "solver": solver,
            "implicit_param_constraints": bool(implicit_param_constraints),
            "implementation": implementation,
            "hypersolver": hypersolver,
        }

    def config(self) -> dict[str, Any]:
        """:return: the constructor arguments as a JSON-serialisable dict (``"class": "CTRNN"``)."""
        return solver_config(self._live_config(self._config), unwrap_memory(self.cell))
