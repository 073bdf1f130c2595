"""Reaching an environment's physics: MuJoCo model fields or the PhysicalParams interface.

Every write goes through a :class:`Channel`, which caches the nominal value once and only
ever writes ``nominal * factor`` or an absolute value, so nothing compounds across resets.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from ncp_control.envs.params import PhysicalParams
from ncp_control.envs.period import require_period

#: attribute pairs under which environments keep their MuJoCo model and data.
_MUJOCO_ATTRIBUTES = (("model", "data"), ("_model", "_data"), ("mj_model", "mj_data"))


def mujoco_handles(env: gym.Env) -> tuple[mujoco.MjModel, mujoco.MjData] | None:
    """:param env: any environment. :return: its MuJoCo ``(model, data)``, or ``None``."""
    unwrapped = env.unwrapped
    for model_attr, data_attr in _MUJOCO_ATTRIBUTES:
        model = getattr(unwrapped, model_attr, None)
        data = getattr(unwrapped, data_attr, None)
        if isinstance(model, mujoco.MjModel) and isinstance(data, mujoco.MjData):
            return model, data
    return None


def params_interface(env: gym.Env) -> PhysicalParams | None:
    """:param env: any environment. :return: the unwrapped env if it exposes PhysicalParams."""
    unwrapped = env.unwrapped
    return unwrapped if isinstance(unwrapped, PhysicalParams) else None


class Channel:
    """One physical quantity that a wrapper may scale or set.

    :param nominal: the nominal value (copied).
    :param write: writes a value of the nominal's shape into the simulator.
    :param source: where the value lives, e.g. ``"model.body_mass"`` or ``"params['mass']"``.
    """

    def __init__(self, nominal: np.ndarray, write: Callable[[np.ndarray], None], source: str) -> None:
        self.nominal = np.array(nominal, dtype=np.float64, copy=True)
        self._write = write
        self.source = source

    def set(self, value: np.ndarray) -> None:
        """:param value: absolute value, broadcastable to the nominal's shape."""
        self._write(np.broadcast_to(np.asarray(value, dtype=np.float64), self.nominal.shape))

    def scale(self, factor: float) -> None:
        """:param factor: write ``nominal * factor``."""
        self._write(self.nominal * factor)

    def restore(self) -> None:
        """Write the nominal value back."""
        self._write(self.nominal)


def params_channel(params: PhysicalParams, name: str) -> Channel:
    """:return: a channel onto the parameter ``name`` of a PhysicalParams environment."""

    def write(value: np.ndarray) -> None:
        params.set_physical_params(**{name: value})

    return Channel(params.nominal_physical_params()[name], write, f"params[{name!r}]")


def field_channel(array: np.ndarray, index: Any, source: str) -> Channel:
    """:return: a channel onto ``array[index]`` (a view into a MuJoCo model or data)."""

    def write(value: np.ndarray) -> None:
        array[index] = value

    return Channel(array[index], write, source)


def resolve_channel(
    env: gym.Env,
    param_names: Sequence[str],
    mujoco_field: Callable[[mujoco.MjModel], tuple[np.ndarray, Any, str]] | None,
    who: str,
    supports: str,
) -> Channel:
    """Find the quantity a perturbation needs: a PhysicalParams name, or a MuJoCo field.

    An environment with the PhysicalParams interface is only ever changed through it (it
    declares what it models: a MuJoCo field it does not expose, such as friction on a
    contact-free drone, would have no effect); other MuJoCo environments through the model.

    :param env: the environment.
    :param param_names: parameter names to look for, in order of preference.
    :param mujoco_field: given a model, returns ``(array, index, source)``; ``None`` when
        the perturbation has no MuJoCo fallback.
    :param who: the perturbation's name (for the error message).
    :param supports: which environments support it (for the error message).
    :raises ValueError: when the environment has neither.
    """
    params = params_interface(env)
    if params is not None:
        for name in param_names:
            if name in params.physical_param_names():
                return params_channel(params, name)
    handles = mujoco_handles(env)
    if mujoco_field is not None and handles is not None and params is None:
        array, index, source = mujoco_field(handles[0])
        return field_channel(array, index, source)
    raise ValueError(unsupported_message(env, who, param_names, supports))


def unsupported_message(env: gym.Env, who: str, param_names: Sequence[str], supports: str) -> str:
    """:return: the error text for a perturbation that an environment cannot take."""
    spec = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    params = params_interface(env)
    has = f"its physical parameters are {params.physical_param_names()}" if params else "it exposes no physical parameters"
    wanted = f" (needs one of the physical parameters {list(param_names)})" if param_names else ""
    return f"perturbation {who!r} is not available for {spec}{wanted}; {has}. Supported: {supports}"


def total_mass(env: gym.Env) -> float:
    """:return: the nominal total mass in kg (MuJoCo bodies, or the ``mass`` parameter)."""
    params = params_interface(env)
    if params is not None and "mass" in params.physical_param_names():
        return float(np.sum(params.nominal_physical_params()["mass"]))
    handles = mujoco_handles(env)
    if handles is None:
        raise ValueError("total mass needs a MuJoCo model or a 'mass' physical parameter")
    return float(np.sum(handles[0].body_mass))


def control_dt(env: gym.Env) -> float:
    """The nominal control period of an environment, in seconds
    (:func:`ncp_control.envs.period.nominal_period`, required).

    :param env: the environment.
    :raises ValueError: when no control period can be found.
    """
    return require_period(env, "this perturbation needs one to convert seconds into steps")


def horizontal_direction(rng: np.random.Generator) -> np.ndarray:
    """:param rng: the generator. :return: a random unit vector in the horizontal plane, shape (3,)."""
    angle = rng.uniform(0.0, 2.0 * math.pi)
    return np.array([math.cos(angle), math.sin(angle), 0.0])


def unit_vector(direction: Any, argument: str) -> np.ndarray | None:
    """Check and normalise a direction argument.

    :param direction: a non-zero finite 3-vector, or ``None`` (random horizontal).
    :param argument: the argument's name, for the error message.
    :return: the unit vector, shape (3,), or ``None``.
    :raises ValueError: when ``direction`` is not a non-zero finite 3-vector or ``None``.
    """
    if direction is None:
        return None
    vector = np.asarray(direction, dtype=np.float64)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)) or np.linalg.norm(vector) == 0:
        raise ValueError(f"{argument} must be a non-zero 3-vector or None (random horizontal), got {direction!r}")
    return vector / np.linalg.norm(vector)
