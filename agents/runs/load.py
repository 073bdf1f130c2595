"""Opening a trained model: a run folder, a model state folder or (trusted) an SB3 zip."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

from ncp_control.agents.common.env_util import make_env, policy_observation_space
from ncp_control.agents.model_state import is_state_folder
from ncp_control.agents.runs.config import algorithms
from ncp_control.agents.runs.folder import RunFolder, pickle_refused
from ncp_control.agents.runs.models import load_model_state
from ncp_control.agents.timespan_obs import without_timespan_space
from ncp_control.agents.zips import zip_algorithm
from stable_baselines3.common.base_class import BaseAlgorithm

from ncp_control.errors import UserError


def _run_source(folder: RunFolder, trust_pickle: bool) -> Path:
    """The model a run folder holds: its final state, else its newest checkpoint (weights-only
    first; an earlier version's pickled ``.zip`` only with ``trust_pickle``)."""
    if is_state_folder(folder.model_state):
        return folder.model_state
    states = [p for p in folder.checkpoint_paths() if is_state_folder(p)]
    if states:
        return states[-1]
    zips = ([folder.model_zip] if folder.model_zip.is_file() else []) or folder.checkpoint_paths(pickled=True)[-1:]
    if zips:
        if not trust_pickle:
            raise pickle_refused(zips[0], "a model in SB3's pickled .zip format (a run of an earlier version)")
        return zips[0]
    raise UserError(f"run folder {folder.path} has no model yet (training never checkpointed)")


def load_model(path: str | os.PathLike[str], env_id: str | None = None,
               trust_pickle: bool = False) -> tuple[BaseAlgorithm, dict[str, Any]]:
    """Load a model from a run folder, a model state folder or an SB3 model zip, checking
    version and environment.

    Run folders and state folders are weights-only: the model is rebuilt from its stored
    configuration and its tensors are loaded, nothing is unpickled. An SB3 ``.zip`` (and a run
    of an earlier version that only has ``model.zip``) is opened with SB3's loader, which
    unpickles, only with ``trust_pickle=True``.

    :param path: a run folder, a state folder (``model/``, ``checkpoints/step_<N>/``) or a ``.zip``.
    :param env_id: the environment it will run on (checked against the model's spaces).
    :param trust_pickle: open SB3 zips (unpickling can run arbitrary code: your own files only).
    :return: the model (on the CPU, without envs) and its run information (``env_id``,
        ``env_kwargs`` (the run's environment arguments; empty for another ``env_id`` or a bare
        zip), ``algo``, ``policy``, ``path``, and ``seed`` for runs and states).
    :raises ValueError: if the folder is not a run, the files come from another version, a zip
        is given without ``trust_pickle``, or the model does not fit ``env_id``.
    """
    target = Path(path)
    info: dict[str, Any] = {}
    if target.is_dir() and is_state_folder(target):
        source = target
        run = target.parent.parent if target.parent.name == "checkpoints" else target.parent
        if (run / "run.json").is_file():
            info = RunFolder.open(run).info()
    elif target.is_dir():
        folder = RunFolder.open(target)
        config = folder.config()
        info = {**folder.info(), "seed": config.seed, "env_kwargs": dict(config.env_kwargs),
                "train_shift": list(config.train_shift)}
        source = _run_source(folder, trust_pickle)
    elif target.is_file():
        source = target
        marker = target.parent / "run.json"
        if marker.is_file():
            info = RunFolder.open(target.parent).info()
        if not trust_pickle:
            if not zipfile.is_zipfile(target):
                raise UserError(f"{target} is not a model saved by Stable-Baselines3 (not a zip file)")
            raise pickle_refused(target)
    else:
        raise FileNotFoundError(f"no run folder or model file at {target}")
    if is_state_folder(source):
        model, config = load_model_state(source, device="cpu")
        model.get_env().close()  # type: ignore[union-attr]
        model.env = None
        algo_name = config.algo
        info = {"env_id": config.env_id, "policy": config.policy, "seed": config.seed,
                "env_kwargs": dict(config.env_kwargs), **info}
    else:
        algo_name = str(info["algo"]) if "algo" in info else zip_algorithm(source)
        try:
            model = algorithms()[algo_name].load(source, device="cpu")
        except Exception as error:  # noqa: BLE001 - unpickling errors of any kind mean "not loadable here"
            raise UserError(
                f"cannot load {source} as {algo_name} (saved by another version of ncp-control or its "
                f"dependencies?): {type(error).__name__}: {error}"
            ) from None
    run_env = info.get("env_id")
    if env_id is not None and run_env is not None and run_env != env_id:
        raise UserError(f"model {source} was trained for {run_env}, not for {env_id}")
    env_kwargs = dict(info.get("env_kwargs") or {}) if env_id is None or env_id == run_env else {}
    if env_id is not None:
        env = make_env(env_id, env_kwargs)
        try:
            if (policy_observation_space(env.observation_space) != without_timespan_space(model.observation_space)
                    or env.action_space != model.action_space):
                raise UserError(
                    f"model {source} was trained for {run_env or 'another environment'} "
                    f"(observations {model.observation_space}, actions {model.action_space}); "
                    f"{env_id} has observations {env.observation_space}, actions {env.action_space}"
                )
        finally:
            env.close()
    return model, {"policy": type(model.policy).__name__, **info, "algo": algo_name, "path": str(target),
                   "env_id": run_env or env_id, "env_kwargs": env_kwargs}
