"""The wiring of a liquid actor, built from a policy's ``wiring`` option: one meaning everywhere.

:func:`build_wiring` is used by every SB3 integration (:mod:`ncp_control.agents.policies`,
:mod:`ncp_control.agents.recurrent_ppo`, :mod:`ncp_control.agents.stateless`), so that a
``wiring`` option means the same in each:

- ``None`` or ``"ncp"``: an :class:`~ncp_control.AutoNCP` of ``units`` neurons with one motor
  neuron per output (the default);
- ``"full"``: a :class:`~ncp_control.FullyConnected` wiring of ``units`` neurons;
- ``"none"``: no wiring, an unwired network of ``units`` neurons;
- an :class:`~ncp_control.Wiring`: used as it is.
"""

from __future__ import annotations

from typing import Any

import ncp_control
from ncp_control.errors import UserError

#: The wiring names a policy takes (besides ``None``, the default ``"ncp"``, and a ``Wiring``).
WIRINGS = ("ncp", "full", "none")


def build_wiring(
    wiring: Any, units: int, motor_neurons: int, input_size: int, sparsity_level: float = 0.5, seed: int = 22222
) -> ncp_control.Wiring | None:
    """The wiring a ``wiring`` option stands for (see the module docstring).

    :param wiring: ``None``, ``"ncp"``, ``"full"``, ``"none"`` or a ``Wiring``.
    :param units: neurons of the network.
    :param motor_neurons: motor neurons (the network's outputs).
    :param input_size: features fed to the network (the wiring's sensory inputs).
    :param sparsity_level: AutoNCP sparsity in ``[0, 1)``.
    :param seed: seed of the generated wiring (fixed, so that a reload rebuilds it).
    :return: the wiring, or ``None`` for an unwired network of ``units`` neurons.
    :raises UserError: for any other value.
    """
    if wiring is None or wiring == "ncp":
        return ncp_control.AutoNCP(units, motor_neurons, sparsity_level=sparsity_level, seed=seed, input_size=input_size)
    if wiring == "full":
        return ncp_control.FullyConnected(units, motor_neurons)
    if wiring == "none":
        return None
    if isinstance(wiring, ncp_control.Wiring):
        return wiring
    raise UserError(f"wiring must be one of {WIRINGS} or an ncp_control.Wiring, got {wiring!r}")
