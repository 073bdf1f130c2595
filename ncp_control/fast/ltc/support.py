"""Whether the compiled LTC path applies to a cell: the kernels have the semi-implicit solver
only, and read float32 CPU parameters."""

from __future__ import annotations

from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.fast.arrays import float32_cpu


def solver_supported(cell: LTCCell) -> bool:
    """:param cell: the cell
    :return: whether it uses the semi-implicit solver (the only one the kernels have; checked
        on every call, since the solver is a plain attribute that may change)"""
    return cell.solver == "semi_implicit"


def supports(cell: LTCCell) -> bool:
    """Whether the compiled path runs this cell: the semi-implicit solver, and every parameter
    float32 on the CPU.

    :param cell: the cell
    """
    return solver_supported(cell) and float32_cpu(cell.parameters())
