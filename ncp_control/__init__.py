"""ncp_control: liquid neural networks (LTC, CfC, CT-RNN) with Neural Circuit Policy wiring.

This package depends on torch only (plus optional drawing and ODE extras); it knows
nothing of reinforcement learning or Gymnasium.
"""

__version__ = "0.1.0"
