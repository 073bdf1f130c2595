"""Keep a policy's function when an outer ``VecNormalize`` moves its statistics.

``VecNormalize`` normalises observations and rewards with running statistics that change at
every step, outside the policy. When they move, the same observation reaches the network as
another input, and the same reward is another number for the critic, with no gradient step
asking for it: a solved policy drifts (the learning page, *An outer VecNormalize*).
:class:`VecNormalizeFollower` restates the policy's own normalisers in the ``VecNormalize``'s
new units after each update (:meth:`~ncp_control.agents.normalize.RunningNormalizer.change_coordinates`):
the observation normaliser for the observation statistics (policies with
``preserve_observation_function``), the value normaliser for the reward scale (policies with
``normalize_values``), so that the actions and values for an observation move only with the
policy's weights.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch as th
from ncp_control.agents.normalize import RunningNormalizer
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecNormalize


class _Units(NamedTuple):
    """What a ``VecNormalize`` subtracts and divides by, when the policy last followed it."""

    obs: tuple[np.ndarray, np.ndarray] | None  # mean, std: [*obs_shape] each (None: not followed)
    reward_std: float | None  # None: not followed


class VecNormalizeFollower:
    """Restates a policy's normalisers in the units of a ``VecNormalize`` whose statistics moved.

    :param obs_normalizer: the policy's observation normaliser, or None (observations are not followed).
    :param value_normalizer: the policy's value normaliser, or None (rewards are not followed).
    """

    def __init__(self, obs_normalizer: RunningNormalizer | None, value_normalizer: RunningNormalizer | None) -> None:
        self.obs_normalizer = obs_normalizer
        self.value_normalizer = value_normalizer
        self._units: _Units | None = None

    def _read(self, vec_normalize: VecNormalize) -> _Units:
        """:return: the ``VecNormalize``'s current units of what this follower follows."""
        obs_rms, eps = vec_normalize.obs_rms, vec_normalize.epsilon
        obs = None
        if self.obs_normalizer is not None and vec_normalize.norm_obs and isinstance(obs_rms, RunningMeanStd):
            obs = (np.array(obs_rms.mean, dtype=np.float64), np.sqrt(obs_rms.var + eps))
        reward_std = None
        if self.value_normalizer is not None and vec_normalize.norm_reward:
            reward_std = float(np.sqrt(vec_normalize.ret_rms.var + eps))
        return _Units(obs=obs, reward_std=reward_std)

    @th.no_grad()
    def follow(self, vec_normalize: VecNormalize | None) -> None:
        """Restate the normalisers for the ``VecNormalize``'s change since the last call (the
        first call only records its units).

        :param vec_normalize: the training env's ``VecNormalize`` (None: nothing to follow).
        """
        old, self._units = self._units, (self._read(vec_normalize) if vec_normalize is not None else None)
        units = self._units
        if old is None or units is None:
            return
        if self.obs_normalizer is not None and units.obs is not None and old.obs is not None:
            (mean, std), (old_mean, old_std) = units.obs, old.obs
            # the policy saw (x - old_mean) / old_std = scale * (x - mean) / std + shift
            like = self.obs_normalizer.mean
            self.obs_normalizer.change_coordinates(
                th.as_tensor(std / old_std, dtype=like.dtype, device=like.device),
                th.as_tensor((mean - old_mean) / old_std, dtype=like.dtype, device=like.device),
            )
        if self.value_normalizer is not None and units.reward_std is not None and old.reward_std is not None:
            # a return in the old units r / old_std is (std / old_std) times the same return in the new ones
            like = self.value_normalizer.mean
            self.value_normalizer.change_coordinates(
                th.as_tensor(units.reward_std / old.reward_std, dtype=like.dtype, device=like.device),
                th.zeros((), dtype=like.dtype, device=like.device),
            )
