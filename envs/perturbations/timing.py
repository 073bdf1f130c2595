"""Timing perturbations: control-rate change and timestep jitter.

The environment advances a different amount of simulated time per step, and the true
elapsed time is reported in ``info["dt"]`` (seconds), so continuous-time policies can use it.

On MuJoCo environments the step is split into ``n = ceil(duration / timestep)`` physics
steps of ``duration / n`` each: the physics timestep never grows beyond its nominal value
(integration stays as stable as the nominal model), and ``info["dt"]`` is measured from
``data.time``. Other environments must hold their step length in a plain ``dt`` or ``tau``
attribute (our car, Pendulum, CartPole), which is set before each step.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from ncp_control.envs.period import nominal_period
from ncp_control.envs.perturbations.base import Perturbation, StepResult
from ncp_control.envs.perturbations.physics import mujoco_handles
from ncp_control.envs.perturbations.schedules import Schedule

_FRAME_ATTRIBUTES = ("frame_skip", "physics_substeps", "n_substeps")
_DT_ATTRIBUTES = ("dt", "tau")


class Clock:
    """Sets how long the next step of an environment lasts.

    :param env: a MuJoCo environment with an integer frame-skip attribute, or an
        environment with a plain ``dt``/``tau`` attribute.
    :param who: the perturbation's name (for the error message).
    :param supports: which environments support it (for the error message).
    :raises ValueError: when the environment has neither.
    """

    def __init__(self, env: gym.Env, who: str, supports: str) -> None:
        unwrapped = env.unwrapped
        self._env = unwrapped
        handles = mujoco_handles(env)
        frames = next((a for a in _FRAME_ATTRIBUTES if isinstance(getattr(unwrapped, a, None), int)), None)
        attribute = next(
            (a for a in _DT_ATTRIBUTES if isinstance(vars(unwrapped).get(a), (int, float, np.floating))), None
        )
        self._model: mujoco.MjModel | None = None
        if handles is not None and frames is not None:
            self._model, self._data = handles
            self._knob = frames
            self.timestep = float(self._model.opt.timestep)
            self.frames = int(getattr(unwrapped, frames))
            self.nominal_dt = self.timestep * self.frames
        elif attribute is not None:
            self._knob = attribute
            self.nominal_dt = nominal_period(env) or float(getattr(unwrapped, attribute))
        else:
            name = env.spec.id if env.spec is not None else type(unwrapped).__name__
            raise ValueError(f"perturbation {who!r} is not available for {name}: it has neither a MuJoCo model "
                             f"with a frame-skip attribute nor a 'dt'/'tau' attribute. Supported: {supports}")
        self._duration = self.nominal_dt

    def set(self, duration: float) -> None:
        """:param duration: length of the next step(s), seconds."""
        self._duration = duration
        if self._model is not None:
            frames = max(1, math.ceil(duration / self.timestep - 1e-9))
            setattr(self._env, self._knob, frames)
            self._model.opt.timestep = duration / frames
        else:
            setattr(self._env, self._knob, duration)

    def step(self, env: gym.Env, action: Any) -> StepResult:
        """Step ``env`` and put the true elapsed time into ``info["dt"]``."""
        if self._model is None:
            obs, reward, terminated, truncated, info = env.step(action)
            info["dt"] = self._duration
            return obs, reward, terminated, truncated, info
        start = self._data.time
        obs, reward, terminated, truncated, info = env.step(action)
        info["dt"] = float(self._data.time - start)
        return obs, reward, terminated, truncated, info

    def restore(self) -> None:
        """Set the nominal step length back."""
        if self._model is not None:
            setattr(self._env, self._knob, self.frames)
            self._model.opt.timestep = self.timestep
        else:
            setattr(self._env, self._knob, self.nominal_dt)
        self._duration = self.nominal_dt


class TimingPerturbation(Perturbation):
    """Base of timing perturbations."""

    family = "timing"
    supports = ("Gymnasium MuJoCo tasks, NCPControl/Quad*, NCPControl/LaneKeeping-v0, Pendulum, CartPole "
                "(MuJoCo frame skip or a 'dt'/'tau' attribute)")

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self.clock = Clock(env, self.name, self.supports)

    def _duration(self) -> float:
        """:return: the length of the coming step, seconds."""
        raise NotImplementedError

    def step(self, action: Any) -> StepResult:
        """Step, reporting the true elapsed time in ``info["dt"]`` (at every level).

        :param action: the agent's action.
        :return: observation, reward, terminated, truncated, info.
        """
        obs, reward, terminated, truncated, info = super().step(action)
        info.setdefault("dt", self.clock.nominal_dt)
        return obs, reward, terminated, truncated, info

    def _before_reset(self) -> None:
        self.clock.restore()

    def _perturbed_step(self, action: Any) -> StepResult:
        self.clock.set(self._duration())
        return self.clock.step(self.env, action)

    def _restore(self) -> None:
        self.clock.restore()


class ControlRate(TimingPerturbation):
    """Changed control rate: each step lasts twice as long at level 1 (``direction=-1``: half).

    The step lasts ``dt * (1 + magnitude)`` (or ``dt / (1 + magnitude)`` with
    ``direction=-1``).

    :param direction: +1 for slower control (longer steps), -1 for faster (shorter steps).
    """

    name = "control_rate"
    unit = "relative change of step duration"
    default_scale = 1.0
    description = "control-rate change: more (or less) simulated time per step"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, direction: int = 1) -> None:
        super().__init__(env, level, scale, schedule, seed)
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 (slower control) or -1 (faster control), got {direction!r}")
        self.direction = direction

    def _duration(self) -> float:
        factor = 1.0 + self.magnitude
        return self.clock.nominal_dt * (factor if self.direction > 0 else 1.0 / factor)


class DtJitter(TimingPerturbation):
    """Timestep jitter: each step lasts ``dt * (1 + u)``, ``u`` uniform in +/-50% at level 1."""

    name = "dt_jitter"
    unit = "relative half-width of step duration"
    default_scale = 0.5
    description = "timestep jitter: irregular sampling, true dt reported"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        if self.scale >= 1:
            raise ValueError(f"scale of {self.name!r} must be below 1 (steps of positive length), got {self.scale}")
        self._uniform = self.draws("uniform", ())

    def _duration(self) -> float:
        return self.clock.nominal_dt * (1.0 + self.magnitude * float(self._uniform()))
