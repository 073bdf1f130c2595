"""The neurons of a liquid policy beside its episode: activity by layer, and the motor history.

:class:`NeuronProbe` reads what the network of a trained policy sees and does at each step:
its sensory inputs (the observation after the policy's normalisation and features
extractor: :meth:`~ncp_control.export.OneStepPolicy.features`) and its neuron states (the first
``N`` entries of the recurrent state that ``predict`` returns). :class:`NeuronPanel` draws them
as the wiring drawing lays the network out (:func:`ncp_control.wirings.draw.layered_positions`:
sensory -> inter -> command -> motor, left to right), each node coloured by its activity
relative to the largest seen so far in its layer (blue negative, white zero, red positive), the
sensory nodes named after the observation's entries where the environment names them, and
below, the motor neurons over the last steps.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import torch as th
from ncp_control.agents.watch.overlay import DIM_COLOUR, HEADER_COLOUR, TEXT_COLOUR, fit, font

from ncp_control.analysis.structure import neuron_count, neuron_groups, wiring_of
from ncp_control.export import OneStepPolicy
from ncp_control.sequence import LiquidRNN
from ncp_control.wirings.draw import layered_positions

#: pixels of the neuron panel's width
PANEL_WIDTH = 380
#: the neuron panel's least height (a shorter environment frame is padded below)
MIN_HEIGHT = 340
#: pixels of the motor history plot at the bottom
HISTORY_HEIGHT = 80
#: steps of motor history shown
HISTORY_STEPS = 100
#: pixels left of the graph for the sensory names
LABEL_WIDTH = 86
SMALL_FONT = 10
#: line colours of the motor neurons in the history plot
MOTOR_COLOURS = ((255, 160, 60), (90, 180, 255), (120, 220, 120), (230, 110, 200), (240, 230, 90), (170, 170, 255))


@lru_cache(maxsize=1)
def activity_colours() -> np.ndarray:
    """:return: ``uint8 [256, 3]``, matplotlib's ``coolwarm`` (blue, white, red)."""
    import matplotlib

    return (matplotlib.colormaps["coolwarm"](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)


def activity_colour(value: float) -> tuple[int, int, int]:
    """:param value: an activity. :return: its colour: ``coolwarm`` at ``(1 + tanh(value)) / 2``."""
    index = int(round((np.tanh(value) + 1.0) * 127.5))
    red, green, blue = activity_colours()[min(max(index, 0), 255)]
    return int(red), int(green), int(blue)


class NeuronProbe:
    """Reads a liquid policy's sensory inputs and neuron states.

    :param module: the policy's one-step actor (:func:`ncp_control.agents.export.model_onestep`),
        with a liquid network inside.
    :param observation_names: the names of the observation's entries, used for the sensory
        inputs when they are as many (a features extractor such as a CNN has its own features).
    """

    def __init__(self, module: OneStepPolicy, observation_names: Sequence[str] | None = None) -> None:
        network = module.network
        if not isinstance(network, LiquidRNN):
            raise TypeError(f"a neuron probe needs a liquid network, got {type(network).__name__}")
        self.module = module.eval()
        self.network = network
        self.wiring = wiring_of(network)
        #: N, the neurons (the first N entries of the actor's state)
        self.neurons_count = neuron_count(network)
        self.groups = neuron_groups(self.wiring, self.neurons_count)
        #: F, the sensory inputs
        self.inputs_count = int(getattr(network, "input_size", 0)) or int(self._features(np.zeros(module.obs_shape)).size)
        names = list(observation_names or [])
        self.input_names = names if len(names) == self.inputs_count else [f"feature {i}" for i in range(self.inputs_count)]

    def _features(self, observation: Any) -> np.ndarray:
        with th.no_grad():
            batch = th.as_tensor(np.asarray(observation)[None])
            return self.module.features(batch)[0].numpy()

    def inputs(self, observation: Any) -> np.ndarray:
        """:param observation: one raw observation. :return: ``[F]`` what the network reads from it."""
        return self._features(observation)

    def neurons(self, state: np.ndarray) -> np.ndarray:
        """:param state: the policy's state ``[1, S]`` after a step. :return: ``[N]`` neuron states."""
        return np.asarray(state, dtype=np.float64).reshape(1, -1)[0, : self.neurons_count]

    def motor(self, neurons: np.ndarray) -> np.ndarray:
        """:param neurons: ``[N]``. :return: the motor neurons' states."""
        return np.asarray(neurons)[self.groups.get("motor", [])]


class NeuronPanel:
    """Draws a probe's activity, one frame per step, at a fixed size.

    :param probe: the policy's probe, or None for a policy without a liquid network (the panel
        then says so, keeping the video's layout).
    :param height: pixels (the environment frame's, with its overlay).
    :param width: pixels.
    :param history: steps of motor history plotted.
    :param note: what to write on an empty panel.
    """

    def __init__(self, probe: NeuronProbe | None, height: int, width: int = PANEL_WIDTH, history: int = HISTORY_STEPS,
                 note: str = "no liquid network") -> None:
        self.probe = probe
        self.height, self.width = int(height), int(width)
        self.history: deque[np.ndarray] = deque(maxlen=history)
        self.note = note
        self._nodes: dict[str, tuple[int, int]] = {}
        self._radius = 3
        #: the largest absolute activity seen so far, per column (the colour scale)
        self._scales: dict[int, float] = {}
        self._columns: list[list[str]] = []
        self._background = self._draw_background()

    def reset(self) -> None:
        """Forget the motor history and the colour scales (a new episode)."""
        self.history.clear()
        self._scales.clear()

    def _graph_box(self) -> tuple[int, int, int, int]:
        """:return: ``(left, top, right, bottom)`` of the graph's area."""
        return LABEL_WIDTH, 22, self.width - 14, self.height - HISTORY_HEIGHT - 16

    def _draw_background(self) -> Any:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (self.width, self.height), HEADER_COLOUR)
        draw = ImageDraw.Draw(image)
        if self.probe is None:
            draw.text((10, 10), fit(self.note, self.width - 20), font=font(), fill=DIM_COLOUR)
            return image
        probe = self.probe
        left, top, right, bottom = self._graph_box()
        positions = layered_positions(probe.wiring, probe.inputs_count, probe.neurons_count)
        self._nodes = {node: (int(left + x * (right - left)), int(bottom - y * (bottom - top)))
                       for node, (x, y) in positions.items()}
        tallest = max(probe.inputs_count, *(len(layer) for layer in self._layers()))
        self._radius = int(min(6, max(2, 0.38 * (bottom - top) / max(tallest, 1))))
        if probe.wiring is not None:
            for matrix, prefix in ((probe.wiring.sensory_adjacency_matrix, "sensory_"), (probe.wiring.adjacency_matrix, "neuron_")):
                for source, target in zip(*np.nonzero(matrix)):
                    colour = (48, 84, 58) if matrix[source, target] > 0 else (92, 52, 56)
                    draw.line([self._nodes[f"{prefix}{source}"], self._nodes[f"neuron_{target}"]], fill=colour, width=1)
        self._columns = [[f"sensory_{i}" for i in range(probe.inputs_count)]]
        self._columns += [[f"neuron_{i}" for i in layer] for layer in self._layers()]
        small = font(SMALL_FONT)
        for title, x in self._column_titles():
            width = small.getlength(title)
            draw.text((min(max(x - width / 2, 2), self.width - width - 2), 4), title, font=small, fill=TEXT_COLOUR)
        spacing = (bottom - top) / max(probe.inputs_count, 1)
        every = max(1, int(np.ceil(11 / max(spacing, 1e-9))))  # a label per 11 pixels at most
        for i, name in enumerate(probe.input_names):
            if i % every:
                continue
            x, y = self._nodes[f"sensory_{i}"]
            label = fit(name, LABEL_WIDTH - 12, SMALL_FONT)
            draw.text((x - self._radius - 4 - small.getlength(label), y - 6), label, font=small, fill=DIM_COLOUR)
        plot_top = self.height - HISTORY_HEIGHT - 4
        draw.text((8, plot_top - 12), f"motor neurons, last {self.history.maxlen} steps", font=small, fill=TEXT_COLOUR)
        draw.rectangle((8, plot_top + 2, self.width - 8, self.height - 6), outline=(90, 92, 104))
        middle = (plot_top + 2 + self.height - 6) // 2
        draw.line([(9, middle), (self.width - 9, middle)], fill=(70, 72, 84))
        return image

    def _layers(self) -> list[list[int]]:
        probe = self.probe
        assert probe is not None
        if probe.wiring is not None:
            return [list(layer) for layer in probe.wiring.layers]
        return [list(range(probe.neurons_count))]

    def _column_titles(self) -> list[tuple[str, int]]:
        probe = self.probe
        assert probe is not None
        wiring = probe.wiring
        titles = [("sensory", self._nodes["sensory_0"][0])] if probe.inputs_count else []
        for layer in self._layers():
            kinds = {wiring.get_type_of_neuron(i) for i in layer} if wiring is not None else {"neurons"}
            titles.append(("/".join(sorted(kinds)), self._nodes[f"neuron_{layer[0]}"][0]))
        return titles

    def draw(self, inputs: np.ndarray | None, neurons: np.ndarray | None) -> np.ndarray:
        """One frame of the panel.

        :param inputs: ``[F]`` sensory inputs of the step (None: no probe).
        :param neurons: ``[N]`` neuron states after the step.
        :return: ``uint8 [height, width, 3]``.
        """
        from PIL import ImageDraw

        image = self._background.copy()
        if self.probe is None or inputs is None or neurons is None:
            return np.asarray(image)
        draw = ImageDraw.Draw(image)
        r = self._radius
        values = {f"sensory_{i}": v for i, v in enumerate(np.asarray(inputs, dtype=np.float64).reshape(-1))}
        values.update({f"neuron_{i}": v for i, v in enumerate(np.asarray(neurons, dtype=np.float64).reshape(-1))})
        for column, nodes in enumerate(self._columns):
            peak = max(abs(values[node]) for node in nodes) if nodes else 0.0
            scale = self._scales[column] = max(self._scales.get(column, 1e-6), peak)
            for node in nodes:
                x, y = self._nodes[node]
                draw.ellipse((x - r, y - r, x + r, y + r), fill=activity_colour(2.0 * values[node] / scale),
                             outline=(20, 20, 20))
        self.history.append(self.probe.motor(neurons))
        self._draw_history(draw)
        return np.asarray(image)

    def _draw_history(self, draw: Any) -> None:
        top, bottom = self.height - HISTORY_HEIGHT - 2, self.height - 6
        left, right = 9, self.width - 9
        steps = self.history.maxlen or 1
        values = np.array(self.history)
        if values.ndim != 2 or values.shape[0] < 2:
            return
        scale = max(1.0, float(np.abs(values).max()))
        xs = right - (values.shape[0] - 1 - np.arange(values.shape[0])) * (right - left) / max(steps - 1, 1)
        for column in range(values.shape[1]):
            ys = (top + bottom) / 2 - values[:, column] / scale * (bottom - top - 4) / 2
            draw.line(list(zip(xs.tolist(), ys.tolist())), fill=MOTOR_COLOURS[column % len(MOTOR_COLOURS)], width=1)


def neuron_probe(model: Any, env: Any) -> NeuronProbe | None:
    """The probe of a trained model, if it acts through a liquid network.

    :param model: a trained LiquidPPO model (anything else: None).
    :param env: its environment (for the observation's layout and names).
    :return: the probe, or None for a model without a liquid network (MLP, LSTM, other algorithms).
    """
    from ncp_control.agents.export import model_onestep
    from ncp_control.agents.policies import RecurrentSequencePolicy
    from ncp_control.envs.names import observation_names

    policy = getattr(model, "policy", None)
    if not isinstance(policy, RecurrentSequencePolicy) or not isinstance(policy.actor_net, LiquidRNN):
        return None
    return NeuronProbe(model_onestep(model, env_observation_space=env.observation_space), observation_names(env))
