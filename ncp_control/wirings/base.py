"""The :class:`Wiring` base class: an immutable adjacency with polarity over neurons.

A wiring has ``units`` neurons (ids ``0 .. units-1``) and ``input_size`` sensory inputs.
``adjacency_matrix[src, dest]`` and ``sensory_adjacency_matrix[input, dest]`` hold +1
(excitatory), -1 (inhibitory) or 0 (no synapse). Motor (output) neurons are the ids
``0 .. output_size-1``. Neurons are grouped into layers, listed from the sensory side to the
motor side; wired cells (e.g. the wired CfC) use that grouping.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from ncp_control.errors import UserError

#: wiring kinds by name, filled by the subclasses (for :meth:`Wiring.from_dict`)
_KINDS: dict[str, type[Wiring]] = {}


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """Validate an integer argument.

    :param name: the argument's name (used in the error message).
    :param value: the value to check.
    :param low: smallest allowed value.
    :param high: largest allowed value (``None``: unbounded).
    :return: ``value`` as an ``int``.
    :raises ValueError: if ``value`` is not an integer in ``[low, high]``.
    """
    allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UserError(f"{name} must be an integer {allowed}, got {value!r}")
    if value < low or (high is not None and value > high):
        raise UserError(f"{name} must be an integer in {allowed}, got {value}")
    return int(value)


def check_sparsity(name: str, value: Any) -> float:
    """Validate a sparsity level in ``[0, 1)``.

    :param name: the argument's name.
    :param value: the value to check.
    :return: ``value`` as a float.
    :raises ValueError: if ``value`` is not a number in ``[0, 1)``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise UserError(f"{name} must be a number in [0, 1), got {value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise UserError(f"{name} must be in [0, 1), got {value}")
    return float(value)


def _polarity_matrix(name: str, matrix: Any, shape: tuple[int, int] | None = None) -> np.ndarray:
    array = np.asarray(matrix)
    if array.ndim != 2:
        raise UserError(f"{name} must be a 2-D matrix, got shape {array.shape}")
    if shape is not None and array.shape != shape:
        raise UserError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.isin(array, (-1, 0, 1)).all():
        raise UserError(f"{name} entries must be -1, 0 or +1")
    out = array.astype(np.int32)
    out.flags.writeable = False
    return out


class Wiring:
    """A wiring given by its adjacency matrices (any connectivity with polarity).

    Subclasses (:class:`FullyConnected`, :class:`Random`, :class:`NCP`, :class:`AutoNCP`)
    generate the matrices from a seed, as ``ncps.wirings`` does. A wiring is immutable;
    :meth:`build` returns a new, built wiring.

    :param adjacency_matrix: ``[units, units]`` polarities (+1, -1, 0) between neurons.
    :param sensory_adjacency_matrix: ``[input_size, units]`` polarities from the inputs, or
        ``None`` for a wiring not yet built for an input size.
    :param output_size: number of motor neurons (ids ``0 .. output_size-1``); default all.
    :param layers: neuron ids of each layer, sensory side first; default one layer of all
        neurons. Layers must partition the neurons.
    """

    kind: ClassVar[str] = "Wiring"
    _frozen: bool = False

    def __init__(
        self,
        adjacency_matrix: Any,
        sensory_adjacency_matrix: Any = None,
        output_size: int | None = None,
        layers: Sequence[Sequence[int]] | None = None,
    ) -> None:
        adjacency = _polarity_matrix("adjacency_matrix", adjacency_matrix)
        units = adjacency.shape[0]
        if adjacency.shape != (units, units) or units < 1:
            raise UserError(
                f"adjacency_matrix must be square [units, units] with units >= 1, got {adjacency.shape}"
            )
        sensory = None
        if sensory_adjacency_matrix is not None:
            sensory = _polarity_matrix("sensory_adjacency_matrix", sensory_adjacency_matrix)
            if sensory.shape[1] != units or sensory.shape[0] < 1:
                raise UserError(
                    f"sensory_adjacency_matrix must have shape [input_size >= 1, {units}], got {sensory.shape}"
                )
        out = units if output_size is None else check_int("output_size", output_size, 1, units)
        if layers is None:
            layer_tuple: tuple[tuple[int, ...], ...] = (tuple(range(units)),)
        else:
            layer_tuple = tuple(tuple(int(i) for i in layer) for layer in layers)
            flat = sorted(i for layer in layer_tuple for i in layer)
            if flat != list(range(units)) or any(len(layer) == 0 for layer in layer_tuple):
                raise UserError(f"layers must be non-empty and partition the neuron ids 0..{units - 1}")
        self._init(adjacency, sensory, out, layer_tuple)

    def _init(
        self,
        adjacency: np.ndarray,
        sensory: np.ndarray | None,
        output_size: int,
        layers: tuple[tuple[int, ...], ...],
    ) -> None:
        adjacency.flags.writeable = False
        if sensory is not None:
            sensory.flags.writeable = False
        self._units = adjacency.shape[0]
        self._adjacency = adjacency
        self._sensory = sensory
        self._output_size = output_size
        self._layers = layers
        self._frozen = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self._frozen:
            raise AttributeError(f"{type(self).__name__} is immutable; build a new wiring instead")
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ sizes
    @property
    def units(self) -> int:
        """Number of neurons."""
        return self._units

    @property
    def input_size(self) -> int | None:
        """Number of sensory inputs, or ``None`` if not built."""
        return None if self._sensory is None else int(self._sensory.shape[0])

    @property
    def input_dim(self) -> int | None:
        """Alias of :attr:`input_size` (ncps' name)."""
        return self.input_size

    @property
    def output_size(self) -> int:
        """Number of motor neurons (ids ``0 .. output_size-1``)."""
        return self._output_size

    @property
    def output_dim(self) -> int:
        """Alias of :attr:`output_size` (ncps' name)."""
        return self._output_size

    def is_built(self) -> bool:
        """:return: whether the wiring has its sensory synapses (an input size)."""
        return self._sensory is not None

    # ------------------------------------------------------------ structure
    def _require_built(self) -> np.ndarray:
        if self._sensory is None:
            raise UserError(
                f"{type(self).__name__} is not built for an input size: pass input_size= or call build(input_size)"
            )
        return self._sensory

    @property
    def adjacency_matrix(self) -> np.ndarray:
        """``[units, units]`` read-only int32 polarities, ``[src, dest]``."""
        self._require_built()
        return self._adjacency

    @property
    def sensory_adjacency_matrix(self) -> np.ndarray:
        """``[input_size, units]`` read-only int32 polarities, ``[input, dest]``."""
        return self._require_built()

    @property
    def synapse_count(self) -> int:
        """Number of synapses between neurons."""
        return int(np.count_nonzero(self.adjacency_matrix))

    @property
    def sensory_synapse_count(self) -> int:
        """Number of synapses from the inputs to the neurons."""
        return int(np.count_nonzero(self._require_built()))

    @property
    def num_layers(self) -> int:
        """Number of neuron layers."""
        return len(self._layers)

    @property
    def layers(self) -> tuple[tuple[int, ...], ...]:
        """Neuron ids of each layer, from the sensory side to the motor side."""
        return self._layers

    def get_neurons_of_layer(self, layer_id: int) -> list[int]:
        """:param layer_id: layer index, 0 = sensory side.
        :return: the neuron ids of that layer."""
        check_int("layer_id", layer_id, 0, self.num_layers - 1)
        return list(self._layers[layer_id])

    def get_type_of_neuron(self, neuron_id: int) -> str:
        """:param neuron_id: a neuron id.
        :return: ``"motor"``, ``"command"`` (middle layer of a three-layer wiring) or ``"inter"``."""
        check_int("neuron_id", neuron_id, 0, self._units - 1)
        if neuron_id < self._output_size:
            return "motor"
        if self.num_layers == 3 and neuron_id in self._layers[1]:
            return "command"
        return "inter"

    def erev_initializer(self) -> np.ndarray:
        """:return: a writable copy of the adjacency (reversal-potential signs)."""
        return np.array(self.adjacency_matrix)

    def sensory_erev_initializer(self) -> np.ndarray:
        """:return: a writable copy of the sensory adjacency."""
        return np.array(self._require_built())

    # ----------------------------------------------------------------- build
    def build(self, input_size: int) -> Wiring:
        """Return this wiring built for ``input_size`` inputs (``self`` if already so).

        :param input_size: number of sensory inputs.
        :return: a built wiring.
        :raises ValueError: if the wiring is built for another input size.
        """
        input_size = check_int("input_size", input_size, 1)
        if self.input_size is not None:
            if self.input_size != input_size:
                raise UserError(
                    f"wiring is built for input_size={self.input_size}, got input_size={input_size}"
                )
            return self
        return self._with_input_size(input_size)

    def _with_input_size(self, input_size: int) -> Wiring:
        raise UserError("a plain Wiring needs its sensory_adjacency_matrix; it cannot generate one")

    # --------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """:return: a JSON-serialisable dict that :meth:`from_dict` turns back into an equal wiring."""
        return {
            "kind": "Wiring",
            "adjacency_matrix": self._adjacency.tolist(),
            "sensory_adjacency_matrix": None if self._sensory is None else self._sensory.tolist(),
            "output_size": self._output_size,
            "layers": [list(layer) for layer in self._layers],
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> Wiring:
        """Rebuild a wiring of any kind from :meth:`to_dict`'s output.

        :param data: the dict.
        :return: the wiring.
        :raises ValueError: on an unknown ``kind``.
        """
        args = dict(data)
        kind = args.pop("kind", None)
        if kind not in _KINDS:
            raise UserError(f"unknown wiring kind {kind!r}; known kinds: {sorted(_KINDS)}")
        return _KINDS[kind](**args)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _KINDS[cls.kind] = cls

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Wiring):
            return NotImplemented
        return json.dumps(self.to_dict(), sort_keys=True) == json.dumps(other.to_dict(), sort_keys=True)

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        args = {k: v for k, v in self.to_dict().items() if k != "kind" and not isinstance(v, list)}
        inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"{type(self).__name__}({inner})" if inner else f"{type(self).__name__}(units={self.units})"

    def summary(self) -> str:
        """:return: a few lines describing neurons, layers and synapse counts."""
        built = self.is_built()
        lines = [
            repr(self),
            f"  neurons: {self.units} ({self.output_size} motor), inputs: {self.input_size if built else 'not built'}",
            "  layers (sensory side first): " + ", ".join(str(len(layer)) for layer in self._layers),
        ]
        if built:
            lines.append(
                f"  synapses: {self.synapse_count} between neurons, {self.sensory_synapse_count} from inputs"
            )
        return "\n".join(lines)

    def draw(self, ax: Any = None, layout: str = "layered", draw_labels: bool = False) -> list[Any]:
        """Draw the wiring with matplotlib (needs the ``draw`` extra: networkx, matplotlib).

        Neurons are coloured by layer type (sensory, inter, command, motor), synapses by
        polarity (green excitatory, red inhibitory).

        :param ax: matplotlib axes (default: the current axes).
        :param layout: ``"layered"`` (sensory -> inter -> command -> motor, left to right), ``"shell"``,
            ``"circular"``, ``"spring"``, ``"kamada"``, ``"spectral"``, ``"random"``.
        :param draw_labels: whether to print node names.
        :return: legend handles, one per neuron type and polarity.
        """
        from ncp_control.wirings.draw import draw_wiring

        return draw_wiring(self, ax=ax, layout=layout, draw_labels=draw_labels)


_KINDS["Wiring"] = Wiring
