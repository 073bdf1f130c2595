"""A task in other units: the same dynamics, observations and rewards multiplied by constants.

Used to check that a learning algorithm does not depend on the scale a user's env happens to
report in (``NCPControl/CartPoleNoVelRescaled-v1``: CartPole without velocities, its position
and angle in thousandths, a reward of 100 per step).

Example::

    import gymnasium as gym
    import ncp_control.envs  # registers the NCPControl/ environments

    env = gym.make("NCPControl/CartPoleNoVelRescaled-v1")
    obs, info = env.reset(seed=0)   # the NoVel task's observation x 1000
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import TransformObservation, TransformReward


def make_rescaled_env(base_id: str, observation_scale: float, reward_scale: float, **kwargs: Any) -> gym.Env:
    """Make ``base_id`` with observations and rewards multiplied by constants.

    :param base_id: a registered env id with a Box observation space.
    :param observation_scale: factor applied to every observation entry (and to the space's bounds).
    :param reward_scale: factor applied to every reward.
    :param kwargs: arguments for ``gym.make(base_id, ...)``.
    :return: the wrapped env.
    """
    for name, value in (("observation_scale", observation_scale), ("reward_scale", reward_scale)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")
    env = gym.make(base_id, **kwargs)
    space = env.observation_space
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"{base_id} has a {type(space).__name__} observation space; a rescaled env needs a Box")
    scaled = gym.spaces.Box(space.low * observation_scale, space.high * observation_scale, dtype=space.dtype)
    dtype = space.dtype
    env = TransformObservation(env, lambda obs: (obs * observation_scale).astype(dtype), scaled)
    return TransformReward(env, lambda reward: float(reward) * reward_scale)
