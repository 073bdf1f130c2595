"""Models of a run: built fresh from a configuration, written and rebuilt weights-only."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ncp_control.agents.model_state import read_state_meta, restore_state, save_state
from ncp_control.agents.recipes import training_env, with_action_noise
from ncp_control.agents.runs.config import RunConfig, algorithm_arguments, algorithms, policy_of
from ncp_control.agents.runs.folder import RunFolder
from ncp_control.agents.timespan_obs import reads_timespans
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from ncp_control.errors import UserError


def run_env(config: RunConfig, seed: int) -> VecEnv:
    """The training envs of a run (:func:`~ncp_control.agents.recipes.training_env`); each env carries
    its steps' timespans (:class:`~ncp_control.agents.timespan_obs.TimespanObservation`) when the
    policy reads them (the package's policies for SB3 and sb3-contrib algorithms).

    :param config: the run configuration.
    :param seed: seed of the first env.
    :return: the vectorised envs.
    """
    timespans = reads_timespans(policy_of(config.algo, config.policy))
    return training_env(config.env_id, config.n_envs, seed, config.env_kwargs, config.normalize, config.train_shift,
                        timespans=timespans)


def new_model(config: RunConfig, tensorboard_log: str | None = None, device: str | None = None) -> BaseAlgorithm:
    """A fresh model for ``config`` on its own envs (``config.n_envs``, seeded ``config.seed``).

    :param config: the run configuration.
    :param tensorboard_log: TensorBoard folder (None: no logs).
    :param device: torch device (None: the hyperparameters' or SB3's default).
    :return: the model.
    """
    algo = algorithms()[config.algo]
    policy = policy_of(config.algo, config.policy)
    env = run_env(config, config.seed)
    params = with_action_noise(algorithm_arguments(config.hyperparams), env.action_space)
    if device is not None:
        params["device"] = device
    try:
        return algo(policy, env, seed=config.seed, tensorboard_log=tensorboard_log, verbose=0, **params)
    except (KeyError, TypeError, ValueError) as error:  # the configuration does not build: the user's to fix
        env.close()
        first = " ".join(str(error).split())
        raise UserError(f"cannot build {config.algo} with policy {config.policy!r} and these hyperparams: "
                        f"{first}") from None


def build_model(config: RunConfig, folder: RunFolder) -> BaseAlgorithm:
    """A fresh model for ``config``, logging to the run's TensorBoard folder.

    :param config: the run configuration.
    :param folder: the run folder.
    :return: the model.
    """
    return new_model(config, tensorboard_log=str(folder.tensorboard))


def save_model_state(model: BaseAlgorithm, path: Path, config: RunConfig, replay_buffer: bool = False,
                     streams: dict[str, Any] | None = None) -> Path:
    """Write a model weights-only with its run configuration (see :mod:`ncp_control.agents.model_state`).

    :param model: the model.
    :param path: the state folder (replaced atomically).
    :param config: the run's configuration (stored, so that the folder rebuilds on its own).
    :param replay_buffer: also store an off-policy replay buffer (checkpoints).
    :param streams: the run's random streams and rollout position (checkpoints, see
        :mod:`ncp_control.agents.streams`).
    :return: the folder.
    """
    return save_state(model, path, {"config": asdict(config)}, replay_buffer=replay_buffer, streams=streams)


def load_model_state(path: str | os.PathLike[str], tensorboard_log: str | None = None,
                     device: str | None = None) -> tuple[BaseAlgorithm, RunConfig]:
    """Rebuild a model from a state folder of :func:`save_model_state`, without unpickling.

    :param path: the state folder (a run's ``model/`` or ``checkpoints/step_<N>/``).
    :param tensorboard_log: TensorBoard folder of the rebuilt model.
    :param device: torch device.
    :return: the model (with its own envs) and its run configuration.
    :raises ValueError: if the folder is not a state, or does not fit its configuration.
    """
    data = read_state_meta(path)
    meta = data.get("meta") or {}
    if not isinstance(meta.get("config"), dict):
        raise UserError(f"{path} holds no run configuration; it cannot be rebuilt")
    config = RunConfig.from_dict(meta["config"])
    model = new_model(config, tensorboard_log=tensorboard_log, device=device)
    return restore_state(model, path), config
