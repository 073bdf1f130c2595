"""Training into a run folder: a new run, or the resumption of one from its newest checkpoint."""

from __future__ import annotations

import os
import shutil
import zipfile
from dataclasses import asdict
from pathlib import Path

import yaml
from ncp_control.agents.common.files import atomic_write_bytes, atomic_write_json
from ncp_control.agents.model_state import is_state_folder, read_counters, read_streams
from ncp_control.agents.runs.callbacks import (
    CheckpointCallback,
    EvalLogCallback,
    ProgressCallback,
    truncate_eval_log,
)
from ncp_control.agents.runs.config import RunConfig, algorithms
from ncp_control.agents.runs.folder import RunFolder, pickle_refused
from ncp_control.agents.runs.load import load_model
from ncp_control.agents.runs.models import build_model, load_model_state, run_env, save_model_state
from ncp_control.agents.streams import restore as restore_streams
from ncp_control.agents.streams import try_capture as capture_streams
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from ncp_control import __version__
from ncp_control.errors import UserError


def export_weights(model: BaseAlgorithm, folder: Path, config: RunConfig) -> Path:
    """Weights-only export: the policy's tensors in safetensors and a JSON description.

    LiquidPPO, LiquidSAC and LiquidTD3 policies are written with :func:`ncp_control.agents.export.save_policy` (rebuilt without
    unpickling by :func:`ncp_control.agents.export.load_policy`); other policies as their state dict.

    :param model: the trained model.
    :param folder: destination folder.
    :param config: the run's configuration (stored in the JSON).
    :return: the safetensors file.
    """
    from ncp_control.agents.export import EXPORTABLE, save_policy
    from safetensors.torch import save_file

    if isinstance(model.policy, EXPORTABLE):  # LiquidPPO, LiquidSAC, LiquidTD3: reloadable by agents.load_policy
        return save_policy(model, folder, extra=asdict(config)) / "policy.safetensors"
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().clone().contiguous() for k, v in model.policy.state_dict().items()}
    target = folder / "policy.safetensors"
    tmp = folder / ".tmp-policy.safetensors"
    save_file(tensors, str(tmp))
    os.replace(tmp, target)
    meta = {"version": __version__, "policy_class": type(model.policy).__name__, **asdict(config)}
    atomic_write_json(folder / "config.json", meta)
    return target


def _stored_steps(path: Path) -> int:
    """The ``num_timesteps`` a state folder holds (-1 if it cannot be read)."""
    try:
        return read_counters(path)["num_timesteps"]
    except (ValueError, OSError, KeyError, TypeError):
        return -1


def _resume(config: RunConfig, folder: RunFolder, trust_pickle: bool = False) -> BaseAlgorithm | None:
    states = folder.checkpoint_paths() + ([folder.model_state] if is_state_folder(folder.model_state) else [])
    for path in sorted(states, key=_stored_steps, reverse=True):  # newest first (an extended run's model/ too)
        try:
            model = load_model_state(path, tensorboard_log=str(folder.tensorboard))[0]
            streams = read_streams(path)
        except (ValueError, OSError, KeyError):  # a checkpoint cut short: try the one before
            continue
        if streams is not None:  # the same random streams and rollout position: as if never stopped
            restore_streams(model, streams)
        return model
    zips = folder.checkpoint_paths(pickled=True)
    if zips and not trust_pickle:
        raise pickle_refused(zips[-1], "a checkpoint in SB3's pickled .zip format (an earlier version's run)")
    algo = algorithms()[config.algo]
    for path in reversed(zips):
        try:
            env = run_env(config, config.seed + 1)
            model = algo.load(path, env=env, tensorboard_log=str(folder.tensorboard))
        except (ValueError, OSError, zipfile.BadZipFile, KeyError, RuntimeError):
            continue
        buffer = folder.checkpoints / "replay_buffer.pkl"
        if hasattr(model, "load_replay_buffer") and buffer.exists():
            model.load_replay_buffer(buffer)
        return model
    return None


def extend_run(path: str | os.PathLike[str], timesteps: int) -> RunConfig:
    """Give a run a new total budget, so that resuming it trains on to ``timesteps``.

    :param path: the run folder.
    :param timesteps: the new total (at least the steps it has trained).
    :return: the updated configuration (written to ``config.yaml``; the run is marked running).
    :raises UserError: if the run has trained more steps than that.
    """
    folder = RunFolder.open(path)
    config = folder.config()
    trained = int(folder.info().get("timesteps") or 0)
    if timesteps < max(trained, 1):
        raise UserError(f"--timesteps {timesteps} is less than the {trained} steps {folder.path} has trained; "
                        "give a larger total")
    if timesteps != config.timesteps:
        config.timesteps = timesteps
        atomic_write_bytes(folder.config_yaml, yaml.safe_dump(asdict(config), sort_keys=False).encode())
        folder.write_info(status="running")
    return config


def start_run_folder(folder: RunFolder, config: RunConfig) -> None:
    """Write a new run's ``config.yaml`` and ``run.json`` (status ``running``).

    :param folder: the run folder (created if absent).
    :param config: the validated configuration.
    :raises UserError: if the folder cannot be written (read-only, full disk); nothing is left behind.
    """
    existed = folder.path.exists()
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder.config_yaml, yaml.safe_dump(asdict(config), sort_keys=False).encode())
        folder.write_info(env_id=config.env_id, algo=config.algo, policy=config.policy, status="running")
    except OSError as error:
        for file in (folder.config_yaml, folder.run_json):
            try:
                file.unlink(missing_ok=True)
            except OSError:
                pass
        if not existed:
            shutil.rmtree(folder.path, ignore_errors=True)
        raise UserError(f"cannot write the run folder {folder.path} ({error.strerror or error}); "
                        "choose a writable --out with free space") from None


def train_run(config: RunConfig, path: str | os.PathLike[str], progress_bar: bool = False,
              trust_pickle: bool = False) -> BaseAlgorithm:
    """Train into a run folder, resuming from its newest checkpoint if it has one.

    :param config: the run configuration (ignored in favour of the stored one on resume).
    :param path: the run folder (created if absent).
    :param progress_bar: show SB3's progress bar.
    :param trust_pickle: resume a run of an earlier version from its pickled SB3 checkpoints
        (unpickling can run arbitrary code); without it such a run is refused.
    :return: the trained model.
    """
    folder = RunFolder(path)
    model: BaseAlgorithm | None = None
    if folder.run_json.exists():
        folder = RunFolder.open(path)
        config = folder.config()
    else:  # a new run: nothing is written before its model is built
        config.validate()
        model = build_model(config, folder)
        start_run_folder(folder, config)
    if folder.is_done():
        return load_model(folder.path, trust_pickle=trust_pickle)[0]
    if model is None:
        model = _resume(config, folder, trust_pickle)
        if model is None:
            model = build_model(config, folder)
        else:
            truncate_eval_log(folder, model.num_timesteps)
    callbacks: list[BaseCallback] = [ProgressCallback(folder, config.timesteps)]
    if config.checkpoint_freq:
        callbacks.append(CheckpointCallback(folder, config, config.checkpoint_freq))
    eval_callback = EvalLogCallback(folder, config) if config.eval_freq else None
    if eval_callback is not None:
        callbacks.append(eval_callback)
    remaining = config.timesteps - model.num_timesteps
    if remaining > 0:
        model.learn(
            remaining, callback=CallbackList(callbacks), reset_num_timesteps=False, tb_log_name="run",
            progress_bar=progress_bar,
        )
    if eval_callback is not None and eval_callback._logged() != model.num_timesteps:
        eval_callback.init_callback(model)
        eval_callback.evaluate()
    # with its streams and an off-policy replay buffer: extending the run (--resume --timesteps N)
    # goes on as the run with that budget would have
    save_model_state(model, folder.model_state, config, replay_buffer=True, streams=capture_streams(model))
    export_weights(model, folder.weights, config)
    folder.write_info(status="done", timesteps=int(model.num_timesteps))
    return model
