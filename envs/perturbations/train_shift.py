"""Training under shift (domain randomisation): a perturbation and a level drawn per episode.

``--train-shift SUITE_OR_NAME[:MAX_LEVEL]`` names a suite (every perturbation of it) or one
perturbation, and the largest level to draw (default 1.0). :class:`ShiftRandomization` wraps a
training env: at every reset it draws one perturbation among those of its shifts that the env
supports, and a level uniform in ``[0, MAX_LEVEL]`` of that perturbation's shift, from its own
generator seeded by the env's seed, then runs the episode under it (``info["train_shift"]``
says which). :func:`seen_in_training` tells an evaluation which cells were in the training
distribution.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.perturbations.base import Perturbation
from ncp_control.envs.perturbations.registry import PERTURBATIONS, make, split_level
from ncp_control.envs.perturbations.suites import SUITES, supported

from ncp_control.errors import UserError

#: The command-line option and config key of training shifts (named in errors).
OPTION = "--train-shift"


@dataclass(frozen=True)
class TrainShift:
    """One training shift: a suite or perturbation name and the largest level drawn.

    :param name: a suite name or a perturbation name.
    :param max_level: the largest level, in ``(0, 1]``.
    """

    name: str
    max_level: float = 1.0

    @property
    def perturbations(self) -> tuple[str, ...]:
        """:return: the perturbations it draws from (a suite's members, or the one named)."""
        if self.name in SUITES:
            return tuple(perturbation for perturbation, _ in SUITES[self.name])
        return (self.name,)

    def __str__(self) -> str:
        return f"{self.name}:{self.max_level:g}"


def parse_train_shift(text: Any) -> TrainShift:
    """Read ``SUITE_OR_NAME[:MAX_LEVEL]``.

    :param text: e.g. ``"timing"``, ``"dt_jitter:0.5"`` (or a :class:`TrainShift`).
    :return: the shift.
    :raises UserError: naming ``--train-shift`` for an unknown name or a level outside ``(0, 1]``.
    """
    if isinstance(text, TrainShift):
        return text
    name, level = split_level(text, OPTION, "SUITE_OR_NAME[:MAX_LEVEL]")
    if name not in SUITES and name not in PERTURBATIONS:
        raise UserError(f"{OPTION} {text}: unknown suite or perturbation {name!r}; suites: {sorted(SUITES)}, "
                        f"perturbations: {sorted(PERTURBATIONS)}")
    level = 1.0 if level is None else level
    if not 0.0 < level <= 1.0:
        raise UserError(f"{OPTION} {text}: MAX_LEVEL must be in (0, 1], got {level:g}")
    return TrainShift(name, level)


def parse_train_shifts(items: Any) -> list[TrainShift]:
    """:param items: a list of shifts (strings or :class:`TrainShift`), or None.
    :return: the parsed shifts.
    :raises UserError: for anything but a list of valid shifts."""
    if items is None:
        return []
    if isinstance(items, (str, TrainShift)) or not isinstance(items, Sequence):
        raise UserError(f"train_shift must be a list of SUITE_OR_NAME[:MAX_LEVEL], got {items!r}")
    return [parse_train_shift(item) for item in items]


def seen_in_training(shifts: Sequence[TrainShift], perturbation: str, level: float) -> bool:
    """Whether a cell was in the training distribution.

    :param shifts: the model's training shifts (empty: trained on the nominal env).
    :param perturbation: the cell's perturbation (``"none"``: the clean env).
    :param level: its level.
    :return: True for the clean env, and for a perturbation of a shift at a level up to its max.
    """
    if perturbation == "none" or level == 0.0:
        return True
    return any(perturbation in shift.perturbations and level <= shift.max_level + 1e-12 for shift in shifts)


class ShiftRandomization(gym.Wrapper):
    """Runs each episode under a perturbation and level drawn at reset.

    :param env: the training env.
    :param shifts: the shifts (``"timing:0.5"`` strings or :class:`TrainShift`).
    :raises UserError: when the env supports none of the shifts' perturbations, or one changes
        the observation or action space (it could not be drawn per episode).
    """

    def __init__(self, env: gym.Env, shifts: Sequence[TrainShift | str]) -> None:
        super().__init__(env)
        self.shifts = parse_train_shifts(list(shifts))
        choices: dict[str, float] = {}
        for shift in self.shifts:
            for perturbation in shift.perturbations:
                if supported(env, perturbation):
                    choices[perturbation] = max(choices.get(perturbation, 0.0), shift.max_level)
        if not choices:
            raise UserError(f"{OPTION} {', '.join(map(str, self.shifts))}: the env supports none of these "
                            "perturbations")
        for perturbation, level in choices.items():
            probe = make(env, perturbation, level)
            if probe.observation_space != env.observation_space or probe.action_space != env.action_space:
                raise UserError(f"{OPTION}: {perturbation} changes the env's spaces, so it cannot be drawn per episode")
        #: ``(perturbation, max_level)`` pairs drawn from, in a fixed order.
        self.choices: tuple[tuple[str, float], ...] = tuple(sorted(choices.items()))
        self._rng = np.random.default_rng()
        self._stream = zlib.crc32(b"train_shift")
        self._active: Perturbation | None = None

    def _draw(self) -> Perturbation:
        name, max_level = self.choices[int(self._rng.integers(len(self.choices)))]
        level = float(self._rng.uniform(0.0, max_level))
        active = make(self.env, name, level)
        active.np_random_perturbation = np.random.default_rng(int(self._rng.integers(2**63)))
        return active

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Undo the last episode's perturbation, draw the next one, reset under it.

        :param seed: the env's seed (also seeds the draws).
        :param options: reset options.
        :return: observation and info (``info["train_shift"]``: the perturbation and level).
        """
        if seed is not None:
            self._rng = np.random.default_rng([int(seed), self._stream])
        if self._active is not None and self._active.active:
            self._active._restore()
        self._active = self._draw()
        obs, info = self._active.reset(seed=seed, options=options)
        info["train_shift"] = {"perturbation": self._active.name, "level": self._active.level}
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Step under the episode's perturbation."""
        if self._active is None:
            raise RuntimeError("call reset() before step()")
        return self._active.step(action)

    def close(self) -> None:
        """Undo the perturbation, then close the env."""
        if self._active is not None and self._active.active:
            self._active._restore()
        self.env.close()
