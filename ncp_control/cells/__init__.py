"""One-step liquid cells: ``cell(x_t [B, F], h [B, S], dt [B]) -> (y_t [B, M], h_new [B, S])``."""

from ncp_control.cells.base import LiquidCell
from ncp_control.cells.cfc_cell import CfCCell
from ncp_control.cells.ctrnn_cell import CTRNNCell
from ncp_control.cells.lstm import LSTMCell
from ncp_control.cells.ltc_cell import LTCCell
from ncp_control.cells.mixed_memory import MixedMemoryCell
from ncp_control.cells.wired_cfc_cell import WiredCfCCell

__all__ = ["LiquidCell", "CfCCell", "CTRNNCell", "WiredCfCCell", "LSTMCell", "LTCCell", "MixedMemoryCell"]
