"""Tuned LiquidPPO hyperparameters shipped with the package (rl-baselines3-zoo YAML format).

``agents/hyperparams/liquid_ppo.yml`` holds one entry per env id with ``n_envs``,
``n_timesteps``, ``policy`` and the algorithm's arguments; ``lin_X`` is a linear decay from
X to 0 over training, as in rl-baselines3-zoo; ``normalize_reward: true`` scales the training
rewards by a running estimate of the return's spread (SB3's ``VecNormalize``, rewards only);
``policy_overrides: {Alias: {...}}`` holds what differs for another policy trained with the
entry's recipe (e.g. the LTC's learning rate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from agents.ppo import LiquidPPO
from agents.runs import algorithm_arguments, apply_policy_overrides

#: Folder of the YAML files.
HYPERPARAMS_DIR = Path(__file__).parent / "hyperparams"


def hyperparams_file(algo: str = "liquid_ppo") -> Path:
    """:param algo: file stem. :return: the YAML file of that algorithm."""
    path = HYPERPARAMS_DIR / f"{algo}.yml"
    if not path.is_file():
        choices = sorted(p.stem for p in HYPERPARAMS_DIR.glob("*.yml"))
        raise ValueError(f"no hyperparameters for algo {algo!r}; choose one of {choices}")
    return path


def tuned(env_id: str, algo: str = "liquid_ppo", policy: str | None = None) -> dict[str, Any]:
    """The tuned entry of one task, with ``lin_X`` strings turned into schedules and
    ``policy_kwargs`` resolved (:func:`agents.runs.algorithm_arguments`).

    :param env_id: e.g. ``"NCPControl/CartPoleNoVel-v1"``.
    :param algo: file stem.
    :param policy: the policy alias to be trained (None: the entry's own); its
        ``policy_overrides`` are applied.
    :return: a mapping with ``n_envs``, ``n_timesteps``, ``policy`` and algorithm arguments.
    """
    table = yaml.safe_load(hyperparams_file(algo).read_text())
    if env_id not in table:
        raise ValueError(f"no tuned hyperparameters for {env_id!r}; tasks: {sorted(table)}")
    return algorithm_arguments(apply_policy_overrides(table[env_id], policy))


def make_tuned(env_id: str, seed: int = 0, policy: str | None = None, **overrides: Any) -> tuple[LiquidPPO, int]:
    """Build LiquidPPO with the tuned hyperparameters of a task.

    :param env_id: the task.
    :param seed: seed of the model and the training envs.
    :param policy: another policy alias than the tuned one (the same recipe, with that
        policy's ``policy_overrides``).
    :param overrides: algorithm arguments that replace tuned ones.
    :return: the model and its tuned budget in env steps.
    """
    import envs  # noqa: F401  (registers the NCPControl/ ids)

    params = {**tuned(env_id, policy=policy), **overrides}
    n_envs = int(params.pop("n_envs", 1))
    budget = int(float(params.pop("n_timesteps")))
    tuned_policy = params.pop("policy")
    normalize_reward = bool(params.pop("normalize_reward", False))
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)
    if normalize_reward:  # training returns only: evaluation and predict see the raw env
        env = VecNormalize(env, norm_obs=False, norm_reward=True, gamma=float(params.get("gamma", 0.99)))
    return LiquidPPO(policy or tuned_policy, env, seed=seed, **params), budget
