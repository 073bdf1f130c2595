"""Task shifts for our own tasks: road curvature, cruise speed, palette (season and
lighting), target range.

They act per episode through the environment's reset options, so they take no schedule:
the shifted task is drawn at every reset and holds for the episode. Options the caller
passes to ``reset`` win over the shift.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym

from envs.perturbations.base import Perturbation
from envs.perturbations.schedules import Constant, Schedule


class TaskShift(Perturbation):
    """Base of task shifts: adds reset options computed from the magnitude."""

    family = "task"
    #: attribute of the unwrapped environment that holds the nominal task parameters.
    task_attribute: ClassVar[str] = "task"
    #: the task parameter(s) this shift needs.
    needs: ClassVar[tuple[str, ...]] = ()

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
        self.nominal = {key: task[key] for key in self.needs}

    def _shifted(self) -> dict[str, Any]:
        """:return: the reset options of the shifted task (magnitude at full strength)."""
        raise NotImplementedError

    def _reset_options(self, options: dict[str, Any] | None) -> dict[str, Any] | None:
        self.magnitude = self.level * self.scale
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
    supports = "NCPControl/LaneKeeping-v0 (camera observation), NCPControl/QuadFlyToTarget-v0 (camera)"

    def _shifted(self) -> dict[str, Any]:
        index = min(len(PALETTES) - 1, int(round(self.magnitude)))
        if index == 0:
            return {}
        season, lighting = PALETTES[index]
        return {"season": season, "lighting": lighting}
