"""Small envs for the agent tests: counters with time limits, reported dt, Dict and image spaces."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces


class CounterEnv(gym.Env):
    """Observation = [step count, 1]; reward 1 per step; terminates at ``terminate_at`` (if set).

    Reports ``info["dt"]`` from a fixed sequence when ``dts`` is given, and has a nominal
    period ``nominal_dt``.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, terminate_at: int | None = None, dts: list[float] | None = None, discrete: bool = False) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = spaces.Discrete(2) if discrete else spaces.Box(-1.0, 1.0, (1,), np.float32)
        self.terminate_at = terminate_at
        self.dts = dts
        self.nominal_dt = 0.1
        self.t = 0
        self.calls = 0

    def _obs(self) -> np.ndarray:
        return np.array([self.t, 1.0], dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        info: dict[str, Any] = {}
        if self.dts is not None:
            info["dt"] = self.dts[self.calls % len(self.dts)]
        self.calls += 1
        terminated = self.terminate_at is not None and self.t >= self.terminate_at
        return self._obs(), 1.0, terminated, False, info


class MaskVelocity(gym.ObservationWrapper):
    """CartPole without velocities: observation = [cart position, pole angle]."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.observation_space = spaces.Box(-np.inf, np.inf, (2,), np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return observation[[0, 2]].astype(np.float32)


class DictEnv(gym.Env):
    """Dict observation (vector and scalar parts), Box action, 8-step episodes."""

    def __init__(self) -> None:
        self.observation_space = spaces.Dict(
            {"a": spaces.Box(-1.0, 1.0, (3,), np.float32), "b": spaces.Box(-1.0, 1.0, (1,), np.float32)}
        )
        self.action_space = spaces.Box(-2.0, 2.0, (2,), np.float32)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        self.t += 1
        return self.observation_space.sample(), float(-np.sum(np.square(action))), False, self.t >= 8, {}


class ImageEnv(gym.Env):
    """32x32 RGB uint8 image observation (channels first), Discrete(3) action, 6-step episodes."""

    def __init__(self) -> None:
        self.observation_space = spaces.Box(0, 255, (3, 32, 32), np.uint8)
        self.action_space = spaces.Discrete(3)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return self.observation_space.sample(), float(action == 1), False, self.t >= 6, {}


@pytest.fixture
def counter_env() -> type[CounterEnv]:
    """:return: the counter env class."""
    return CounterEnv


@pytest.fixture
def masked_cartpole() -> Any:
    """:return: a factory of CartPole without velocities."""

    def make() -> gym.Env:
        return MaskVelocity(gym.make("CartPole-v1"))

    return make


@pytest.fixture
def dict_env() -> type[DictEnv]:
    """:return: the Dict-observation env class."""
    return DictEnv


@pytest.fixture
def image_env() -> type[ImageEnv]:
    """:return: the image-observation env class."""
    return ImageEnv
