"""Wind: steady, Dryden-like turbulent gusts, and sinusoidal gusts.

The wind velocity (m/s, world frame) goes into the environment's ``wind`` physical parameter
(the quadrotor) or MuJoCo's ``model.opt.wind``. MuJoCo only turns wind into force through
its fluid model: on a model without a medium (``opt.density == 0``, as in Gymnasium's
locomotion tasks) the wrapper also sets air (density 1.204 kg/m^3, viscosity 1.8e-5 Pa s)
while it is active, and restores the model's own medium on reset and close.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from ncp_control.envs.params import PhysicalParams
from ncp_control.envs.perturbations.base import Hook, Perturbation
from ncp_control.envs.perturbations.physics import (
    control_dt,
    horizontal_direction,
    mujoco_handles,
    params_interface,
    resolve_channel,
    unit_vector,
)
from ncp_control.envs.perturbations.schedules import Schedule

AIR_DENSITY = 1.204
AIR_VISCOSITY = 1.8e-5


class Wind(Perturbation):
    """Steady wind: 8 m/s at level 1, horizontal, random direction per episode.

    :param env: an environment with a ``wind`` parameter or a MuJoCo model.
    :param level: severity in [0, 1].
    :param scale: wind speed at level 1, m/s.
    :param schedule: schedule of the wind speed within an episode.
    :param seed: extra seed for the wrapper's generator.
    :param direction: 3-vector, or ``None`` for a random horizontal direction per episode.
    """

    name = "wind"
    family = "dynamics"
    unit = "m/s"
    default_scale = 8.0
    description = "steady wind"
    supports = (
        "NCPControl/Quad* ('wind' parameter) and MuJoCo models (Gymnasium tasks: through "
        "MuJoCo's fluid model, in air)"
    )

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None = None,
        schedule: Schedule | str | None = None,
        seed: int | None = None,
        direction: Any = None,
    ) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self.channel = resolve_channel(env, ("wind",), self._field, self.name, self.supports)
        if self.channel.nominal.shape not in ((3,), (2,)):
            raise ValueError(f"the 'wind' parameter must be a 2- or 3-vector, got shape {self.channel.nominal.shape}")
        self._medium: tuple[mujoco.MjModel, float, float] | None = None
        handles = mujoco_handles(env)
        if self.channel.source == "model.opt.wind" and handles is not None and handles[0].opt.density == 0:
            model = handles[0]
            self._medium = (model, float(model.opt.density), float(model.opt.viscosity))
        self._size = self.channel.nominal.shape[0]
        self._live = self._find_live(env) if self.active else None
        self._field_now: np.ndarray | None = None
        self.dt = control_dt(env)
        self._fixed_direction = unit_vector(direction, "direction")
        self.direction = np.zeros(3)

    @staticmethod
    def _field(model: mujoco.MjModel) -> tuple[np.ndarray, Any, str]:
        return model.opt.wind, slice(None), "model.opt.wind"

    def _find_live(self, env: gym.Env) -> tuple[np.ndarray, PhysicalParams | None] | None:
        """Find storage that per-step gusts may update in place: ``model.opt.wind``.

        Setting a physical parameter rewrites every parameter of the simulator (tens of
        microseconds). When the wind is MuJoCo's own field, or a ``wind`` parameter that a
        probe shows to land unchanged in it, and its nominal value is zero, gusts update the
        field in place; the parameter's current value is then that same array.

        :return: the field and the PhysicalParams env (``None`` for a bare MuJoCo model).
        """
        handles = mujoco_handles(env)
        if handles is None or np.any(self.channel.nominal) or self.channel.nominal.shape != (3,):
            return None
        wind = handles[0].opt.wind
        if self.channel.source == "model.opt.wind":
            return wind, None
        params = params_interface(env)
        if params is None:
            return None
        probe = np.array([0.25, -0.5, 0.75])
        self.channel.set(probe)
        mirrored = np.array_equal(wind, probe)
        self.channel.restore()
        return (wind, params) if mirrored and not np.any(wind) else None

    def _write(self, velocity: np.ndarray) -> None:
        """Set the wind (m/s, world frame) through the channel (the general, slower path)."""
        self.channel.set(velocity[: self._size] + self.channel.nominal)

    def _go_live(self) -> np.ndarray | None:
        """:return: the field to update in place this episode, or ``None`` (general path)."""
        if self._live is None or not self._constant:
            return None
        field, params = self._live
        if params is not None:
            params._current_params["wind"] = field  # the interface's record now follows the field
        return field

    def _wind(self) -> np.ndarray:
        """:return: the wind velocity for the current step (subclasses add gusts)."""
        return self.magnitude * self.direction

    def _before_reset(self) -> None:
        self._restore()

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        if self._medium is not None:
            model = self._medium[0]
            model.opt.density, model.opt.viscosity = AIR_DENSITY, AIR_VISCOSITY
        fixed = self._fixed_direction
        self.direction = fixed if fixed is not None else horizontal_direction(self.rng)
        self._start_episode()
        self._write(self._wind())
        self._field_now = self._go_live()
        return obs, info

    def _start_episode(self) -> None:
        """Draw per-episode random state (gust phases, turbulence)."""

    def _before(self, action: Any) -> Any:
        if not self._constant:
            self._write(self._wind())
        return action

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        return (None, None) if self._constant and type(self) is Wind else super()._step_hooks()

    def _restore(self) -> None:
        self.channel.restore()
        self._field_now = None
        if self._medium is not None:
            model, density, viscosity = self._medium
            model.opt.density, model.opt.viscosity = density, viscosity


class Gust(Wind):
    """Dryden-like turbulence: 3 m/s RMS horizontal gusts at level 1 (vertical: half).

    Each axis is a first-order Gauss-Markov process (the first-order approximation of the
    Dryden spectrum) with correlation time ``correlation_time`` (length scale / airspeed),
    discretised exactly at the control period; it starts from its stationary distribution.

    :param correlation_time: correlation time of the turbulence, s.
    """

    name = "gust"
    unit = "m/s RMS"
    default_scale = 3.0
    description = "Dryden-like turbulent gusts"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, correlation_time: float = 1.0) -> None:
        super().__init__(env, level, scale, schedule, seed, direction=None)
        if not (isinstance(correlation_time, (int, float)) and correlation_time > 0):
            raise ValueError(f"correlation_time must be a positive number of seconds, got {correlation_time!r}")
        self.correlation_time = float(correlation_time)
        self._decay = math.exp(-self.dt / self.correlation_time)
        self._drive = math.sqrt(1.0 - self._decay**2)
        self._axes = np.array([1.0, 1.0, 0.5])
        self._state = np.zeros(3)
        self._process = GaussMarkov(self._decay)

    def _start_episode(self) -> None:
        self._state = self.rng.standard_normal(3)
        if self._live is not None and self._constant:
            # in place, the field holds magnitude * axes * state: the process runs scaled likewise
            scaled = self.magnitude * self._axes
            self._process.reset(self.rng, scaled * self._state, self._drive * scaled)
        else:
            self._process.reset(self.rng, self._state, np.full(3, self._drive))

    def _wind(self) -> np.ndarray:
        return self.magnitude * self._axes * self._state

    def _before(self, action: Any) -> Any:
        if self._field_now is None:
            self._write(self._wind())
        return action

    def _after(self, obs: Any, info: dict[str, Any]) -> Any:
        state = self._process()
        if self._field_now is None:
            self._state = state
        else:
            self._field_now[...] = state
        return obs

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        field = self._field_now
        if field is None:
            return super()._step_hooks()
        process = self._process
        rows = process.rows

        def after(obs: Any, info: dict[str, Any]) -> Any:
            # in place: the field already holds this step's wind, so only the update is left
            nonlocal rows
            try:
                field[...] = next(rows)
            except StopIteration:
                field[...] = process.refill()
                rows = process.rows
            return obs

        return None, after


class GaussMarkov:
    """A vector first-order Gauss-Markov process ``x[t+1] = decay * x[t] + factor * n[t]``
    (``n`` standard normal), computed a block of steps at a time and handed out one step a call.

    A block is one draw of normal numbers and a log2(block)-step prefix scan: a few array
    operations for hundreds of steps instead of a few per step.

    :param decay: the per-step decay in (0, 1).
    :param block: steps per block.
    """

    def __init__(self, decay: float, block: int = 256) -> None:
        self.decay = float(decay)
        self.block = int(block)
        self._powers = self.decay ** np.arange(1, self.block + 1, dtype=np.float64)[:, None]
        self._rng = np.random.default_rng()
        self._last = np.zeros(3)
        self._factor = np.ones(3)
        #: the states of the current block not handed out yet.
        self.rows: Iterator[np.ndarray] = iter(())

    def reset(self, rng: np.random.Generator, start: np.ndarray, factor: np.ndarray) -> None:
        """:param rng: the generator of the innovations. :param start: the state at step 0.
        :param factor: scales the standard normal innovations (per entry)."""
        self._rng = rng
        self._last = np.array(start, dtype=np.float64)
        self._factor = np.asarray(factor, dtype=np.float64)
        self.rows = iter(())

    def refill(self) -> np.ndarray:
        """Compute the next block. :return: its first state."""
        states = self._rng.standard_normal((self.block, self._last.shape[0])) * self._factor
        shift, decay = 1, self.decay
        while shift < self.block:  # after the pass with shift s, row t sums the innovations of steps t-2s+1..t
            states[shift:] += decay * states[:-shift]
            shift, decay = 2 * shift, decay * decay
        states += self._powers * self._last
        self._last = states[-1].copy()
        self.rows = iter(list(states))
        return next(self.rows)

    def __call__(self) -> np.ndarray:
        """:return: the state at the next step (a row of the current block: do not change it)."""
        try:
            return next(self.rows)
        except StopIteration:
            return self.refill()


class SineWind(Wind):
    """Sinusoidal gusts: amplitude 8 m/s at level 1, period 2 s, random phase and direction.

    :param period: gust period, s.
    """

    name = "wind_sine"
    uses_step_index = True
    unit = "m/s amplitude"
    default_scale = 8.0
    description = "sinusoidal gusts"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, period: float = 2.0, direction: Any = None) -> None:
        super().__init__(env, level, scale, schedule, seed, direction=direction)
        if not (isinstance(period, (int, float)) and period > 0):
            raise ValueError(f"period must be a positive number of seconds, got {period!r}")
        self.period = float(period)
        self._phase = 0.0

    def _start_episode(self) -> None:
        self._phase = self.rng.uniform(0.0, 2.0 * math.pi)

    def _wind(self) -> np.ndarray:
        angle = 2.0 * math.pi * self._t * self.dt / self.period + self._phase
        return self.magnitude * math.sin(angle) * self.direction

    def _before(self, action: Any) -> Any:
        field = self._field_now
        if field is None:
            self._write(self._wind())
        else:
            angle = 2.0 * math.pi * self._t * self.dt / self.period + self._phase
            np.multiply(self.direction, self.magnitude * math.sin(angle), out=field)
        return action
