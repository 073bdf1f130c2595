"""LTC sequence model: liquid time-constant network over a wiring."""

from __future__ import annotations

from typing import Any

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.cells.mixed_memory import MixedMemoryCell, unwrap_memory
from ncp_control.cfc import units_config
from ncp_control.sequence import LiquidRNN
from ncp_control.solvers.correction import solver_config
from ncp_control.wirings import FullyConnected, Wiring
from ncp_control.wirings.base import check_int


def wiring_for(input_size: int, units: int | Wiring) -> Wiring:
    """:param input_size: number of input features.
    :param units: a neuron count (fully connected, ncps' default seed) or a wiring.
    :return: the wiring built for ``input_size``."""
    if isinstance(units, Wiring):
        return units.build(input_size)
    return FullyConnected(check_int("units", units, 1), input_size=input_size)


class LTC(LiquidRNN):
    """Liquid time-constant RNN (ncps ``LTC`` arguments and arithmetic).

    Example::

        model = LTC(17, AutoNCP(32, 4))            # semi-implicit solver, 6 unfolds
        y, h = model(torch.randn(8, 50, 17), timespans=0.05 * torch.ones(8, 50))

    :param input_size: number of input features F.
    :param units: number of fully connected neurons, or a :class:`Wiring`.
    :param return_sequences: return all steps (else only the last).
    :param batch_first: ``[B, T, F]`` inputs (else ``[T, B, F]``).
    :param mixed_memory: put an LSTM memory in front of the cell (state ``[N | N]``).
    :param input_mapping: ``"affine"``, ``"linear"`` or ``None``.
    :param output_mapping: ``"affine"``, ``"linear"`` or ``None``.
    :param ode_unfolds: solver steps per time step (fixed-step solvers).
    :param epsilon: added to the semi-implicit denominator.
    :param implicit_param_constraints: positive parameters through softplus.
    :param solver: ``"semi_implicit"`` (default), ``"euler"``, ``"rk4"``, the hypersolvers
        ``"hyper_euler"`` and ``"hyper_semi_implicit"`` (fitted by
        :func:`ncp_control.solvers.fit_hypersolver`; they run in the per-step loop), or with
        torchdiffeq ``"dopri5"``, ``"dopri8"``, ``"bosh3"``, ``"adaptive_heun"``.
    :param adjoint: adjoint-method backward pass (adaptive solvers).
    :param rtol: relative tolerance (adaptive solvers).
    :param atol: absolute tolerance (adaptive solvers).
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
        input_mapping: str | None = "affine",
        output_mapping: str | None = "affine",
        ode_unfolds: int = 6,
        epsilon: float = 1e-8,
        implicit_param_constraints: bool = True,
        solver: str = "semi_implicit",
        adjoint: bool = False,
        rtol: float = 1e-6,
        atol: float = 1e-8,
        implementation: str = "fast",
        hypersolver: dict[str, Any] | None = None,
    ) -> None:
        input_size = check_int("input_size", input_size, 1)
        wiring = wiring_for(input_size, units)
        cell: LiquidCell = LTCCell(
            input_size,
            wiring,
            input_mapping,
            output_mapping,
            ode_unfolds,
            epsilon,
            implicit_param_constraints,
            solver,
            adjoint,
            rtol,
            atol,
            hypersolver,
        )
        if mixed_memory:
            cell = MixedMemoryCell(cell)
        super().__init__(cell, return_sequences, batch_first, implementation)
        self.wiring = wiring
        self._config = {
            "class": "LTC",
            "input_size": input_size,
            "units": units_config(wiring if isinstance(units, Wiring) else units),
            "return_sequences": self.return_sequences,
            "batch_first": self.batch_first,
            "mixed_memory": bool(mixed_memory),
            "input_mapping": input_mapping,
            "output_mapping": output_mapping,
            "ode_unfolds": ode_unfolds,
            "epsilon": epsilon,
            "implicit_param_constraints": bool(implicit_param_constraints),
            "solver": solver,
            "adjoint": bool(adjoint),
            "rtol": rtol,
            "atol": atol,
            "implementation": implementation,
            "hypersolver": hypersolver,
        }

    @property
    def ltc_cell(self) -> LTCCell:
        """The LTC cell (inside the mixed-memory wrapper, if any)."""
        cell = unwrap_memory(self.cell)
        assert isinstance(cell, LTCCell)
        return cell

    def apply_weight_constraints(self) -> None:
        """Clip the positive parameters at 0 (explicit constraints; call after each optimiser step)."""
        self.ltc_cell.apply_weight_constraints()

    def config(self) -> dict[str, Any]:
        """:return: the constructor arguments as a JSON-serialisable dict (``"class": "LTC"``)."""
        return solver_config(self._live_config(self._config), unwrap_memory(self.cell))
