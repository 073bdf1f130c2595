"""Action perturbations: noise, bias, delay, sticky actions, gain loss, motor failure,
actuator lag and rate limits.

Magnitudes of noise and bias are fractions of the action half-range ``(high - low) / 2``;
perturbed actions are clipped to the action space (actuators saturate). Gain loss and motor
failure act on the actuators themselves where the environment exposes them (MuJoCo
actuator gears, the quadrotor's motor constants, the car's steering gain), otherwise on the
action around the middle of its range.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.perturbations.base import Hook, Perturbation, fast_clip
from ncp_control.envs.perturbations.physics import (
    Channel,
    control_dt,
    mujoco_handles,
    params_channel,
    params_interface,
)
from ncp_control.envs.perturbations.schedules import Schedule


class ActionPerturbation(Perturbation):
    """Base of perturbations of the commanded action (Box actions with finite bounds)."""

    family = "action"
    supports = "any environment with a bounded Box action space"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        space = env.action_space
        if not isinstance(space, gym.spaces.Box) or not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
            raise ValueError(f"perturbation {self.name!r} needs a bounded Box action space, got {space}; supported: {self.supports}")
        self._low = space.low.astype(np.float64)
        self._high = space.high.astype(np.float64)
        self._space_low, self._space_high = space.low, space.high
        self._half = (self._high - self._low) / 2.0
        self._mid = (self._high + self._low) / 2.0
        self._dtype = space.dtype

    def _clip(self, action: np.ndarray) -> np.ndarray:
        return fast_clip(action, self._low, self._high).astype(self._dtype, copy=False)

    def _act(self, action: np.ndarray) -> np.ndarray:
        """:param action: the commanded action (float64). :return: the action applied."""
        raise NotImplementedError

    def _start_episode(self) -> None:
        """Draw per-episode state (called after the inner reset)."""

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._start_episode()
        return obs, info

    def _before(self, action: Any) -> Any:
        # a copy: delay and sticky actions keep commands, which the caller may reuse in place
        return self._act(np.array(action, dtype=np.float64))


class ActionNoise(ActionPerturbation):
    """Gaussian noise on the action: standard deviation 30% of the half-range at level 1."""

    name = "action_noise"
    unit = "fraction of action half-range (std)"
    default_scale = 0.3
    description = "additive Gaussian actuator noise"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._noise = self.draws("normal", self._half.shape)

    def _act(self, action: np.ndarray) -> np.ndarray:
        return self._clip(action + self.magnitude * self._half * self._noise())


class ActionBias(ActionPerturbation):
    """Constant offset of every actuator: +/-30% of the half-range at level 1 (sign per episode)."""

    name = "action_bias"
    unit = "fraction of action half-range"
    default_scale = 0.3
    description = "constant actuator offset (trim error)"

    def _start_episode(self) -> None:
        self._signs = self.rng.choice(np.array([-1.0, 1.0]), size=self._half.shape)

    def _act(self, action: np.ndarray) -> np.ndarray:
        return self._clip(action + self.magnitude * self._half * self._signs)


class ActionDelay(ActionPerturbation):
    """The environment receives the action of k steps ago: 5 steps at level 1.

    Until k actions exist, the first action of the episode is applied.
    """

    name = "action_delay"
    unit = "steps"
    default_scale = 5.0
    description = "actuation latency: actions delayed by k steps"

    def _start_episode(self) -> None:
        self._history: deque[np.ndarray] = deque(maxlen=int(round(self.peak_magnitude)) + 1)

    def _act(self, action: np.ndarray) -> np.ndarray:
        self._history.append(action)
        k = min(int(round(self.magnitude)), len(self._history) - 1)
        return self._clip(self._history[-1 - k])


class StickyAction(ActionPerturbation):
    """With probability 0.5 at level 1, the previous applied action is repeated instead."""

    name = "sticky_action"
    unit = "probability per step"
    default_scale = 0.5
    description = "sticky actions: the previous action repeated at random"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._check_scale_at_most_one("probability")
        self._uniform = self.draws("random", ())

    def _start_episode(self) -> None:
        self._previous: np.ndarray | None = None

    def _act(self, action: np.ndarray) -> np.ndarray:
        if self._previous is not None and self._uniform() < self.magnitude:
            action = self._previous
        self._previous = action
        return self._clip(action)


class ActuatorLag(ActionPerturbation):
    """First-order actuator lag: time constant 0.1 s at level 1.

    The applied action follows the (saturated) command as ``u += (1 - exp(-dt / tau)) (a - u)``,
    starting from the first command; ``dt`` is the environment's control period (its ``info["dt"]``
    when it reports one).
    """

    name = "actuator_lag"
    unit = "s (time constant)"
    default_scale = 0.1
    description = "first-order actuator lag"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self.dt = control_dt(env)
        self._shape = self._space_low.shape
        self._flat = len(self._shape) == 1

    def _start_episode(self) -> None:
        self._dt = self.dt
        self._alpha_dt = self._alpha_magnitude = math.nan
        self._fresh = True
        # in the action space's dtype (float32 for our envs): mixed dtypes cost a cast per op.
        # Row 0: the saturated command; row 1: the applied action (the lag's state). The new
        # applied action is one product, blend @ rows, with blend = (alpha, 1 - alpha).
        self._rows = np.zeros((2, self._space_low.size), dtype=self._dtype)
        self._command, self._state = self._rows[0].reshape(self._shape), self._rows[1]
        self._blend = np.array([1.0, 0.0], dtype=self._dtype)  # the first step applies the command

    def _update_blend(self) -> None:
        if self._fresh:  # first step: the actuator starts at the command; the lag acts from the next
            self._fresh = False
            return
        self._alpha_dt, self._alpha_magnitude = self._dt, self.magnitude
        alpha = 1.0 - math.exp(-self._dt / self.magnitude) if self.magnitude > 0 else 1.0
        self._blend[0], self._blend[1] = alpha, 1.0 - alpha

    def _act(self, action: Any) -> np.ndarray:
        if not (type(action) is np.ndarray and action.dtype is self._dtype):
            action = np.asarray(action, dtype=self._dtype)
        if self._alpha_dt != self._dt or self._alpha_magnitude != self.magnitude:
            self._update_blend()
        fast_clip(action, self._space_low, self._space_high, self._command)
        applied = np.dot(self._blend, self._rows)  # a fresh array, never changed later: handed on as is
        self._state[...] = applied
        return applied if self._flat else applied.reshape(self._shape)

    def _before(self, action: Any) -> Any:
        return self._act(action)

    def _after(self, obs: Any, info: dict[str, Any]) -> Any:
        dt = info.get("dt")
        if dt is not None and dt > 0:
            self._dt = dt
        return obs

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        if not self._constant:
            return super()._step_hooks()
        # _before and _after over this episode's constants: the same arithmetic, fewer lookups
        low, high, dtype, flat, shape = self._space_low, self._space_high, self._dtype, self._flat, self._shape
        rows, command, state, blend = self._rows, self._command, self._state, self._blend
        ndarray, asarray, dot = np.ndarray, np.asarray, np.dot
        seen_dt, blend_dt = self._dt, self._alpha_dt

        def before(action: Any) -> Any:
            nonlocal blend_dt
            if not (type(action) is ndarray and action.dtype is dtype):
                action = asarray(action, dtype=dtype)
            if blend_dt != seen_dt:
                self._update_blend()
                blend_dt = self._alpha_dt
            fast_clip(action, low, high, command)
            applied = dot(blend, rows)
            state[...] = applied
            return applied if flat else applied.reshape(shape)

        def after(obs: Any, info: dict[str, Any]) -> Any:
            nonlocal seen_dt
            dt = info.get("dt")
            if dt is not None and dt > 0 and dt != seen_dt:
                seen_dt = self._dt = dt  # kept on the wrapper too, as _after does
            return obs

        return before, after


class RateLimit(ActionPerturbation):
    """Slew-rate limit: at level 1 the actuator needs 0.5 s to cross its full range.

    Each step the applied action moves at most ``(high - low) * dt / magnitude`` towards the
    command, starting from the first command.
    """

    name = "rate_limit"
    unit = "s per full range"
    default_scale = 0.5
    description = "actuator slew-rate limit"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self.dt = control_dt(env)

    def _start_episode(self) -> None:
        self._state: np.ndarray | None = None

    def _act(self, action: np.ndarray) -> np.ndarray:
        action = fast_clip(action, self._low, self._high)
        if self._state is None or self.magnitude <= 0:
            self._state = action
        else:
            limit = 2.0 * self._half * self.dt / self.magnitude
            self._state = self._state + fast_clip(action - self._state, -limit, limit)
        return self._clip(self._state)


class GainLoss(ActionPerturbation):
    """Every actuator loses 50% of its gain at level 1 (output force or thrust per command).

    Acts on the actuators: MuJoCo ``actuator_gear``; on our environments the
    ``motor_constant`` or ``steering_gain`` parameter; otherwise on the action around the
    middle of its range.
    """

    name = "gain_loss"
    unit = "fraction of gain lost"
    default_scale = 0.5
    description = "actuator gain loss (all actuators weakened)"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._check_scale_at_most_one("fraction")
        self.channel = self._find_channel(env)
        self._gains = np.ones(self._half.shape if self.channel is None else self.channel.nominal.shape[:1] or (1,))
        self._written: np.ndarray | None = None

    @staticmethod
    def _find_channel(env: gym.Env) -> Channel | None:
        params = params_interface(env)
        if params is not None:
            for name in ("motor_constant", "steering_gain"):
                if name in params.physical_param_names():
                    return params_channel(params, name)
        handles = mujoco_handles(env)
        if handles is not None and handles[0].nu > 0:
            gear = handles[0].actuator_gear
            return Channel(gear.copy(), lambda value: gear.__setitem__(slice(None), value), "model.actuator_gear")
        return None

    def _gain_vector(self) -> np.ndarray:
        return np.full(self._gains.shape, 1.0 - self.magnitude)

    def _write(self) -> None:
        gains = self._gain_vector()
        if self.channel is None or (self._written is not None and np.array_equal(gains, self._written)):
            self._gains = gains
            return
        nominal = self.channel.nominal
        factor = gains.reshape((-1,) + (1,) * (nominal.ndim - 1)) if nominal.ndim else gains[0]
        self.channel.set(nominal * factor)
        self._gains = self._written = gains

    def _before_reset(self) -> None:
        self._restore()

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._start_episode()
        self._write()
        return obs, info

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        return (None, None) if self._constant and self.channel is not None else super()._step_hooks()

    def _before(self, action: Any) -> Any:
        if not self.schedule.constant:
            self._write()
        if self.channel is not None:
            return action
        command = np.asarray(action, dtype=np.float64)
        return self._clip(self._mid + (command - self._mid) * self._gains)

    def _restore(self) -> None:
        if self.channel is not None:
            self.channel.restore()
        self._written = None


class MotorFailure(GainLoss):
    """One actuator weakened, dead at level 1 (gain lost: 100%); which one is drawn per
    episode unless ``actuator`` is given.

    :param actuator: index of the failing actuator, or ``None`` for a random one per episode.
    """

    name = "motor_failure"
    unit = "fraction of one actuator's gain lost"
    default_scale = 1.0
    description = "one actuator weakened or dead"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, actuator: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        count = len(self._gains)
        if actuator is not None and (isinstance(actuator, bool) or not isinstance(actuator, (int, np.integer))
                                     or not 0 <= actuator < count):
            raise ValueError(f"actuator must be an index in [0, {count}) or None (random), got {actuator!r}")
        self.actuator = actuator
        self._failing = 0

    def _start_episode(self) -> None:
        count = len(self._gains)
        self._failing = int(self.rng.integers(count)) if self.actuator is None else int(self.actuator)

    def _gain_vector(self) -> np.ndarray:
        gains = np.ones(self._gains.shape)
        gains[self._failing] = 1.0 - self.magnitude
        return gains
