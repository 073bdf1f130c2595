"""Wirings: which neuron (and input) synapses onto which, with polarity.

:class:`Wiring` (any adjacency), :class:`FullyConnected`, :class:`Random`, :class:`NCP` and
:class:`AutoNCP` (the same draws as ``ncps.wirings`` for the same seed).
"""

from ncp_control.wirings.auto_ncp import AutoNCP
from ncp_control.wirings.base import Wiring
from ncp_control.wirings.fully_connected import FullyConnected
from ncp_control.wirings.ncp import NCP
from ncp_control.wirings.random_wiring import Random

__all__ = ["Wiring", "FullyConnected", "Random", "NCP", "AutoNCP"]
