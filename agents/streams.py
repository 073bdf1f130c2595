"""The random streams and rollout position of a training run, as plain data (no pickle).

A checkpoint taken at a rollout boundary holds, beside the weights (:mod:`ncp_control.agents.model_state`),
what a resumed run needs to go on exactly as the uninterrupted one would have:

- the global random states of torch, numpy and Python's ``random``;
- every training env's state: the plain data of each layer of the VecEnv and of each env's
  wrapper chain (numbers, strings, numpy arrays, numpy random generators, lists and dicts of
  these, and the objects of this package, Gymnasium and SB3 that hold them), the MuJoCo
  integration state (``mj_getState``) and the physical parameters of envs that have them;
- the algorithm's last observation and episode starts, and LiquidPPO's recurrent state and
  timespans.

:func:`capture` returns it as nested dicts, lists, arrays and numbers (what
:func:`ncp_control.agents.model_state.save_state` stores weights-only); :func:`restore` writes it back
into a model built from the same configuration, arrays in place (an env's arrays are often
views of its simulator's memory). Attributes of other types (files, callables, spaces) are
not part of the state and are left as the fresh model has them.
"""

from __future__ import annotations

import dataclasses
import random
import warnings
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecEnvWrapper

from ncp_control.errors import UserError

#: modules whose objects are followed into (their attributes are state)
_OWN_MODULES = ("envs.", "ncp_control.", "gymnasium.", "stable_baselines3.", "agents.")
#: attributes of the algorithm that are the rollout position
_ALGORITHM_ATTRIBUTES = ("_last_obs", "_last_episode_starts", "_last_original_obs", "_last_timespans",
                         "ep_info_buffer", "ep_success_buffer")


class _Skip(Exception):
    """A value that is not part of the state (a file, a callable, a space...)."""


def _followed(value: Any) -> bool:
    """Whether ``value`` is an object whose attributes are state (frozen dataclasses are
    constants; envs, spaces, models and networks are not followed into)."""
    module = type(value).__module__ + "."
    if dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:  # type: ignore[union-attr]
        return False
    return hasattr(value, "__dict__") and module.startswith(_OWN_MODULES) and not isinstance(
        value, (gym.Env, gym.spaces.Space, VecEnv, BaseAlgorithm, th.nn.Module))


def _encode(value: Any, seen: set[int]) -> Any:
    """Plain data for ``value``; raises :class:`_Skip` for what is not state."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biufc":  # objects, strings, raw records (e.g. a renderer's colour table)
            raise _Skip
        if value.dtype.kind == "c":  # stored as (real, imag) pairs: the tensor file holds no complex numbers
            return {"kind": "complex_array", "value": np.stack([value.real, value.imag], axis=-1)}
        return {"kind": "array", "value": value.copy()}
    if isinstance(value, np.random.Generator):
        return {"kind": "generator", "state": value.bit_generator.state}
    if isinstance(value, np.random.RandomState):
        name, key, pos, has_gauss, gauss = value.get_state()
        return {"kind": "random_state", "state": [name, key, pos, has_gauss, gauss]}
    if isinstance(value, (list, tuple, deque)):
        kind = "deque" if isinstance(value, deque) else type(value).__name__
        if kind not in ("list", "tuple", "deque"):  # a named tuple
            raise _Skip
        items = [_encode(v, seen) for v in value]
        return {"kind": kind, "items": items, "maxlen": getattr(value, "maxlen", None)}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _Skip
        return {"kind": "dict", "items": {k: _encode(v, seen) for k, v in value.items()}}
    if _followed(value):
        if id(value) in seen:
            raise _Skip
        seen.add(id(value))
        return {"kind": "object", "attrs": _attributes(value, seen)}
    raise _Skip


def _attributes(obj: Any, seen: set[int]) -> dict[str, Any]:
    """The state held in ``obj``'s own attributes (MuJoCo data as its integration state)."""
    import mujoco

    attrs: dict[str, Any] = {}
    mj_model = next((v for v in vars(obj).values() if isinstance(v, mujoco.MjModel)), None)
    for name, value in vars(obj).items():
        if isinstance(value, mujoco.MjData):
            if mj_model is not None:
                spec = mujoco.mjtState.mjSTATE_INTEGRATION
                state = np.empty(mujoco.mj_stateSize(mj_model, spec))
                mujoco.mj_getState(mj_model, value, state, spec)
                attrs[name] = {"kind": "mjdata", "state": state}
            continue
        try:
            attrs[name] = _encode(value, seen)
        except _Skip:
            continue
    params = getattr(obj, "physical_params", None)
    if callable(params) and getattr(obj, "set_physical_params", None) is not None:
        attrs["__physical_params__"] = {"kind": "dict", "items": {
            k: _encode(np.asarray(v), seen) for k, v in params().items()}}
    return attrs


def _decode(data: Any) -> Any:
    """A fresh value from plain data (objects cannot be made from data: :class:`_Skip`)."""
    if not isinstance(data, dict):
        return data
    kind = data["kind"]
    if kind == "array":
        return np.array(data["value"])
    if kind == "complex_array":
        pairs = np.asarray(data["value"])
        values = np.empty(pairs.shape[:-1], dtype=np.result_type(pairs.dtype, np.complex64))
        values.real, values.imag = pairs[..., 0], pairs[..., 1]
        return values
    if kind == "generator":
        generator = np.random.Generator(getattr(np.random, data["state"]["bit_generator"])())
        generator.bit_generator.state = data["state"]
        return generator
    if kind == "random_state":
        state = np.random.RandomState()
        state.set_state(tuple(data["state"]))
        return state
    if kind in ("list", "tuple", "deque"):
        items = [_decode(v) for v in data["items"]]
        return deque(items, maxlen=data["maxlen"]) if kind == "deque" else tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {k: _decode(v) for k, v in data["items"].items()}
    raise _Skip


def _restore_value(obj: Any, name: str, data: Any) -> None:
    """Write ``data`` into ``obj.name``, in place where the current value allows it."""
    current = getattr(obj, name, None)
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "array" and isinstance(current, np.ndarray) and current.flags.writeable \
            and current.shape == np.shape(data["value"]) and current.dtype == np.asarray(data["value"]).dtype:
        current[...] = data["value"]
    elif kind == "generator" and isinstance(current, np.random.Generator) \
            and type(current.bit_generator).__name__ == data["state"]["bit_generator"]:
        current.bit_generator.state = data["state"]
    elif kind == "random_state" and isinstance(current, np.random.RandomState):
        current.set_state(tuple(data["state"]))
    elif kind == "object":
        if current is not None and _followed(current):
            _restore_attributes(current, data["attrs"])
    elif kind == "dict" and isinstance(current, dict) and set(current) == set(data["items"]):
        _restore_items(current, list(data["items"].items()))
    elif kind == "list" and isinstance(current, list) and len(current) == len(data["items"]):
        _restore_items(current, list(enumerate(data["items"])))
    else:
        try:
            setattr(obj, name, _decode(data))
        except _Skip:
            pass


def _restore_items(container: Any, items: list[tuple[Any, Any]]) -> None:
    """Restore a dict's or list's entries in place (objects in it keep their identity)."""
    for key, data in items:
        current = container[key]
        if isinstance(data, dict) and data.get("kind") == "object":
            if _followed(current):
                _restore_attributes(current, data["attrs"])
        elif isinstance(data, dict) and data.get("kind") == "array" and isinstance(current, np.ndarray) \
                and current.flags.writeable and current.shape == np.shape(data["value"]):
            current[...] = data["value"]
        else:
            try:
                container[key] = _decode(data)
            except _Skip:
                pass


def _restore_attributes(obj: Any, attrs: dict[str, Any]) -> None:
    import mujoco

    mj_model = next((v for v in vars(obj).values() if isinstance(v, mujoco.MjModel)), None)
    params = attrs.get("__physical_params__")
    if params is not None:  # first: setting them may rebuild the simulator's constants
        obj.set_physical_params(**{k: _decode(v) for k, v in params["items"].items()})
    for name, data in attrs.items():
        if name == "__physical_params__":
            continue
        if isinstance(data, dict) and data.get("kind") == "mjdata":
            current = getattr(obj, name, None)
            if mj_model is not None and isinstance(current, mujoco.MjData):
                mujoco.mj_setState(mj_model, current, data["state"], mujoco.mjtState.mjSTATE_INTEGRATION)
            continue
        _restore_value(obj, name, data)


def _vec_layers(env: VecEnv) -> list[VecEnv]:
    layers = [env]
    while isinstance(layers[-1], VecEnvWrapper):
        layers.append(layers[-1].venv)
    return layers


def _wrapper_chain(env: gym.Env) -> list[Any]:
    chain = [env]
    while isinstance(chain[-1], gym.Wrapper):
        chain.append(chain[-1].env)
    return chain


def capture(model: BaseAlgorithm) -> dict[str, Any]:
    """The random streams and rollout position of a model and its training env.

    :param model: the algorithm, between two rollouts.
    :return: plain data (dicts, lists, arrays, numbers) for :func:`restore`.
    :raises UserError: for a training env other than a DummyVecEnv (possibly wrapped).
    """
    env = model.get_env()
    if env is None:
        raise UserError("the model has no training env whose state could be stored")
    layers = _vec_layers(env)
    if not isinstance(layers[-1], DummyVecEnv):
        raise UserError(f"resuming exactly needs a DummyVecEnv, got {type(layers[-1]).__name__}")
    seen: set[int] = set()
    algorithm = {}
    for name in _ALGORITHM_ATTRIBUTES:
        try:
            algorithm[name] = _encode(getattr(model, name, None), seen)
        except _Skip:
            continue
    last_state = getattr(model, "_last_state", None)
    lstm_states = getattr(model, "_last_lstm_states", None)  # sb3-contrib RecurrentPPO: (pi (h, c), vf (h, c))
    python_version, python_state, python_gauss = random.getstate()
    return {
        "torch": th.get_rng_state(),
        "numpy": _encode(np.random.mtrand._rand, seen),
        "python": [python_version, list(python_state), python_gauss],
        "algorithm": algorithm,
        "last_state": None if last_state is None else last_state.detach().cpu(),
        "lstm_states": None if lstm_states is None else [t.detach().cpu() for pair in lstm_states for t in pair],
        "vec_env": [_attributes(layer, seen) for layer in layers],
        "envs": [[_attributes(layer, seen) for layer in _wrapper_chain(e)] for e in layers[-1].envs],
        "action_noise": [_attributes(noise, seen) for noise in _action_noises(model)],
    }


def _action_noises(model: BaseAlgorithm) -> list[Any]:
    """:return: the exploration noises of an off-policy model (one per env when SB3 vectorised
    it; an Ornstein-Uhlenbeck process keeps its last value), none without noise."""
    noise = getattr(model, "action_noise", None)
    return [] if noise is None else list(getattr(noise, "noises", [noise]))


def restore(model: BaseAlgorithm, streams: dict[str, Any]) -> None:
    """Write :func:`capture`'s data back into a model built from the same configuration (its
    envs are reset once first, so that whatever an episode creates exists, then overwritten).

    :param model: the freshly built model (its weights already restored).
    :param streams: what :func:`capture` returned (after a round trip through the state files).
    :raises UserError: if the stored envs do not match the model's.
    """
    env = model.get_env()
    assert env is not None
    layers = _vec_layers(env)
    envs = layers[-1].envs if isinstance(layers[-1], DummyVecEnv) else []
    if len(streams["envs"]) != len(envs) or len(streams["vec_env"]) != len(layers):
        raise UserError(f"the stored run state has {len(streams['envs'])} envs, the model {len(envs)}")
    layers[-1].reset()  # the innermost VecEnv only: VecNormalize would update its statistics
    for layer, attrs in zip(layers, streams["vec_env"]):
        _restore_attributes(layer, attrs)
    for sub_env, chain in zip(envs, streams["envs"]):
        for layer, attrs in zip(_wrapper_chain(sub_env), chain):
            _restore_attributes(layer, attrs)
    for name, data in streams["algorithm"].items():
        try:
            setattr(model, name, _decode(data))
        except _Skip:
            continue
    stored_noises = streams.get("action_noise", [])
    if len(stored_noises) > 1 and len(_action_noises(model)) == 1:  # as SB3 vectorises it for several envs
        from stable_baselines3.common.noise import VectorizedActionNoise

        model.action_noise = VectorizedActionNoise(_action_noises(model)[0], len(stored_noises))  # type: ignore[attr-defined]
    for noise, attrs in zip(_action_noises(model), stored_noises):
        _restore_attributes(noise, attrs)
    if streams["last_state"] is not None:
        model._last_state = streams["last_state"].to(model.device)  # type: ignore[attr-defined]
    if streams.get("lstm_states") is not None:
        from sb3_contrib.common.recurrent.type_aliases import RNNStates

        h_pi, c_pi, h_vf, c_vf = (t.to(model.device) for t in streams["lstm_states"])
        model._last_lstm_states = RNNStates((h_pi, c_pi), (h_vf, c_vf))  # type: ignore[attr-defined]
    th.set_rng_state(streams["torch"])
    _restore_value(np.random.mtrand, "_rand", streams["numpy"])
    version, state, gauss = streams["python"]
    random.setstate((version, tuple(state), gauss))


def try_capture(model: BaseAlgorithm) -> dict[str, Any] | None:
    """:func:`capture`, or None with a warning where the model's env cannot be stored (the
    checkpoint is still written; a run resumed from it is then not exact).

    :param model: the algorithm, between two rollouts.
    :return: the streams, or None.
    """
    try:
        return capture(model)
    except UserError as error:
        warnings.warn(f"the checkpoint holds no random streams: {error}", stacklevel=2)
        return None
