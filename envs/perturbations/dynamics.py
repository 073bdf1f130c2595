"""Dynamics perturbations: physical parameters scaled from nominal, external forces, pushes.

Parameters are read once at construction (cached nominal values), written as
``nominal * (1 + direction * magnitude)`` after every reset and whenever a schedule changes
the magnitude, and written back to nominal before every reset and on close: resets never
compound. On our own environments they go through the PhysicalParams interface
(:mod:`ncp_control.envs.params`); on MuJoCo tasks through the model's fields. Wind lives in
:mod:`ncp_control.envs.perturbations.wind`.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from ncp_control.envs.perturbations.base import Hook, Perturbation
from ncp_control.envs.perturbations.physics import (
    control_dt,
    horizontal_direction,
    mujoco_handles,
    resolve_channel,
    total_mass,
    unit_vector,
    unsupported_message,
)
from ncp_control.envs.perturbations.schedules import Schedule

_MUJOCO_TASKS = "Gymnasium MuJoCo tasks (HalfCheetah, Hopper, Walker2d, Ant, Humanoid, InvertedPendulum, ...)"


class ScaledParameter(Perturbation):
    """Scale one physical quantity by ``1 + direction * magnitude``.

    :param env: the environment.
    :param level: severity in [0, 1].
    :param scale: relative change at level 1 (0.5 is +/-50%).
    :param schedule: schedule of the magnitude within an episode.
    :param seed: extra seed for the wrapper's generator.
    :param direction: +1 to increase, -1 to decrease; defaults to the class's direction.
    """

    family = "dynamics"
    unit = "relative change"
    default_scale = 0.5
    default_direction: ClassVar[int] = 1
    param_names: ClassVar[tuple[str, ...]] = ()
    mujoco_field: ClassVar[str | None] = None
    #: column of a 2-D MuJoCo field (friction: 0 = sliding), or ``None`` for all of it.
    mujoco_column: ClassVar[int | None] = None
    #: whether a factor of exactly 0 is physical (friction, damping) or not (mass).
    allow_zero: ClassVar[bool] = False

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None = None,
        schedule: Schedule | str | None = None,
        seed: int | None = None,
        direction: int | None = None,
    ) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self.direction = self.default_direction if direction is None else direction
        if self.direction not in (1, -1):
            raise ValueError(f"direction must be +1 (increase) or -1 (decrease), got {direction!r}")
        lowest = 1.0 - self.scale if self.direction < 0 else 1.0
        if lowest < 0 or (lowest == 0 and not self.allow_zero):
            limit = "at most 1" if self.allow_zero else "below 1"
            raise ValueError(f"scale must be {limit} when decreasing {self.name}, got {self.scale}")
        self.channel = resolve_channel(env, self.param_names, self._field, self.name, self.supports)
        if not np.any(self.channel.nominal):
            raise ValueError(f"perturbation {self.name!r}: {self.channel.source} is zero in this environment, so "
                             f"scaling it changes nothing; supported: {self.supports}")
        self._written = 1.0

    def _field(self, model: mujoco.MjModel) -> tuple[np.ndarray, Any, str]:
        assert self.mujoco_field is not None
        array = model.opt.gravity if self.mujoco_field == "opt.gravity" else getattr(model, self.mujoco_field)
        index = slice(None) if self.mujoco_column is None else (slice(None), self.mujoco_column)
        return array, index, f"model.{self.mujoco_field}"

    @property
    def factor(self) -> float:
        """The current multiplier of the nominal value."""
        return 1.0 + self.direction * self.magnitude

    def _apply(self) -> None:
        factor = self.factor
        if factor != self._written:
            self.channel.scale(factor)
            self._written = factor

    def _before_reset(self) -> None:
        self._restore()

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._apply()
        return obs, info

    def _before(self, action: Any) -> Any:
        if not self.schedule.constant:
            self._apply()
        return action

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        return (None, None) if self._constant else super()._step_hooks()

    def _restore(self) -> None:
        self.channel.restore()
        self._written = 1.0


class Mass(ScaledParameter):
    """Mass of every body: +50% at level 1 (``direction=-1``: -50%)."""

    name = "mass"
    description = "mass of every body scaled from nominal"
    param_names = ("mass",)
    mujoco_field = "body_mass"
    supports = f"{_MUJOCO_TASKS}, NCPControl/Quad*, NCPControl/LaneKeeping-v0 ('mass' parameter)"


class Inertia(ScaledParameter):
    """Rotational inertia of every body: +50% at level 1."""

    name = "inertia"
    description = "rotational inertia of every body scaled from nominal"
    param_names = ("inertia",)
    mujoco_field = "body_inertia"
    supports = f"{_MUJOCO_TASKS}, NCPControl/Quad* ('inertia' parameter)"


class Friction(ScaledParameter):
    """Sliding friction (MuJoCo geoms) or tyre friction (car): -50% at level 1."""

    name = "friction"
    description = "sliding / tyre friction coefficient scaled from nominal"
    default_direction = -1
    allow_zero = True
    param_names = ("friction", "tyre_friction")
    mujoco_field = "geom_friction"
    mujoco_column = 0
    supports = f"{_MUJOCO_TASKS}, NCPControl/LaneKeeping-v0 ('tyre_friction' parameter)"


class Damping(ScaledParameter):
    """Joint damping: +50% at level 1."""

    name = "damping"
    description = "joint damping scaled from nominal"
    allow_zero = True
    param_names = ("damping",)
    mujoco_field = "dof_damping"
    supports = f"{_MUJOCO_TASKS} with damped joints, or an env with a 'damping' parameter"


class Gravity(ScaledParameter):
    """Gravitational acceleration: +50% at level 1 (9.81 -> 14.7 m/s^2)."""

    name = "gravity"
    description = "gravitational acceleration scaled from nominal"
    param_names = ("gravity",)
    mujoco_field = "opt.gravity"
    supports = f"{_MUJOCO_TASKS}, NCPControl/Quad* (MuJoCo model or 'gravity' parameter)"


class _BodyForce(Perturbation):
    """Shared part of forces on one MuJoCo body, added to ``data.xfrc_applied``."""

    family = "dynamics"
    supports = f"{_MUJOCO_TASKS}, NCPControl/Quad* (environments with a MuJoCo model)"

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None,
        schedule: Schedule | str | None,
        seed: int | None,
        direction: Any,
        body: str | int,
    ) -> None:
        super().__init__(env, level, scale, schedule, seed)
        handles = mujoco_handles(env)
        if handles is None:
            raise ValueError(unsupported_message(env, self.name, (), self.supports))
        self._model, self._data = handles
        try:
            self.body = self._model.body(body).id
        except (KeyError, IndexError, TypeError):
            names = [self._model.body(i).name for i in range(self._model.nbody)]
            raise ValueError(f"body must be a body name or index of this model, one of {names}; got {body!r}") from None
        self._fixed_direction = unit_vector(direction, "direction")
        self._direction = np.zeros(3)
        self._applied = np.zeros(3)
        self.weight = total_mass(env) * float(np.linalg.norm(self._model.opt.gravity) or 9.81)

    def _set_force(self, force: np.ndarray) -> None:
        self._data.xfrc_applied[self.body, :3] += force - self._applied
        self._applied = force

    def _before_reset(self) -> None:
        self._set_force(np.zeros(3))

    def _restore(self) -> None:
        self._set_force(np.zeros(3))


class ExternalForce(_BodyForce):
    """A steady push on the main body: 30% of the robot's weight at level 1.

    :param direction: 3-vector, or ``None`` for a random horizontal direction per episode.
    :param body: the body pushed (name or index; 1 is the root body of Gymnasium tasks).
    """

    name = "external_force"
    unit = "fraction of body weight"
    default_scale = 0.3
    description = "constant external force on the main body"

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None = None,
        schedule: Schedule | str | None = None,
        seed: int | None = None,
        direction: Any = None,
        body: str | int = 1,
    ) -> None:
        super().__init__(env, level, scale, schedule, seed, direction, body)

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        fixed = self._fixed_direction
        self._direction = fixed if fixed is not None else horizontal_direction(self.rng)
        self._set_force(self.magnitude * self.weight * self._direction)
        return obs, info

    def _before(self, action: Any) -> Any:
        if not self.schedule.constant:
            self._set_force(self.magnitude * self.weight * self._direction)
        return action

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        return (None, None) if self._constant else super()._step_hooks()


class Impulse(_BodyForce):
    """Random pushes: each changes the body's velocity by 1 m/s at level 1.

    A push is a force held for one control step, sized so that the whole robot's momentum
    changes by ``magnitude * total mass``. Pushes come at random intervals, uniform in
    [0.5, 1.5] x ``interval`` seconds, the first within ``interval`` seconds of the reset.

    :param interval: mean time between pushes, in seconds.
    :param direction: 3-vector, or ``None`` for a random horizontal direction per push.
    :param body: the body pushed (name or index).
    """

    name = "impulse"
    unit = "m/s velocity change"
    default_scale = 1.0
    description = "random pushes on the main body (impulses)"

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None = None,
        schedule: Schedule | str | None = None,
        seed: int | None = None,
        interval: float = 2.0,
        direction: Any = None,
        body: str | int = 1,
    ) -> None:
        super().__init__(env, level, scale, schedule, seed, direction, body)
        if not (isinstance(interval, (int, float)) and math.isfinite(interval) and interval > 0):
            raise ValueError(f"interval must be a positive number of seconds, got {interval!r}")
        self.interval = float(interval)
        self.dt = control_dt(env)
        self._mass = total_mass(env)
        self._next = 0.0
        self._time = 0.0

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._time = 0.0
        self._next = self.rng.uniform(0.0, self.interval)
        return obs, info

    def _before(self, action: Any) -> Any:
        if self._time <= self._next < self._time + self.dt:
            fixed = self._fixed_direction
            direction = fixed if fixed is not None else horizontal_direction(self.rng)
            self._set_force(self.magnitude * self._mass / self.dt * direction)
            self._next += self.interval * self.rng.uniform(0.5, 1.5)
        elif self._applied.any():
            self._set_force(np.zeros(3))
        return action

    def _after(self, obs: Any, info: dict[str, Any]) -> Any:
        self._time += float(info.get("dt", self.dt))
        return obs
