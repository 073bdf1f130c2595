"""Tuned LiquidPPO hyperparameters shipped with the package (rl-baselines3-zoo YAML format).

``agents/hyperparams/liquid_ppo.yml`` holds one entry per env id with ``n_envs``,
``n_timesteps``, ``policy`` and the algorithm's arguments; ``lin_X`` is a linear decay from
X to 0 over training, as in rl-baselines3-zoo; ``normalize_reward: true`` scales the training
rewards by a running estimate of the return's spread (SB3's ``VecNormalize``, rewards only);
``policy_overrides: {Alias: {...}}`` holds what differs for another policy trained with the
entry's recipe (e.g. the LTC's learning rate). The file is read by :mod:`ncp_control.agents.recipes`, the
one reader of the format, which ``ncp-control train`` uses too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ncp_control.agents.ppo import LiquidPPO
from ncp_control.agents.recipes import HYPERPARAMS_DIR, hyperparams_file, shipped_recipe, training_env
from ncp_control.agents.runs import algorithm_arguments

__all__ = ["HYPERPARAMS_DIR", "hyperparams_file", "make_tuned", "tuned"]


def tuned(env_id: str, algo: str = "liquid_ppo", policy: str | None = None) -> dict[str, Any]:
    """The tuned entry of one task, with ``lin_X`` strings turned into schedules and
    ``policy_kwargs`` resolved (:func:`ncp_control.agents.runs.algorithm_arguments`).

    :param env_id: e.g. ``"NCPControl/CartPoleNoVel-v1"``.
    :param algo: file stem.
    :param policy: the policy alias to be trained (None: the entry's own); its
        ``policy_overrides`` are applied.
    :return: a mapping with ``n_envs``, ``n_timesteps``, ``policy``, the algorithm arguments
        and, where the entry has them, ``env_kwargs`` and ``normalize`` (``VecNormalize`` options).
    """
    recipe = shipped_recipe(env_id, policy, algo)
    return algorithm_arguments(replace(recipe, n_envs=recipe.n_envs or 1).flat())


def make_tuned(env_id: str, seed: int = 0, policy: str | None = None, **overrides: Any) -> tuple[LiquidPPO, int]:
    """Build LiquidPPO with the tuned hyperparameters of a task, on the training envs
    :func:`ncp_control.agents.recipes.training_env` builds for the recipe (``n_envs``, ``env_kwargs``,
    ``normalize``), as ``ncp-control train`` does.

    :param env_id: the task.
    :param seed: seed of the model and the training envs.
    :param policy: another policy alias than the tuned one (the same recipe, with that
        policy's ``policy_overrides``).
    :param overrides: algorithm arguments that replace tuned ones.
    :return: the model and its tuned budget in env steps.
    """
    recipe = shipped_recipe(env_id, policy)
    params = {**algorithm_arguments(recipe.hyperparams), **overrides}
    env = training_env(env_id, recipe.n_envs or 1, seed, recipe.env_kwargs, recipe.normalize)
    model = LiquidPPO(policy or recipe.policy or "CfCPolicy", env, seed=seed, **params)
    return model, int(recipe.n_timesteps or 0)
