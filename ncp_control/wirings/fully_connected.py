"""Fully connected wiring (every neuron and input reaches every neuron)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ncp_control.wirings.base import Wiring, check_int


class FullyConnected(Wiring):
    """Every neuron connects to every neuron, every input to every neuron; polarity is
    drawn +1 with probability 2/3, -1 with 1/3 (the same draws as ``ncps.wirings.FullyConnected``).

    :param units: number of neurons, >= 1.
    :param output_dim: number of motor neurons in ``[1, units]`` (default ``units``).
    :param erev_init_seed: seed of the polarity draws.
    :param self_connections: whether a neuron synapses onto itself.
    :param input_size: number of inputs to build for (``None``: build later with :meth:`build`).
    """

    kind: ClassVar[str] = "FullyConnected"

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        erev_init_seed: int = 1111,
        self_connections: bool = True,
        input_size: int | None = None,
    ) -> None:
        units = check_int("units", units, 1)
        output_dim = units if output_dim is None else check_int("output_dim", output_dim, 1, units)
        self.erev_init_seed = check_int("erev_init_seed", erev_init_seed, 0)
        self.self_connections = bool(self_connections)
        rng = np.random.default_rng(self.erev_init_seed)
        adjacency = np.zeros((units, units), dtype=np.int32)
        for src in range(units):
            for dest in range(units):
                if src == dest and not self.self_connections:
                    continue
                adjacency[src, dest] = rng.choice([-1, 1, 1])
        sensory = None
        if input_size is not None:
            input_size = check_int("input_size", input_size, 1)
            sensory = np.zeros((input_size, units), dtype=np.int32)
            for src in range(input_size):
                for dest in range(units):
                    sensory[src, dest] = rng.choice([-1, 1, 1])
        self._init(adjacency, sensory, output_dim, (tuple(range(units)),))

    def _with_input_size(self, input_size: int) -> Wiring:
        return FullyConnected(
            self.units, self.output_dim, self.erev_init_seed, self.self_connections, input_size
        )

    def to_dict(self) -> dict[str, Any]:
        """:return: the constructor arguments (JSON-serialisable) with ``kind``."""
        return {
            "kind": self.kind,
            "units": self.units,
            "output_dim": self.output_dim,
            "erev_init_seed": self.erev_init_seed,
            "self_connections": self.self_connections,
            "input_size": self.input_size,
        }
