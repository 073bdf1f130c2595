"""ncp_control: liquid neural networks (LTC, CfC, CT-RNN) with Neural Circuit Policy wiring.

This package depends on torch only (plus optional drawing and ODE extras); it knows
nothing of reinforcement learning or Gymnasium.
"""

from ncp_control.cfc import CfC
from ncp_control.config import model_from_config
from ncp_control.ctrnn import CTRNN
from ncp_control.interop import from_ncps
from ncp_control.ltc import LTC
from ncp_control.wirings import NCP, AutoNCP, FullyConnected, Random, Wiring

__version__ = "0.1.0"

__all__ = [
    "CfC",
    "LTC",
    "CTRNN",
    "from_ncps",
    "model_from_config",
    "Wiring",
    "FullyConnected",
    "Random",
    "NCP",
    "AutoNCP",
    "__version__",
]
