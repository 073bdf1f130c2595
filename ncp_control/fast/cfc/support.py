"""Whether the compiled CfC path applies to a cell: the kernels run CfC layers whose backbone
has at most one layer, with an activation they compute, and read float32 CPU parameters."""

from __future__ import annotations

from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell
from ncp_control.fast.arrays import float32_cpu


def layers(cell: CfCCell | WiredCfCCell) -> tuple[list[CfCCell], list[int]]:
    """The CfC layers the kernels run and where each one's state starts.

    :param cell: an unwired (one layer) or wired (one layer per wiring layer) CfC cell
    :return: the layers, sensory side first, and the first state column of each
    """
    if isinstance(cell, WiredCfCCell):
        return cell.layer_cells, [start for start, _ in cell.layer_slices]
    return [cell], [0]


def backbone_activation(cell: CfCCell) -> str | None:
    """:param cell: one layer
    :return: the name of its backbone's activation ("lecun_tanh" without a backbone, where
        the kernels leave it unused), or None for one the kernels do not have"""
    return "lecun_tanh" if cell.backbone is None else cell.activation_name


def supported_layer(cell: CfCCell) -> bool:
    """:param cell: one layer
    :return: whether the kernels run it (a backbone of more than one layer, or with an
        activation they do not have, is left to the per-step loop)"""
    return cell.backbone is None or (cell.backbone_layers == 1 and backbone_activation(cell) is not None)


def supports(cell: CfCCell | WiredCfCCell) -> bool:
    """Whether the compiled path runs this cell: every layer is supported and every parameter
    (the output map's included) is float32 on the CPU.

    :param cell: an unwired or wired CfC cell
    """
    return all(supported_layer(layer) for layer in layers(cell)[0]) and float32_cpu(cell.parameters())
