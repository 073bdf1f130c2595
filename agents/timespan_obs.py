"""Timespans for SB3 algorithms that pass only observations: sb3-contrib's ``RecurrentPPO`` and
SB3's ``PPO``, ``SAC``, ``TD3`` with the stateless NCP actors.

:class:`TimespanObservation` wraps an env so that its observation carries each step's timespan
(``{"observation": obs, "timespan": [1]}``; a Dict observation gets a ``"timespan"`` key),
computed by :mod:`ncp_control.agents.timing` (``info["dt"] / time_unit``; the first step of an
episode lasts one nominal control period). :class:`TimespanExtractor` is the features extractor
that the liquid policies pick for such observations: it extracts features from the rest and
leaves the timespans in a :class:`TimeSlot` that the liquid network reads in the same forward
pass. Train with ``make_vec_env(env_id, wrapper_class=TimespanObservation)`` and evaluate with
the same wrapper.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.timing import default_time_unit, first_step_seconds, timespans_from_infos
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor, FlattenExtractor

from ncp_control.timespans import check_time_unit, to_timespans

#: Observation key of the timespan.
TIMESPAN_KEY = "timespan"
#: Observation key of a Box observation next to its timespan.
OBSERVATION_KEY = "observation"


class TimespanObservation(gym.Wrapper):
    """Adds the timespan of the step that led to each observation to the observation.

    :param env: the environment (Box or Dict observations).
    :param time_unit: seconds per unit of timespan (None: the env's nominal control period,
        :func:`~ncp_control.agents.timing.default_time_unit`).
    """

    def __init__(self, env: gym.Env, time_unit: float | None = None) -> None:
        super().__init__(env)
        self.time_unit = default_time_unit(env) if time_unit is None else check_time_unit(time_unit)
        self.observation_space = with_timespan_space(env.observation_space)

    def _with(self, obs: Any, timespan: float) -> dict[str, Any]:
        return with_timespans(obs, np.array([timespan], dtype=np.float32))

    def reset(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset; the first observation's timespan is one nominal control period."""
        obs, info = self.env.reset(**kwargs)
        return self._with(obs, float(to_timespans(first_step_seconds(self.env), self.time_unit))), info

    def step(self, action: Any) -> tuple[dict[str, Any], Any, bool, bool, dict[str, Any]]:
        """Step; the observation's timespan is ``info["dt"] / time_unit`` (1.0 without ``dt``)."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._with(obs, float(timespans_from_infos([info], self.time_unit)[0])), reward, terminated, truncated, info


def with_timespan_space(space: spaces.Space) -> spaces.Dict:
    """:param space: an env's observation space. :return: the space of its :class:`TimespanObservation`."""
    span = spaces.Box(0.0, np.inf, shape=(1,), dtype=np.float32)
    if isinstance(space, spaces.Dict):
        return spaces.Dict({**space.spaces, TIMESPAN_KEY: span})
    return spaces.Dict({OBSERVATION_KEY: space, TIMESPAN_KEY: span})


def without_timespan_space(space: spaces.Space) -> spaces.Space:
    """:param space: a policy's observation space. :return: the env's space under its
    :class:`TimespanObservation` (``space`` itself when it carries no timespan)."""
    if not (isinstance(space, spaces.Dict) and TIMESPAN_KEY in space.spaces):
        return space
    rest = {key: inner for key, inner in space.spaces.items() if key != TIMESPAN_KEY}
    return rest[OBSERVATION_KEY] if list(rest) == [OBSERVATION_KEY] else spaces.Dict(rest)


def with_timespans(observations: Any, timespans: np.ndarray) -> dict[str, Any]:
    """An observation (or a batch) as :class:`TimespanObservation` gives it.

    :param observations: an array or a dict of arrays (one observation or a batch of ``n``).
    :param timespans: ``[1]`` for one observation, ``[n, 1]`` for a batch (float32).
    :return: the dict with the ``"timespan"`` key.
    """
    if isinstance(observations, dict):
        return {**observations, TIMESPAN_KEY: timespans}
    return {OBSERVATION_KEY: observations, TIMESPAN_KEY: timespans}


def reads_timespans(policy: Any) -> bool:
    """:param policy: a policy alias or class. :return: whether it is one of the package's policies for
    SB3 and sb3-contrib algorithms that read each step's timespan from a :class:`TimespanObservation`
    (their envs are wrapped in it by ``ncp-control train``)."""
    return isinstance(policy, type) and bool(getattr(policy, "reads_timespans", False))


class TimeSlot:
    """The timespans of the batch in the current forward pass (``[B]`` or None)."""

    def __init__(self) -> None:
        self.timespans: th.Tensor | None = None


class TimespanExtractor(BaseFeaturesExtractor):
    """Features of a :class:`TimespanObservation`'s observation; its timespans go to :attr:`slot`.

    :param observation_space: the Dict space with a ``"timespan"`` key.
    :param features_extractor_class: extractor of the rest (default: flatten for a single Box,
        SB3's ``CombinedExtractor`` for several keys).
    :param features_extractor_kwargs: its keyword arguments.
    """

    def __init__(self, observation_space: spaces.Dict, features_extractor_class: type[BaseFeaturesExtractor] | None = None,
                 features_extractor_kwargs: dict[str, Any] | None = None) -> None:
        rest = {key: space for key, space in observation_space.spaces.items() if key != TIMESPAN_KEY}
        self._single = set(rest) == {OBSERVATION_KEY}
        inner_space = rest[OBSERVATION_KEY] if self._single else spaces.Dict(rest)
        chosen = features_extractor_class or (FlattenExtractor if self._single else CombinedExtractor)
        inner = chosen(inner_space, **(features_extractor_kwargs or {}))
        super().__init__(observation_space, inner.features_dim)
        self.inner = inner
        self.slot = TimeSlot()

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:  # type: ignore[override]
        """:param observations: the Dict batch. :return: features ``[B, features_dim]``."""
        self.slot.timespans = observations[TIMESPAN_KEY].reshape(-1)
        if self._single:
            return self.inner(observations[OBSERVATION_KEY])
        return self.inner({key: value for key, value in observations.items() if key != TIMESPAN_KEY})


def use_timespan_extractor(observation_space: spaces.Space, kwargs: dict[str, Any]) -> None:
    """Pick :class:`TimespanExtractor` for a :class:`TimespanObservation` space, in place.

    :param observation_space: the policy's observation space.
    :param kwargs: the policy's keyword arguments (``features_extractor_class`` is set unless given).
    """
    if isinstance(observation_space, spaces.Dict) and TIMESPAN_KEY in observation_space.spaces:
        kwargs.setdefault("features_extractor_class", TimespanExtractor)


def slot_of(extractor: Any) -> TimeSlot | None:
    """:param extractor: a features extractor. :return: its time slot, or None."""
    slot = getattr(extractor, "slot", None)
    return slot if isinstance(slot, TimeSlot) else None
