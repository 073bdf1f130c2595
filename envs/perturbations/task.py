"""Task shifts for our own tasks: road curvature and cruise speed (lane keeping), target
range, ground texture and distractors (fly to target), palette (season and lighting; both).

They act per episode through the environment's reset options, so they take no schedule:
the shifted task is drawn at every reset and holds for the episode. Options the caller
passes to ``reset`` win over the shift.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
from ncp_control.envs.perturbations.base import Perturbation
from ncp_control.envs.perturbations.schedules import Constant, Schedule


class TaskShift(Perturbation):
    """Base of task shifts: adds reset options computed from the magnitude."""

    family = "task"
    #: attribute of the unwrapped environment that holds the nominal task parameters.
    task_attribute: ClassVar[str] = "task"
    #: the task parameter(s) this shift needs.
    needs: ClassVar[tuple[str, ...]] = ()
    #: whether the shift changes only camera images (refused on other observations, where it would do nothing).
    image_only: ClassVar[bool] = False

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        if not isinstance(self.schedule, Constant):
            raise ValueError(f"task shift {self.name!r} acts per episode and takes no schedule, got {schedule!r}")
        task = getattr(env.unwrapped, self.task_attribute, None)
        if not isinstance(task, dict) or not all(key in task for key in self.needs):
            name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
            raise ValueError(f"task shift {self.name!r} is not available for {name} (needs the task "
                             f"parameter(s) {list(self.needs)}); supported: {self.supports}")
        shape = getattr(env.observation_space, "shape", None)
        if self.image_only and not (shape is not None and len(shape) in (2, 3)):
            name = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
            raise ValueError(f"task shift {self.name!r} changes only camera images and would do nothing on {name}'s "
                             f"observation of shape {shape}; use the camera observation or leave it out "
                             f"(supported: {self.supports})")
        self.nominal = {key: task[key] for key in self.needs}

    def _shifted(self) -> dict[str, Any]:
        """:return: the reset options of the shifted task (magnitude at full strength)."""
        raise NotImplementedError

    def _reset_options(self, options: dict[str, Any] | None) -> dict[str, Any] | None:
        self.magnitude = self.peak_magnitude
        return {**self._shifted(), **(options or {})}


class RoadCurvature(TaskShift):
    """Sharper roads: the largest road curvature doubles at level 1 (+100%)."""

    name = "road_curvature"
    unit = "relative increase of largest curvature"
    default_scale = 1.0
    description = "sharper road curves"
    needs = ("max_curvature",)
    supports = "NCPControl/LaneKeeping-v0"

    def _shifted(self) -> dict[str, Any]:
        return {"max_curvature": min(0.2, float(self.nominal["max_curvature"]) * (1.0 + self.magnitude))}


class Speed(TaskShift):
    """Faster driving: cruise speed +50% at level 1 (15 -> 22.5 m/s), capped at 40 m/s."""

    name = "speed"
    unit = "relative increase of cruise speed"
    default_scale = 0.5
    description = "higher cruise speed"
    needs = ("speed",)
    supports = "NCPControl/LaneKeeping-v0"

    def _shifted(self) -> dict[str, Any]:
        return {"speed": min(40.0, float(self.nominal["speed"]) * (1.0 + self.magnitude))}


#: palettes from the training split (index 0) to the farthest shift (index 3).
PALETTES: tuple[tuple[str, str], ...] = (
    ("summer", "day"),
    ("autumn", "day"),
    ("winter", "dusk"),
    ("winter", "night"),
)


class Palette(TaskShift):
    """Season and lighting: level 1 is winter at night, from summer by day.

    The level picks ``round(level * 3)`` steps along :data:`PALETTES` (summer day, autumn
    day, winter dusk, winter night); ``scale`` has no meaning here beyond 1. Changes only
    camera observations.
    """

    name = "palette"
    unit = "palette steps (of 3)"
    default_scale = 3.0
    description = "season and lighting of the camera image"
    needs = ("season", "lighting")
    image_only = True
    supports = "NCPControl/LaneKeeping-v0 (camera observation), NCPControl/QuadFlyToTarget-v0 (camera)"

    def _shifted(self) -> dict[str, Any]:
        index = min(len(PALETTES) - 1, int(round(self.magnitude)))
        if index == 0:
            return {}
        season, lighting = PALETTES[index]
        return {"season": season, "lighting": lighting}


class TargetRange(TaskShift):
    """Farther targets: the range of target distances grows by 60% at level 1 (fly-to-target:
    1.5-3 m becomes 2.4-4.8 m); ``direction=-1`` brings them nearer (divided by 1.6).

    :param direction: +1 farther, -1 nearer.
    """

    name = "target_range"
    unit = "relative change of target distance"
    default_scale = 0.6
    description = "target distance range"
    needs = ("target_range",)
    supports = "NCPControl/QuadFlyToTarget-v0"
    #: the largest target distance the task accepts (m).
    max_range = 5.0

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, direction: int = 1) -> None:
        super().__init__(env, level, scale, schedule, seed)
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 (farther) or -1 (nearer), got {direction!r}")
        self.direction = direction

    def _shifted(self) -> dict[str, Any]:
        factor = (1.0 + self.magnitude) ** self.direction
        low, high = (float(v) * factor for v in self.nominal["target_range"])
        return {"target_range": (min(low, self.max_range), min(high, self.max_range))}


#: ground textures from the training one (index 0) to the least alike.
BACKGROUNDS: tuple[str, ...] = ("checker", "stripes", "plain", "noise")


class Background(TaskShift):
    """Ground texture: level 1 is random noise, from the checkerboard the policy trained on.

    The level picks ``round(level * 3)`` steps along :data:`BACKGROUNDS` (checker, stripes,
    plain, noise). Changes only camera images (and the detector in feature mode).
    """

    name = "background"
    unit = "background steps (of 3)"
    default_scale = 3.0
    description = "ground texture of the camera image"
    needs = ("background",)
    supports = "NCPControl/QuadFlyToTarget-v0"

    def _shifted(self) -> dict[str, Any]:
        index = min(len(BACKGROUNDS) - 1, int(round(self.magnitude)))
        return {"background": BACKGROUNDS[index]} if index else {}


class Distractors(TaskShift):
    """Look-alike targets in view: 3 at level 1 (``round(magnitude)`` red spheres)."""

    name = "distractors"
    unit = "look-alike objects"
    default_scale = 3.0
    description = "look-alike distractor objects in the scene"
    needs = ("distractors",)
    supports = "NCPControl/QuadFlyToTarget-v0"

    def _shifted(self) -> dict[str, Any]:
        count = int(round(self.magnitude)) + int(self.nominal["distractors"])
        return {"distractors": min(8, count)} if count else {}
