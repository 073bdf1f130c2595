"""The trainable state of an SB3 algorithm in weights-only files (no pickle).

A state folder holds ``state.safetensors`` (every tensor and array) and ``state.json``
(plain JSON: counters, optimizer hyperparameters, the layout of the nested state dicts and
whatever the caller stores with it). It keeps what SB3's ``save`` keeps for training to go on
(the state dicts of :meth:`~stable_baselines3.common.base_class.BaseAlgorithm._get_torch_save_params`:
the policy with its normalisers, every optimizer, tensors such as SAC's ``log_ent_coef``;
``num_timesteps`` and the update counters), the statistics of a ``VecNormalize`` around the
env, and optionally the replay buffer of an off-policy algorithm, all as arrays.

:func:`save_state` writes a folder atomically; :func:`restore_state` loads one into a model
built with the same constructor arguments (the caller builds it: see
:func:`ncp_control.agents.runs.load_model`). Nothing is unpickled: the tensors are read with safetensors and
the JSON names no class.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.save_util import recursive_getattr
from stable_baselines3.common.vec_env import VecNormalize

from ncp_control.errors import UserError
from ncp_control.export.weights import read_json, read_tensors, write_json, write_tensors

STATE_FORMAT = "ncp-control-model-state"
TENSORS_FILE = "state.safetensors"
META_FILE = "state.json"
_COUNTERS = ("num_timesteps", "_n_updates", "_episode_num")
_REPLAY_ARRAYS = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def is_state_folder(path: str | os.PathLike[str]) -> bool:
    """:param path: a path. :return: whether it is a folder written by :func:`save_state`."""
    folder = Path(path)
    return (folder / META_FILE).is_file() and (folder / TENSORS_FILE).is_file()


def _flatten(value: Any, key: str, tensors: dict[str, th.Tensor]) -> Any:
    """JSON for ``value`` with its tensors and arrays moved into ``tensors`` under ``key``."""
    if isinstance(value, th.Tensor):
        tensors[key] = value.detach().cpu()
        return {"__tensor__": key}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise UserError(f"{key}: object arrays cannot be stored weights-only")
        tensors[key] = th.from_numpy(np.ascontiguousarray(value).reshape(value.shape))  # 0-d stays 0-d
        return {"__array__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if not all(isinstance(k, (str, int)) for k in value):
            raise UserError(f"{key}: dict keys must be strings or integers, got {list(value)}")
        return {"__items__": [[k, _flatten(v, f"{key}/{k}", tensors)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_flatten(v, f"{key}/{i}", tensors) for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise UserError(f"{key}: {type(value).__name__} cannot be stored weights-only")


def _unflatten(value: Any, tensors: dict[str, th.Tensor]) -> Any:
    if isinstance(value, list):
        return [_unflatten(v, tensors) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            return tensors[value["__tensor__"]]
        if set(value) == {"__array__"}:
            return tensors[value["__array__"]].numpy()
        if set(value) == {"__items__"}:
            return {k: _unflatten(v, tensors) for k, v in value["__items__"]}
        raise UserError(f"{META_FILE}: unexpected object with keys {sorted(value)}")
    return value


def _rms(rms: Any) -> Any:
    if isinstance(rms, dict):
        return {k: _rms(v) for k, v in rms.items()}
    return {"mean": np.asarray(rms.mean), "var": np.asarray(rms.var), "count": float(rms.count)}


def _set_rms(rms: Any, data: Any) -> None:
    if isinstance(rms, dict):
        for k, v in rms.items():
            _set_rms(v, data[k])
        return
    assert isinstance(rms, RunningMeanStd)
    rms.mean, rms.var, rms.count = np.array(data["mean"]), np.array(data["var"]), float(data["count"])


def _vec_normalize(vec: VecNormalize) -> dict[str, Any]:
    return {"obs_rms": _rms(vec.obs_rms) if vec.norm_obs else None, "ret_rms": _rms(vec.ret_rms),
            "returns": np.asarray(vec.returns), "clip_obs": float(vec.clip_obs),
            "clip_reward": float(vec.clip_reward), "gamma": float(vec.gamma), "epsilon": float(vec.epsilon),
            "norm_obs": bool(vec.norm_obs), "norm_reward": bool(vec.norm_reward)}


def _replay_buffer(buffer: Any) -> dict[str, Any]:
    """The filled part of a replay buffer, as arrays (a buffer with ``to_arrays``, such as
    LiquidSAC's sequence buffer, says itself what that is)."""
    if hasattr(buffer, "to_arrays"):
        return dict(buffer.to_arrays())
    end = buffer.buffer_size if buffer.full else buffer.pos
    arrays: dict[str, Any] = {}
    for name in _REPLAY_ARRAYS:
        value = getattr(buffer, name, None)
        if isinstance(value, dict):
            arrays[name] = {k: v[:end] for k, v in value.items()}
        elif isinstance(value, np.ndarray):
            arrays[name] = value[:end]
    return {"pos": int(buffer.pos), "full": bool(buffer.full), "buffer_size": int(buffer.buffer_size),
            "arrays": arrays}


def _set_replay_buffer(buffer: Any, data: dict[str, Any]) -> None:
    if hasattr(buffer, "from_arrays"):
        buffer.from_arrays(data)
        return
    if int(data["buffer_size"]) != int(buffer.buffer_size):
        raise UserError(f"the stored replay buffer holds {data['buffer_size']} steps, the model's {buffer.buffer_size}")
    for name, value in data["arrays"].items():
        target = getattr(buffer, name)
        if isinstance(value, dict):
            for k, v in value.items():
                target[k][: len(v)] = v
        else:
            target[: len(value)] = value
    buffer.pos, buffer.full = int(data["pos"]), bool(data["full"])


def save_state(model: BaseAlgorithm, folder: str | os.PathLike[str], meta: dict[str, Any],
               replay_buffer: bool = False, streams: dict[str, Any] | None = None) -> Path:
    """Write the trainable state of ``model`` into ``folder`` (replaced atomically as a whole).

    :param model: the algorithm.
    :param folder: destination folder.
    :param meta: plain JSON stored under ``"meta"`` (e.g. the run configuration).
    :param replay_buffer: also store the filled part of an off-policy replay buffer.
    :param streams: the run's random streams and rollout position (:func:`ncp_control.agents.streams.capture`),
        stored as arrays and JSON; read back with :func:`read_streams`.
    :return: the folder.
    """
    state_dicts, variables = model._get_torch_save_params()
    tensors: dict[str, th.Tensor] = {}
    state: dict[str, Any] = {
        "state_dicts": {name: recursive_getattr(model, name).state_dict() for name in state_dicts},
        "variables": {name: recursive_getattr(model, name) for name in variables},
        "counters": {name: int(getattr(model, name, 0)) for name in _COUNTERS},
    }
    vec = model.get_vec_normalize_env()
    state["vec_normalize"] = None if vec is None else _vec_normalize(vec)
    buffer = getattr(model, "replay_buffer", None)
    state["replay_buffer"] = _replay_buffer(buffer) if replay_buffer and buffer is not None else None
    if streams is not None:
        state["streams"] = streams
    skeleton = _flatten(state, "", tensors)
    from ncp_control import __version__

    target = Path(folder)
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        write_tensors(tmp / TENSORS_FILE, tensors)
        write_json(tmp / META_FILE, {"format": STATE_FORMAT, "version": __version__, "algo": type(model).__name__,
                                     "state": skeleton, "meta": meta})
    except BaseException:  # a full disk or a read-only folder: leave no half-written folder behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(f".old-{os.getpid()}-{target.name}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def read_state_meta(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """:param folder: a folder written by :func:`save_state`.
    :return: its ``state.json`` (``algo``, ``version``, ``meta``...).
    :raises ValueError: if it is not such a folder."""
    target = Path(folder)
    if not is_state_folder(target):
        raise UserError(f"{target} is not a weights-only model state ({TENSORS_FILE} and {META_FILE})")
    data = read_json(target / META_FILE)
    if data.get("format") != STATE_FORMAT:
        raise UserError(f"{target / META_FILE} is not a model state (format {data.get('format')!r})")
    from ncp_control import __version__

    if str(data.get("version")).split(".")[:2] != __version__.split(".")[:2]:
        raise UserError(f"{target} was written by ncp-control {data.get('version')}; this is {__version__}: "
                         "retrain or use that version")
    return data


def read_counters(folder: str | os.PathLike[str]) -> dict[str, int]:
    """:param folder: a folder written by :func:`save_state`.
    :return: its counters (``num_timesteps``, ``_n_updates``, ``_episode_num``), read from the
        JSON alone (no tensors are loaded)."""
    state = dict(read_state_meta(folder)["state"]["__items__"])
    return {str(name): int(value) for name, value in state["counters"]["__items__"]}


def restore_state(model: BaseAlgorithm, folder: str | os.PathLike[str]) -> BaseAlgorithm:
    """Load a state written by :func:`save_state` into a model of the same algorithm and
    constructor arguments (its VecNormalize statistics too, if the model's env has one).

    :param model: the freshly built model (changed in place).
    :param folder: the state folder.
    :return: the model.
    :raises ValueError: if the state does not fit the model.
    """
    data = read_state_meta(folder)
    if data.get("algo") != type(model).__name__:
        raise UserError(f"{folder} holds a {data.get('algo')} state, not {type(model).__name__}")
    state = _unflatten(data["state"], read_tensors(Path(folder) / TENSORS_FILE))
    try:
        for name, values in state["state_dicts"].items():
            recursive_getattr(model, name).load_state_dict(values)
        with th.no_grad():
            for name, value in state["variables"].items():
                recursive_getattr(model, name).copy_(value)
    except (RuntimeError, KeyError, ValueError, AttributeError) as error:
        raise UserError(f"the state in {folder} does not fit the model: {error}") from None
    for name, value in state["counters"].items():
        setattr(model, name, int(value))
    vec = model.get_vec_normalize_env()
    if vec is not None and state["vec_normalize"] is not None:
        stored = state["vec_normalize"]
        if stored["obs_rms"] is not None:
            _set_rms(vec.obs_rms, stored["obs_rms"])
        _set_rms(vec.ret_rms, stored["ret_rms"])
        if np.shape(stored["returns"]) == np.shape(vec.returns):
            vec.returns = np.array(stored["returns"])
    if state["replay_buffer"] is not None and getattr(model, "replay_buffer", None) is not None:
        _set_replay_buffer(model.replay_buffer, state["replay_buffer"])  # type: ignore[attr-defined]
    return model


def read_streams(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """:param folder: a folder written by :func:`save_state`.
    :return: the ``streams`` stored with it (see :mod:`ncp_control.agents.streams`), or None."""
    data = read_state_meta(folder)
    if "streams" not in {k for k, _ in data["state"].get("__items__", [])}:
        return None
    state = _unflatten(data["state"], read_tensors(Path(folder) / TENSORS_FILE))
    return dict(state["streams"])
