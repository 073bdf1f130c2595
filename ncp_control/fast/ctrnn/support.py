"""Whether the compiled CT-RNN path applies to a cell: the kernels have the semi-implicit
solver only, and read float32 CPU parameters."""

from __future__ import annotations

from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.fast.arrays import float32_cpu


def supports(cell: CTRNNCell) -> bool:
    """Whether the compiled path runs this cell: the semi-implicit solver, and every parameter
    float32 on the CPU.

    :param cell: the cell
    """
    return cell.solver == "semi_implicit" and float32_cpu(cell.parameters())
