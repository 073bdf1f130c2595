"""Neural Circuit Policy wiring: sensory -> inter -> command (recurrent) -> motor."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ncp_control.wirings.base import Wiring, check_int


class NCP(Wiring):
    """A Neural Circuit Policy wiring (Lechner et al. 2020), drawn exactly as
    ``ncps.wirings.NCP`` draws it for the same seed.

    Neuron ids: motor ``0 .. M-1``, then command, then inter neurons. Layers (sensory side
    first): inter, command, motor.

    :param inter_neurons: number of inter neurons (layer 1), >= 1.
    :param command_neurons: number of command neurons (layer 2), >= 1.
    :param motor_neurons: number of motor neurons (outputs), >= 1.
    :param sensory_fanout: synapses from each input to inter neurons, in ``[1, inter_neurons]``.
    :param inter_fanout: synapses from each inter neuron to command neurons, in ``[1, command_neurons]``.
    :param recurrent_command_synapses: recurrent synapses drawn among command neurons, >= 0.
    :param motor_fanin: synapses from command neurons into each motor neuron, in ``[1, command_neurons]``.
    :param seed: seed of the draws.
    :param input_size: number of inputs to build for (``None``: build later with :meth:`build`).
    """

    kind: ClassVar[str] = "NCP"

    def __init__(
        self,
        inter_neurons: int,
        command_neurons: int,
        motor_neurons: int,
        sensory_fanout: int,
        inter_fanout: int,
        recurrent_command_synapses: int,
        motor_fanin: int,
        seed: int = 22222,
        input_size: int | None = None,
    ) -> None:
        self.inter_neurons = check_int("inter_neurons", inter_neurons, 1)
        self.command_neurons = check_int("command_neurons", command_neurons, 1)
        self.motor_neurons = check_int("motor_neurons", motor_neurons, 1)
        self.sensory_fanout = check_int("sensory_fanout", sensory_fanout, 1, self.inter_neurons)
        self.inter_fanout = check_int("inter_fanout", inter_fanout, 1, self.command_neurons)
        self.recurrent_command_synapses = check_int(
            "recurrent_command_synapses", recurrent_command_synapses, 0
        )
        self.motor_fanin = check_int("motor_fanin", motor_fanin, 1, self.command_neurons)
        self.seed = check_int("seed", seed, 0, 2**32 - 1)
        motor = list(range(self.motor_neurons))
        command = list(range(self.motor_neurons, self.motor_neurons + self.command_neurons))
        units = self.motor_neurons + self.command_neurons + self.inter_neurons
        inter = list(range(self.motor_neurons + self.command_neurons, units))
        adjacency = np.zeros((units, units), dtype=np.int32)
        sensory = None
        if input_size is not None:
            input_size = check_int("input_size", input_size, 1)
            sensory = np.zeros((input_size, units), dtype=np.int32)
            self._generate(np.random.RandomState(self.seed), adjacency, sensory, inter, command, motor)
        self._init(adjacency, sensory, self.motor_neurons, (tuple(inter), tuple(command), tuple(motor)))

    def _generate(
        self,
        rng: np.random.RandomState,
        adjacency: np.ndarray,
        sensory: np.ndarray,
        inter: list[int],
        command: list[int],
        motor: list[int],
    ) -> None:
        """Draw all synapses in the order ncps draws them (same RNG calls, same results)."""
        inputs = list(range(sensory.shape[0]))
        # sensory -> inter: each input reaches sensory_fanout inter neurons
        _fan_out(rng, sensory, inputs, inter, self.sensory_fanout, fanin_max=len(inputs))
        # inter -> command (ncps bounds the fan-in of unreached command neurons by their count)
        _fan_out(rng, adjacency, inter, command, self.inter_fanout, fanin_max=len(command))
        # recurrent command synapses
        for _ in range(self.recurrent_command_synapses):
            src = rng.choice(command)
            dest = rng.choice(command)
            adjacency[src, dest] = rng.choice([-1, 1])
        # command -> motor: each motor neuron gets motor_fanin command neurons
        unreached = list(command)
        for dest in motor:
            for src in rng.choice(command, size=self.motor_fanin, replace=False):
                if src in unreached:
                    unreached.remove(src)
                adjacency[src, dest] = rng.choice([-1, 1])
        fanout = int(np.clip(int(len(motor) * self.motor_fanin / len(command)), 1, len(motor)))
        for src in unreached:
            for dest in rng.choice(motor, size=fanout, replace=False):
                adjacency[src, dest] = rng.choice([-1, 1])

    def _with_input_size(self, input_size: int) -> Wiring:
        args = self.to_dict()
        args.pop("kind")
        args["input_size"] = input_size
        return NCP(**args)

    def to_dict(self) -> dict[str, Any]:
        """:return: the constructor arguments (JSON-serialisable) with ``kind``."""
        return {
            "kind": self.kind,
            "inter_neurons": self.inter_neurons,
            "command_neurons": self.command_neurons,
            "motor_neurons": self.motor_neurons,
            "sensory_fanout": self.sensory_fanout,
            "inter_fanout": self.inter_fanout,
            "recurrent_command_synapses": self.recurrent_command_synapses,
            "motor_fanin": self.motor_fanin,
            "seed": self.seed,
            "input_size": self.input_size,
        }


def _fan_out(
    rng: np.random.RandomState,
    matrix: np.ndarray,
    sources: list[int],
    targets: list[int],
    fanout: int,
    fanin_max: int,
) -> None:
    """Connect each source to ``fanout`` distinct targets, then give every unreached target
    inputs from a mean number of sources (ncps' draw order).

    ``matrix`` is indexed ``[source, target]`` with the ids as given.
    """
    unreached = list(targets)
    for src in sources:
        for dest in rng.choice(targets, size=fanout, replace=False):
            if dest in unreached:
                unreached.remove(dest)
            matrix[src, dest] = rng.choice([-1, 1])
    fanin = int(np.clip(int(len(sources) * fanout / len(targets)), 1, fanin_max))
    for dest in unreached:
        for src in rng.choice(sources, size=fanin, replace=False):
            matrix[src, dest] = rng.choice([-1, 1])
