"""CfC sequence model: closed-form continuous-time network, unwired or over a wiring."""

from __future__ import annotations

from typing import Any

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.cells.mixed_memory import MixedMemoryCell, unwrap_memory
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.errors import UserError
from ncp_control.sequence import LiquidRNN
from ncp_control.wirings import Wiring
from ncp_control.wirings.base import check_int


def units_config(units: int | Wiring) -> int | dict[str, Any]:
    """:param units: a unit count or a wiring.
    :return: the count, or the wiring's dict."""
    return units.to_dict() if isinstance(units, Wiring) else int(units)


def units_from_config(units: int | dict[str, Any]) -> int | Wiring:
    """:param units: a unit count or a wiring dict.
    :return: the count or the wiring."""
    return Wiring.from_dict(units) if isinstance(units, dict) else int(units)


class CfC(LiquidRNN):
    """Closed-form continuous-time RNN (ncps ``CfC`` arguments and arithmetic).

    Example::

        model = CfC(17, AutoNCP(32, 4))          # wired: y is the 4 motor neurons
        y, h = model(torch.randn(8, 50, 17))     # y [8, 50, 4], h [8, 32]

    :param input_size: number of input features F.
    :param units: number of units N (unwired, backbone MLP) or a :class:`Wiring`.
    :param proj_size: if set, outputs go through a linear map to ``proj_size``.
    :param return_sequences: return all steps (else only the last).
    :param batch_first: ``[B, T, F]`` inputs (else ``[T, B, F]``).
    :param mixed_memory: put an LSTM memory in front of the cell (state ``[N | N]``).
    :param mode: ``"default"``, ``"no_gate"`` or ``"pure"``.
    :param activation: backbone activation (unwired): ``"lecun_tanh"``, ``"tanh"``, ``"relu"``,
        ``"silu"``, ``"gelu"``.
    :param backbone_units: backbone width (unwired; default 128).
    :param backbone_layers: backbone depth (unwired; default 1).
    :param backbone_dropout: backbone dropout (unwired; default 0).
    :param implementation: ``"fast"`` (default: the compiled kernels of ``ncp_control.fast``
        where they apply, else the per-step loop), ``"reference"`` (always the per-step loop),
        or another registered unroll with the same outputs.
    """

    def __init__(
        self,
        input_size: int,
        units: int | Wiring,
        proj_size: int | None = None,
        return_sequences: bool = True,
        batch_first: bool = True,
        mixed_memory: bool = False,
        mode: str = "default",
        activation: str = "lecun_tanh",
        backbone_units: int | None = None,
        backbone_layers: int | None = None,
        backbone_dropout: float | None = None,
        implementation: str = "fast",
    ) -> None:
        input_size = check_int("input_size", input_size, 1)
        if proj_size is not None:
            proj_size = check_int("proj_size", proj_size, 1)
        cell: LiquidCell
        if isinstance(units, Wiring):
            for name, value in (
                ("backbone_units", backbone_units),
                ("backbone_layers", backbone_layers),
                ("backbone_dropout", backbone_dropout),
            ):
                if value is not None:
                    raise UserError(f"{name} must be None for a wired CfC (wired cells have no backbone)")
            units = units.build(input_size)
            cell = WiredCfCCell(input_size, units, mode, proj_size)
        else:
            units = check_int("units", units, 1)
            cell = CfCCell(
                input_size,
                units,
                mode,
                activation,
                128 if backbone_units is None else check_int("backbone_units", backbone_units, 1),
                1 if backbone_layers is None else check_int("backbone_layers", backbone_layers, 0),
                0.0 if backbone_dropout is None else float(backbone_dropout),
                proj_size=proj_size,
            )
        if mixed_memory:
            cell = MixedMemoryCell(cell)
        super().__init__(cell, return_sequences, batch_first, implementation)
        self._config = {
            "class": "CfC",
            "input_size": input_size,
            "units": units_config(units),
            "proj_size": proj_size,
            "return_sequences": self.return_sequences,
            "batch_first": self.batch_first,
            "mixed_memory": bool(mixed_memory),
            "mode": mode,
            "activation": activation,
            "backbone_units": backbone_units,
            "backbone_layers": backbone_layers,
            "backbone_dropout": backbone_dropout,
            "implementation": implementation,
        }

    @property
    def wiring(self) -> Wiring | None:
        """The (built) wiring, or ``None`` for an unwired CfC."""
        core = unwrap_memory(self.cell)
        return core.wiring if isinstance(core, WiredCfCCell) else None

    def config(self) -> dict[str, Any]:
        """:return: the constructor arguments as a JSON-serialisable dict (``"class": "CfC"``)."""
        return self._live_config(self._config)
