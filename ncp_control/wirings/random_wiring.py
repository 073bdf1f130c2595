"""Random sparse wiring."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ncp_control.wirings.base import Wiring, check_int, check_sparsity


def _sample_pairs(rng: np.random.Generator, rows: int, cols: int, sparsity: float) -> np.ndarray:
    count = int(np.round(rows * cols * (1 - sparsity)))
    pairs = [(src, dest) for src in range(rows) for dest in range(cols)]
    return rng.choice(pairs, size=count, replace=False)


class Random(Wiring):
    """Random synapses: a fraction ``1 - sparsity_level`` of all neuron pairs (and of all
    input-neuron pairs) is connected, with polarity +1 (p=2/3) or -1 (p=1/3); the same draws
    as ``ncps.wirings.Random``.

    :param units: number of neurons, >= 1.
    :param output_dim: number of motor neurons in ``[1, units]`` (default ``units``).
    :param sparsity_level: fraction of absent synapses, in ``[0, 1)``.
    :param random_seed: seed of the draws.
    :param input_size: number of inputs to build for (``None``: build later).
    """

    kind: ClassVar[str] = "Random"

    def __init__(
        self,
        units: int,
        output_dim: int | None = None,
        sparsity_level: float = 0.0,
        random_seed: int = 1111,
        input_size: int | None = None,
    ) -> None:
        units = check_int("units", units, 1)
        output_dim = units if output_dim is None else check_int("output_dim", output_dim, 1, units)
        self.sparsity_level = check_sparsity("sparsity_level", sparsity_level)
        self.random_seed = check_int("random_seed", random_seed, 0)
        rng = np.random.default_rng(self.random_seed)
        adjacency = np.zeros((units, units), dtype=np.int32)
        for src, dest in _sample_pairs(rng, units, units, self.sparsity_level):
            adjacency[src, dest] = rng.choice([-1, 1, 1])
        sensory = None
        if input_size is not None:
            input_size = check_int("input_size", input_size, 1)
            sensory = np.zeros((input_size, units), dtype=np.int32)
            for src, dest in _sample_pairs(rng, input_size, units, self.sparsity_level):
                # two draws per sensory synapse, the second one kept, as ncps does
                sensory[src, dest] = rng.choice([-1, 1, 1])
                sensory[src, dest] = rng.choice([-1, 1, 1])
        self._init(adjacency, sensory, output_dim, (tuple(range(units)),))

    def _with_input_size(self, input_size: int) -> Wiring:
        return Random(self.units, self.output_dim, self.sparsity_level, self.random_seed, input_size)

    def to_dict(self) -> dict[str, Any]:
        """:return: the constructor arguments (JSON-serialisable) with ``kind``."""
        return {
            "kind": self.kind,
            "units": self.units,
            "output_dim": self.output_dim,
            "sparsity_level": self.sparsity_level,
            "random_seed": self.random_seed,
            "input_size": self.input_size,
        }
