"""AutoNCP: an NCP wiring sized from a neuron count, an output count and a sparsity level."""

from __future__ import annotations

from typing import Any, ClassVar

from ncp_control.wirings.base import Wiring, check_int, check_sparsity
from ncp_control.wirings.ncp import NCP


class AutoNCP(NCP):
    """An :class:`NCP` whose layer sizes and fan-outs follow from ``units``, ``output_size``
    and ``sparsity_level`` as in ``ncps.wirings.AutoNCP`` (40% of the non-motor neurons are
    command neurons, the rest inter neurons).

    :param units: total number of neurons, >= 4.
    :param output_size: number of motor neurons, in ``[1, units - 3]``.
    :param sparsity_level: fraction of absent synapses, in ``[0, 1)``.
    :param seed: seed of the draws.
    :param input_size: number of inputs to build for (``None``: build later with :meth:`build`).
    """

    kind: ClassVar[str] = "AutoNCP"

    def __init__(
        self,
        units: int,
        output_size: int,
        sparsity_level: float = 0.5,
        seed: int = 22222,
        input_size: int | None = None,
    ) -> None:
        units = check_int("units", units, 4)
        output_size = check_int("output_size", output_size, 1, units - 3)
        self.sparsity_level = check_sparsity("sparsity_level", sparsity_level)
        density = 1.0 - self.sparsity_level
        inter_and_command = units - output_size
        command = max(int(0.4 * inter_and_command), 1)
        inter = inter_and_command - command
        super().__init__(
            inter_neurons=inter,
            command_neurons=command,
            motor_neurons=output_size,
            sensory_fanout=max(int(inter * density), 1),
            inter_fanout=max(int(command * density), 1),
            recurrent_command_synapses=max(int(command * density * 2), 1),
            motor_fanin=max(int(command * density), 1),
            seed=seed,
            input_size=input_size,
        )

    def _with_input_size(self, input_size: int) -> Wiring:
        return AutoNCP(self.units, self.output_size, self.sparsity_level, self.seed, input_size)

    def to_dict(self) -> dict[str, Any]:
        """:return: the constructor arguments (JSON-serialisable) with ``kind``."""
        return {
            "kind": self.kind,
            "units": self.units,
            "output_size": self.output_size,
            "sparsity_level": self.sparsity_level,
            "seed": self.seed,
            "input_size": self.input_size,
        }
