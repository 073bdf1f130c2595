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
    """What a ``VecNormalize`` divides by and subtracts, when the policy last followed it."""

    obs_mean: np.ndarray | None  # [*obs_shape]
    obs_std: np.ndarray | None  # [*obs_shape]
    reward_std: float | None


def _units(vec_normalize: VecNormalize, follow_obs: bool, follow_rewards: bool) -> _Units:
    obs = vec_normalize.obs_rms if follow_obs and isinstance(vec_normalize.obs_rms, RunningMeanStd) else None
    ret = vec_normalize.ret_rms if follow_rewards else None
    return _Units(
        obs_mean=np.array(obs.mean, dtype=np.float64) if obs is not None else None,
        obs_std=np.sqrt(obs.var + vec_normalize.epsilon) if obs is not None else None,
        reward_std=float(np.sqrt(ret.var + vec_normalize.epsilon)) if ret is not None else None,
    )


class VecNormalizeFollower:
    """Restates a policy's normalisers in the units of a ``VecNormalize`` whose statistics moved.

    :param obs_normalizer: the policy's observation normaliser, or None (observations are not followed).
    :param value_normalizer: the policy's value normaliser, or None (rewards are not followed).
    """

    def __init__(self, obs_normalizer: RunningNormalizer | None, value_normalizer: RunningNormalizer | None) -> None:
        self.obs_normalizer = obs_normalizer
        self.value_normalizer = value_normalizer
        self._units: _Units | None = None

    def reset(self) -> None:
        """Forget the units followed so far (the next :meth:`follow` only records them)."""
        self._units = None

    @th.no_grad()
    def follow(self, vec_normalize: VecNormalize | None) -> None:
        """Restate the normalisers for the ``VecNormalize``'s change since the last call.

        :param vec_normalize: the training env's ``VecNormalize`` (None: nothing to follow).
        """
        if vec_normalize is None:
            self._units = None
            return
        follow_obs = (self.obs_normalizer is not None and vec_normalize.norm_obs
                      and isinstance(vec_normalize.obs_rms, RunningMeanStd))
        follow_rewards = self.value_normalizer is not None and vec_normalize.norm_reward
        units = _units(vec_normalize, follow_obs, follow_rewards)
        old = self._units
        self._units = units
        if old is None:
            return
        if self.obs_normalizer is not None and units.obs_mean is not None and old.obs_mean is not None:
            assert units.obs_std is not None and old.obs_std is not None
            # the policy saw (x - old_mean) / old_std = scale * (x - mean) / std + shift
            like = self.obs_normalizer.mean
            self.obs_normalizer.change_coordinates(
                th.as_tensor(units.obs_std / old.obs_std, dtype=like.dtype, device=like.device),
                th.as_tensor((units.obs_mean - old.obs_mean) / old.obs_std, dtype=like.dtype, device=like.device),
            )
        if self.value_normalizer is not None and units.reward_std is not None and old.reward_std is not None:
            # a return in the old units r / old_std is (std / old_std) times the same return in the new ones
            like = self.value_normalizer.mean
            self.value_normalizer.change_coordinates(
                th.as_tensor(units.reward_std / old.reward_std, dtype=like.dtype, device=like.device),
                th.zeros((), dtype=like.dtype, device=like.device),
            )
