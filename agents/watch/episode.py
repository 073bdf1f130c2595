"""Watch policies drive: one seeded episode per policy, side by side in one video.

:func:`watch` runs every policy on the same seed and the same perturbations, in lock-step
(:func:`~ncp_control.agents.common.evaluation.run_episodes`), renders each episode's frames with
an overlay (:mod:`~ncp_control.agents.watch.overlay`) and, with ``neurons``, the network's
activity beside it (:mod:`~ncp_control.agents.watch.neurons`), and writes them side by side
(:class:`~ncp_control.agents.watch.compose.SideBySide`) at the environment's real time
(:mod:`~ncp_control.agents.watch.video`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.agents.common.eval_policies import EvalPolicy, ModelPolicy, PerEpisodePolicies
from ncp_control.agents.common.evaluation import (
    CRASH_KEYS,
    SUCCESS_KEYS,
    EpisodeWatch,
    Watches,
    info_number,
    run_episodes,
)
from ncp_control.agents.watch.compose import MAX_WIDTH, SideBySide
from ncp_control.agents.watch.neurons import MIN_HEIGHT, NeuronPanel, NeuronProbe
from ncp_control.agents.watch.overlay import Moment, with_header
from ncp_control.agents.watch.video import VideoWriter, frame_period, video_kind
from ncp_control.envs.period import nominal_period

from ncp_control.errors import UserError


@dataclass
class Panel:
    """One policy of a side-by-side video.

    :param name: shown above its panel.
    :param policy: the policy.
    :param make: builds its environment (rendering ``rgb_array`` frames; perturbations applied).
    :param probe: reads its network's neurons (for ``neurons``; None: no liquid network).
    """

    name: str
    policy: EvalPolicy
    make: Callable[[], gym.Env]
    probe: NeuronProbe | None = None


def ending(info: dict[str, Any]) -> str:
    """:param info: the last step's info (read with the evaluation's crash and success keys).
    :return: ``"crash"``, ``"success"`` or ``"end"`` (neither: a time limit, a step cap, a task's own end)."""
    if info_number(info, CRASH_KEYS) == 1.0:
        return "crash"
    if info_number(info, SUCCESS_KEYS) == 1.0:
        return "success"
    return "end"


class _Recorder(EpisodeWatch):
    """Renders each step of each panel's episode into the side-by-side video."""

    def __init__(self, panels: Sequence[Panel], board: SideBySide, neurons: bool) -> None:
        self.panels = list(panels)
        self.board = board
        self.neurons = neurons
        #: every frame's numbers, per panel (what the overlays say)
        self.moments: list[list[Moment]] = [[] for _ in panels]
        self._observations: list[Any] = [None] * len(panels)
        self._boards: list[NeuronPanel | None] = [None] * len(panels)

    def _frame(self, index: int, env: gym.Env, moment: Moment, inputs: np.ndarray | None,
               neurons: np.ndarray | None) -> None:
        picture = env.render()
        if picture is None:
            raise UserError(f"{self.panels[index].name}: the environment renders no rgb_array frames")
        image = with_header(np.asarray(picture, dtype=np.uint8), moment)
        if self.neurons:
            if self._boards[index] is None:
                probe = self.panels[index].probe
                self._boards[index] = NeuronPanel(probe, max(image.shape[0], MIN_HEIGHT))
            board = self._boards[index]
            assert board is not None
            image = np.pad(image, ((0, board.height - image.shape[0]), (0, 0), (0, 0)))
            image = np.concatenate([image, board.draw(inputs, neurons)], axis=1)
        self.moments[index].append(moment)
        self.board.add(index, moment.time, image)

    def reset(self, index: int, env: gym.Env, observation: Any, info: dict[str, Any]) -> None:
        self._observations[index] = observation
        probe = self.panels[index].probe
        inputs = probe.inputs(observation) if probe is not None and self.neurons else None
        neurons = np.zeros(probe.neurons_count) if probe is not None else None
        moment = Moment(self.panels[index].name, 0, 0.0, 0.0, None, tuple(info.get("perturbation") or ()))
        self._frame(index, env, moment, inputs, neurons)

    def step(self, index: int, env: gym.Env, action: np.ndarray, observation: Any, reward: float,
             info: dict[str, Any], done: bool) -> None:
        last = self.moments[index][-1]
        probe = self.panels[index].probe
        inputs = neurons = None
        if probe is not None and self.neurons:
            inputs = probe.inputs(self._observations[index])  # what the action was computed from
            policy = self.panels[index].policy
            neurons = probe.neurons(policy.state) if isinstance(policy, ModelPolicy) else None
        status = ending(info) if done else ""
        moment = Moment(last.name, last.step + 1, last.time + float(info.get("dt", 0.0)), last.total + reward,
                        np.asarray(action), tuple(info.get("perturbation") or ()), status)
        self._observations[index] = observation
        self._frame(index, env, moment, inputs, neurons)
        if done:
            self.board.end(index)


@dataclass
class Watched:
    """What :func:`watch` wrote and measured.

    :param path: the video (or the folder of frames).
    :param rows: one row per panel (as :func:`~ncp_control.agents.common.evaluation.run_episodes`).
    :param moments: every frame's overlay numbers, per panel.
    :param frames: video frames written.
    :param period: seconds per video frame.
    :param layout: ``(rows, columns)`` of the panels.
    """

    path: Path
    rows: list[dict[str, Any]]
    moments: list[list[Moment]]
    frames: int
    period: float
    layout: tuple[int, int]


def video_period(make: Callable[[], gym.Env], kind: str) -> float:
    """:param make: builds the environment. :param kind: ``"mp4"``, ``"gif"`` or ``"frames"``.
    :return: seconds per video frame: from the nominal control period, else from ``render_fps``."""
    env = make()
    try:
        period = nominal_period(env)
        if period is None:
            fps = (env.metadata or {}).get("render_fps")
            if not fps:
                raise UserError(f"{env.spec.id if env.spec else type(env).__name__} states no control period "
                                "(nominal_dt, dt or tau) and no render_fps: its video has no real time")
            period = 1.0 / float(fps)
    finally:
        env.close()
    return frame_period(kind, period)


def watch(panels: Sequence[Panel], seed: int, target: str | Path, max_steps: int | None = None,
          neurons: bool = False, progress: EpisodeWatch | None = None, max_width: int = MAX_WIDTH) -> Watched:
    """Run one episode per panel on ``seed``, side by side in one video at the env's real time.

    :param panels: the policies (with their envs).
    :param seed: the episode seed (the same for every panel: the same road, targets, shifts).
    :param target: ``out.mp4``, ``out.gif`` or a folder for PNG frames.
    :param max_steps: optional cap on the episodes' length.
    :param neurons: draw each liquid network's neurons beside its panel.
    :param progress: also told of every reset and step (e.g. :class:`~ncp_control.agents.progress.EpisodeProgress`).
    :param max_width: widest row of panels (pixels); more panels wrap to further rows.
    :return: the video, the episodes' rows and every overlay's numbers.
    """
    if not panels:
        raise UserError("watch needs at least one policy")
    path = Path(target)
    period = video_period(panels[0].make, video_kind(path))
    with VideoWriter(path, period) as writer:
        board = SideBySide(writer, len(panels), max_width)
        recorder = _Recorder(panels, board, neurons)
        rows = run_episodes(PerEpisodePolicies([p.policy for p in panels]), [p.make for p in panels],
                            [seed] * len(panels), max_steps=max_steps, watch=Watches(recorder, progress))
        board.close()
    assert board.layout is not None
    return Watched(path, rows, recorder.moments, writer.count, period, board.layout)

