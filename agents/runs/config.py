"""A run's configuration: the algorithm, its arguments and the environment.

:class:`RunConfig` is everything that defines a training run; :func:`algorithm_arguments` turns
hyperparameters as a file holds them into constructor arguments.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ncp_control.agents.policy_kwargs import parse_policy_kwargs, resolve_policy_kwargs
from ncp_control.agents.recipes import NOISE_KEYS, check_noise, normalize_options, read_recipe
from ncp_control.envs.perturbations.train_shift import parse_train_shifts
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.utils import LinearSchedule

from ncp_control.errors import UserError


def algorithms() -> dict[str, type[BaseAlgorithm]]:
    """:return: algorithm name -> class (LiquidPPO, LiquidSAC, LiquidTD3, SB3 PPO/A2C/SAC/TD3, sb3-contrib RecurrentPPO)."""
    from ncp_control.agents.ppo import LiquidPPO
    from ncp_control.agents.sac import LiquidSAC
    from ncp_control.agents.td3 import LiquidTD3
    from sb3_contrib import RecurrentPPO
    from stable_baselines3 import A2C, PPO, SAC, TD3

    return {"LiquidPPO": LiquidPPO, "LiquidSAC": LiquidSAC, "LiquidTD3": LiquidTD3, "PPO": PPO, "A2C": A2C, "SAC": SAC, "TD3": TD3, "RecurrentPPO": RecurrentPPO}


def package_policies(algo: str) -> dict[str, type]:
    """The package's policies for an SB3 or sb3-contrib algorithm, which it does not know by name.

    :param algo: algorithm name (see :func:`algorithms`).
    :return: class name -> class (``RecurrentCfCPolicy`` ... for ``RecurrentPPO``, the stateless NCP
        actors for ``PPO``, ``A2C``, ``SAC`` and ``TD3``; empty for ``LiquidPPO``, ``LiquidSAC`` and ``LiquidTD3``, whose aliases cover their own).
    """
    from ncp_control.agents import recurrent_ppo, stateless

    classes: dict[str, tuple[type, ...]] = {
        "RecurrentPPO": (recurrent_ppo.RecurrentCfCPolicy, recurrent_ppo.RecurrentLTCPolicy,
                         recurrent_ppo.RecurrentCTRNNPolicy, recurrent_ppo.RecurrentLiquidPolicy),
        "PPO": (stateless.NCPActorCriticPolicy,),
        "A2C": (stateless.NCPActorCriticPolicy,),
        "SAC": (stateless.NCPSACPolicy,),
        "TD3": (stateless.NCPTD3Policy,),
    }
    return {cls.__name__: cls for cls in classes.get(algo, ())}


def policy_of(algo: str, policy: str) -> str | type:
    """What an algorithm is built with for a policy name.

    :param algo: algorithm name (see :func:`algorithms`).
    :param policy: one of the algorithm's aliases (``MlpPolicy``, ``CfCPolicy``, ``MlpLstmPolicy``...) or
        the class name of one of the package's policies for it (:func:`package_policies`).
    :return: the alias itself, or the package's class.
    :raises UserError: for a name the algorithm does not know.
    """
    aliases = getattr(algorithms()[algo], "policy_aliases", {})
    if policy in aliases:
        return policy
    ours = package_policies(algo)
    if policy in ours:
        return ours[policy]
    names = sorted(aliases) + sorted(ours)
    close = difflib.get_close_matches(policy, names, 1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise UserError(f"policy {policy!r} is not a policy of {algo}{hint}; choose one of {names}")


def algorithm_parameters(algo: str) -> set[str]:
    """The constructor arguments an algorithm takes besides ``policy``, ``env`` and the ones a
    run sets itself (``seed``, ``tensorboard_log``, ``verbose``).

    :param algo: a name of :func:`algorithms`.
    :return: the argument names.
    """
    import inspect

    parameters = inspect.signature(algorithms()[algo].__init__).parameters
    return set(parameters) - {"self", "policy", "env", "seed", "tensorboard_log", "verbose", "_init_setup_model"}


@dataclass
class RunConfig:
    """Everything that defines a training run.

    :param env_id: Gymnasium id.
    :param policy: policy alias (``CfCPolicy``, ``MlpPolicy``, ...) or the class name of one of the
        package's policies for an SB3 or sb3-contrib algorithm (``RecurrentCfCPolicy``; see
        :func:`package_policies`).
    :param algo: algorithm name (see :func:`algorithms`).
    :param timesteps: total environment steps.
    :param seed: training seed.
    :param n_envs: parallel environments (DummyVecEnv).
    :param hyperparams: algorithm arguments (``n_steps``, ``learning_rate``, ``policy_kwargs``...).
    :param env_kwargs: environment constructor arguments (used for training, evaluation,
        robustness and inspection of the run).
    :param normalize: ``VecNormalize`` options of the training envs (empty: none; see
        :func:`ncp_control.agents.recipes.normalize_options`).
    :param checkpoint_freq: steps between checkpoints (0: none).
    :param eval_freq: steps between clean evaluations (0: none).
    :param eval_episodes: episodes per evaluation.
    :param train_shift: training under shift, ``SUITE_OR_NAME[:MAX_LEVEL]`` items (empty: the
        nominal env); see :mod:`ncp_control.envs.perturbations.train_shift`.
    """

    env_id: str
    policy: str = "CfCPolicy"
    algo: str = "LiquidPPO"
    timesteps: int = 100_000
    seed: int = 0
    n_envs: int = 1
    hyperparams: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    normalize: dict[str, Any] = field(default_factory=dict)
    checkpoint_freq: int = 10_000
    eval_freq: int = 10_000
    eval_episodes: int = 5
    train_shift: list[str] = field(default_factory=list)

    def validate(self) -> None:
        """Check every field, so that a run that starts does not fail on its configuration.

        :raises UserError: for an unknown algorithm, non-positive sizes, a seed outside
            ``[0, 2**32)``, arguments the algorithm does not take, or env arguments or
            ``normalize`` options that are not plain data; each names the field.
        """
        names = algorithms()
        if self.algo not in names:
            raise UserError(f"unknown algorithm {self.algo!r}; choose one of {sorted(names)}")
        if not isinstance(self.env_id, str) or not self.env_id:
            raise UserError(f"env_id must be a Gymnasium id such as 'Pendulum-v1', got {self.env_id!r}")
        if not isinstance(self.policy, str) or not self.policy:
            raise UserError(f"policy must be a policy alias such as 'CfCPolicy', got {self.policy!r}")
        policy_of(self.algo, self.policy)
        for name in ("timesteps", "n_envs", "seed", "checkpoint_freq", "eval_freq", "eval_episodes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise UserError(f"{name} must be a whole number, got {value!r}")
        if self.timesteps < 1 or self.n_envs < 1:
            raise UserError(f"timesteps and n_envs must be positive, got {self.timesteps} and {self.n_envs}")
        if not 0 <= self.seed < 2**32:
            raise UserError(f"seed must be in [0, 2**32), got {self.seed}")
        for name in ("checkpoint_freq", "eval_freq", "eval_episodes"):
            if getattr(self, name) < 0:
                raise UserError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("hyperparams", "env_kwargs", "normalize"):
            if not isinstance(getattr(self, name), dict):
                raise UserError(f"{name} must be a mapping, got {getattr(self, name)!r}")
        self.env_kwargs = parse_policy_kwargs(self.env_kwargs, "env_kwargs")
        self.normalize = normalize_options(self.normalize, where="normalize") if self.normalize else {}
        self.train_shift = [str(shift) for shift in parse_train_shifts(self.train_shift)]
        taken = algorithm_parameters(self.algo)
        if "action_noise" in taken:  # rl-zoo's noise_type and noise_std build it
            taken |= set(NOISE_KEYS)
            check_noise(self.hyperparams)
        not_taken = sorted(set(self.hyperparams) - taken)
        if not_taken:
            hints = [f"{key} -> {close[0]}" for key in not_taken if (close := difflib.get_close_matches(key, taken, 1))]
            raise UserError(f"hyperparams {not_taken} are not arguments of {self.algo}"
                            + (f" (did you mean {', '.join(hints)}?)" if hints else "")
                            + "; remove them or choose an algorithm that takes them")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """:param data: a mapping with the fields of this class. :return: the config."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise UserError(f"unknown run configuration keys {unknown}; allowed: {sorted(known)}")
        return cls(**dict(data))


def load_hyperparams(path: str | os.PathLike[str], env_id: str, policy: str | None = None) -> dict[str, Any]:
    """Read a recipe file (:func:`ncp_control.agents.recipes.read_recipe`, the one reader of the rl-zoo format)
    as one flat mapping: the algorithm's arguments, and ``n_envs``, ``n_timesteps``, ``policy``,
    ``env_kwargs``, ``normalize`` (``VecNormalize`` options) where the file gives them.

    ``policy_kwargs`` are plain data (:func:`ncp_control.agents.policy_kwargs.parse_policy_kwargs`, never
    evaluated); ``lin_X`` stays a string until :func:`algorithm_arguments`.

    :param path: the YAML file (rl-zoo style ``{env_id: {...}}`` or flat).
    :param env_id: the entry to read in a zoo-style file.
    :param policy: the policy alias to be trained (None: the entry's).
    :return: the hyperparameters.
    """
    return read_recipe(path, env_id, policy).flat()


def schedule_from(value: Any) -> Any:
    """:param value: a hyperparameter as written in a file.
    :return: for ``"lin_X"``, a linear decay from X to 0 over training (rl-zoo3 convention);
        any other value unchanged."""
    if isinstance(value, str) and value.startswith("lin_"):
        return LinearSchedule(float(value[4:]), 0.0, 1.0)
    return value


def algorithm_arguments(hyperparams: Mapping[str, Any]) -> dict[str, Any]:
    """Constructor arguments from hyperparameters as a file holds them: ``lin_X`` schedules
    (:func:`schedule_from`) and ``policy_kwargs`` resolved by
    :func:`ncp_control.agents.policy_kwargs.resolve_policy_kwargs` (activation names to classes; a string
    is parsed by :func:`ncp_control.agents.policy_kwargs.parse_policy_kwargs` first, never evaluated).

    :param hyperparams: plain hyperparameters (not changed).
    :return: the arguments.
    """
    params = {k: schedule_from(v) for k, v in hyperparams.items()}
    kwargs = params.get("policy_kwargs")
    if isinstance(kwargs, str):
        kwargs = parse_policy_kwargs(kwargs)
    if kwargs is not None:
        params["policy_kwargs"] = resolve_policy_kwargs(kwargs)
    return params
