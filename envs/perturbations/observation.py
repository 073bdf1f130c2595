"""Observation perturbations on vector observations: noise, bias, dropout, stuck sensors,
delay and distractor dimensions.

Magnitudes are in observation units (our own state observations are normalised to order
one; Gymnasium's MuJoCo observations are in SI units). Values are clipped to the
observation space's finite bounds and keep its dtype. Image perturbations live in
:mod:`ncp_control.envs.perturbations.image`.
"""

from __future__ import annotations

from collections import deque
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from ncp_control.envs.perturbations.base import Hook, Perturbation, fast_clip
from ncp_control.envs.perturbations.schedules import Schedule


class ObservationPerturbation(Perturbation):
    """Base of perturbations that change what the agent sees (Box observations)."""

    family = "observation"
    supports = "any environment with a Box observation space"

    def __init__(
        self,
        env: gym.Env,
        level: float,
        scale: float | None = None,
        schedule: Schedule | str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(env, level, scale, schedule, seed)
        space = env.observation_space
        if not isinstance(space, gym.spaces.Box):
            raise ValueError(
                f"perturbation {self.name!r} needs a Box observation space, got {type(space).__name__}; "
                f"supported: {self.supports}"
            )
        self._low, self._high = space.low, space.high
        self._bounded = bool(np.isfinite(space.low).any() or np.isfinite(space.high).any())
        self._dtype = space.dtype
        #: dtype of noise added to observations (float32 observations stay float32).
        self._noise_dtype = np.float32 if space.dtype == np.float32 else np.float64

    def _finish(self, obs: np.ndarray) -> np.ndarray:
        """Clip a freshly computed observation to the space's bounds (in place) and dtype."""
        if self._bounded:
            fast_clip(obs, self._low, self._high, out=obs)
        return obs if obs.dtype == self._dtype else obs.astype(self._dtype)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        """:param obs: the true observation. :return: what the agent sees."""
        raise NotImplementedError

    def _start_episode(self, obs: np.ndarray) -> None:
        """Draw per-episode state (called with the first observation, before :meth:`_observe`)."""

    def _on_reset(self, obs: Any, info: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        self._start_episode(obs)
        return self._observe(obs), info

    def _after(self, obs: Any, info: dict[str, Any]) -> Any:
        return self._observe(obs)


class _AdditiveNoise(ObservationPerturbation):
    """Noise of :attr:`kind` added to every entry, drawn in blocks (see ``Draws``)."""

    kind: ClassVar[str] = "normal"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._noise = self.draws(self.kind, self._low.shape, self._noise_dtype)

    def _start_episode(self, obs: np.ndarray) -> None:
        # under a constant schedule the blocks come pre-scaled: one array operation less a step
        self._noise.factor = self.magnitude if self._constant else None

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        if self._constant:
            return self._finish(obs + self._noise())
        return self._finish(obs + self.magnitude * self._noise())

    def _step_hooks(self) -> tuple[Hook | None, Hook | None]:
        if not self._constant:
            return super()._step_hooks()
        draws, low, high, bounded, dtype = self._noise, self._low, self._high, self._bounded, self._dtype
        rows = draws.rows

        def after(obs: Any, info: dict[str, Any]) -> Any:
            # _observe with _finish and the noise draw inlined: this runs every step
            nonlocal rows
            try:
                noise = next(rows)
            except StopIteration:
                noise = draws.refill()
                rows = draws.rows
            noisy = obs + noise
            if bounded:
                fast_clip(noisy, low, high, noisy)
            return noisy if noisy.dtype is dtype else noisy.astype(dtype)

        return None, after


class GaussianNoise(_AdditiveNoise):
    """Additive Gaussian noise on every entry: standard deviation 0.1 at level 1."""

    name = "gaussian_noise"
    unit = "obs units (std)"
    default_scale = 0.1
    description = "additive Gaussian sensor noise"
    kind = "normal"


class UniformNoise(_AdditiveNoise):
    """Additive uniform noise on every entry: half-width 0.2 at level 1."""

    name = "uniform_noise"
    unit = "obs units (half-width)"
    default_scale = 0.2
    description = "additive uniform sensor noise"
    kind = "uniform"


class Bias(ObservationPerturbation):
    """A constant offset per entry, +/-0.2 at level 1 (sign drawn per entry and episode)."""

    name = "bias"
    unit = "obs units"
    default_scale = 0.2
    description = "constant sensor offset (calibration error)"

    def _start_episode(self, obs: np.ndarray) -> None:
        self._signs = self.rng.choice(np.array([-1.0, 1.0]), size=np.shape(obs))

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        return self._finish(obs + self.magnitude * self._signs)


class Dropout(ObservationPerturbation):
    """Each entry reads 0 with probability 0.5 at level 1, independently every step."""

    name = "dropout"
    unit = "probability per entry and step"
    default_scale = 0.5
    description = "sensor dropout: entries zeroed at random"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._check_scale_at_most_one("probability")
        self._uniform = self.draws("random", self._low.shape)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        keep = self._uniform() >= self.magnitude
        return self._finish(obs * keep)


class StuckSensor(ObservationPerturbation):
    """A fraction of the entries freeze (50% at level 1), chosen at random per episode.

    Entry ``i`` is stuck while ``u_i < magnitude`` (``u_i`` uniform, drawn per episode) and
    keeps the value it read when it got stuck; under a schedule, sensors fail and recover.
    """

    name = "stuck_sensor"
    unit = "fraction of entries"
    default_scale = 0.5
    description = "stuck sensors: entries frozen at their last value"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._check_scale_at_most_one("fraction")

    def _start_episode(self, obs: np.ndarray) -> None:
        self._thresholds = self.rng.random(np.shape(obs))
        self._held = np.array(obs, copy=True)
        self._stuck = np.zeros(np.shape(obs), dtype=bool)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        stuck = self._thresholds < self.magnitude
        fresh = ~self._stuck | ~stuck
        self._held = np.where(fresh, obs, self._held)
        self._stuck = stuck
        return self._finish(self._held.copy())


class ObservationDelay(ObservationPerturbation):
    """The agent sees the observation of k steps ago: 5 steps at level 1 (``round(magnitude)``).

    Until k observations exist, the first observation of the episode is repeated.
    """

    name = "observation_delay"
    unit = "steps"
    default_scale = 5.0
    description = "sensor latency: observations delayed by k steps"

    def _start_episode(self, obs: np.ndarray) -> None:
        self._history: deque[np.ndarray] = deque(maxlen=int(round(self.peak_magnitude)) + 1)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        self._history.append(obs)
        k = min(int(round(self.magnitude)), len(self._history) - 1)
        return np.array(self._history[-1 - k], copy=True)


class Distractor(ObservationPerturbation):
    """Appends ``dims`` distractor entries (8 by default): sinusoids of random frequency and
    phase plus white noise, amplitude 1.0 at level 1.

    The observation space grows by ``dims`` at any level above 0 (at level 0 the environment
    is untouched), so a policy must be trained with the distractors present; it is therefore
    in no suite of policies trained on the clean task.

    :param dims: number of appended entries.
    """

    name = "distractor"
    uses_step_index = True
    unit = "obs units (amplitude)"
    default_scale = 1.0
    description = "task-irrelevant distractor dimensions appended to the observation"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, dims: int = 8) -> None:
        super().__init__(env, level, scale, schedule, seed)
        if isinstance(dims, bool) or not isinstance(dims, (int, np.integer)) or dims < 1:
            raise ValueError(f"dims must be a positive integer, got {dims!r}")
        if len(self._low.shape) != 1:
            raise ValueError(f"{self.name!r} needs a flat (1-D) observation space, got shape {self._low.shape}")
        self.dims = int(dims)
        if self.active:
            low = np.concatenate([self._low, np.full(self.dims, -np.inf, dtype=self._low.dtype)])
            high = np.concatenate([self._high, np.full(self.dims, np.inf, dtype=self._high.dtype)])
            self.observation_space = gym.spaces.Box(low, high, dtype=self._dtype)

    def _start_episode(self, obs: np.ndarray) -> None:
        self._frequency = self.rng.uniform(0.02, 0.3, self.dims)
        self._phase = self.rng.uniform(0.0, 2.0 * np.pi, self.dims)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        signal = np.sin(2.0 * np.pi * self._frequency * self._t + self._phase)
        signal = signal + 0.3 * self.rng.standard_normal(self.dims)
        return np.concatenate([obs, self.magnitude * signal]).astype(self._dtype, copy=False)
