"""Making environments by id, with one clear error for what a user can get wrong."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym

from ncp_control.errors import UserError


def make_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> gym.Env:
    """Make an environment by id (our ``NCPControl/`` ids are registered first).

    :param env_id: a Gymnasium id.
    :param env_kwargs: constructor arguments.
    :return: the environment.
    :raises UserError: for an unknown id, or arguments the env refuses.
    """
    import ncp_control.envs  # noqa: F401  (registers the NCPControl namespace)

    if not isinstance(env_id, str) or (":" not in env_id and env_id not in gym.registry):
        ours = sorted(k for k in gym.registry if k.startswith("NCPControl/"))
        raise UserError(f"unknown env id {env_id!r}; ids of this package: {ours}")
    kwargs = dict(env_kwargs or {})
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as error:
        raise UserError(f"cannot make {env_id!r}: {' '.join(str(error).split())}") from None
    except (TypeError, ValueError) as error:  # the env refused its arguments
        if not kwargs:
            raise
        raise UserError(f"{env_id} does not accept env_kwargs {kwargs}: {' '.join(str(error).split())}; "
                        "change --env-kwargs (or the config's env_kwargs)") from None


def policy_observation_space(space: gym.Space) -> gym.Space:
    """The observation space a Stable-Baselines3 policy trained on an env with ``space`` has:
    SB3 wraps an env with channels-last images (``[H, W, C]``, as our camera tasks give) in
    ``VecTransposeImage``, so its policy sees ``[C, H, W]``.

    :param space: the env's observation space.
    :return: the transposed image space, or ``space`` itself.
    """
    from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
    from stable_baselines3.common.vec_env import VecTransposeImage

    if isinstance(space, gym.spaces.Box) and is_image_space(space) and not is_image_space_channels_first(space):
        return VecTransposeImage.transpose_space(space)
    return space


def channels_last(env_space: gym.Space, policy_space: gym.Space) -> bool:
    """:param env_space: the env's observation space. :param policy_space: the policy's.
    :return: whether the env gives channels-last images that the policy reads transposed
        (:func:`policy_observation_space`)."""
    return env_space != policy_space and policy_observation_space(env_space) == policy_space
