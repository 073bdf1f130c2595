"""Gymnasium's classic-control tasks with their physical constants behind :class:`PhysicalParams`.

Each class here is the Gymnasium environment itself with the mixin added: behaviour, spaces,
seeding and registration details (time limit, reward threshold) are those of the standard task,
and perturbation wrappers can read and scale its constants from nominal values.

| base task | parameter -> attribute(s) of the Gymnasium class |
|---|---|
| Pendulum-v1 | ``mass`` -> ``m`` (kg), ``length`` -> ``l`` (m), ``gravity`` -> ``g`` (m/s^2) |
| CartPole-v1 | ``mass`` -> ``(masscart, masspole)`` (kg), ``length`` -> ``length`` (half pole, m), ``gravity`` -> ``gravity``, ``motor_constant`` -> ``force_mag`` (N) |
| MountainCarContinuous-v0 | ``motor_constant`` -> ``power`` |

CartPole's derived constants (``total_mass``, ``polemass_length``) are recomputed on every change.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleEnv
from gymnasium.envs.classic_control.continuous_mountain_car import Continuous_MountainCarEnv
from gymnasium.envs.classic_control.pendulum import PendulumEnv
from ncp_control.envs.params import PhysicalParams


class _AttributeParams(PhysicalParams):
    """Physical parameters stored as float attributes of a Gymnasium environment."""

    #: parameter name -> the attribute(s) holding it (several for a per-body vector).
    ATTRIBUTES: dict[str, tuple[str, ...]] = {}

    def _declare_params(self) -> None:
        """Read the nominal values from the attributes (call at the end of ``__init__``)."""
        nominal = {}
        for name, attributes in self.ATTRIBUTES.items():
            values = [float(getattr(self, a)) for a in attributes]
            nominal[name] = values[0] if len(values) == 1 else values
        self._init_physical_params(nominal)

    def _apply_physical_params(self, params: dict[str, np.ndarray]) -> None:
        """Write every parameter into its attribute(s)."""
        for name, attributes in self.ATTRIBUTES.items():
            for attribute, value in zip(attributes, np.atleast_1d(params[name])):
                setattr(self, attribute, float(value))


class PendulumParams(_AttributeParams, PendulumEnv):
    """``Pendulum-v1`` with ``mass``, ``length`` and ``gravity`` exposed."""

    ATTRIBUTES = {"mass": ("m",), "length": ("l",), "gravity": ("g",)}

    def __init__(self, **kwargs: Any) -> None:
        PendulumEnv.__init__(self, **kwargs)
        self._declare_params()


class CartPoleParams(_AttributeParams, CartPoleEnv):
    """``CartPole-v1`` with ``mass`` (cart, pole), ``length``, ``gravity`` and ``motor_constant`` exposed."""

    ATTRIBUTES = {
        "mass": ("masscart", "masspole"),
        "length": ("length",),
        "gravity": ("gravity",),
        "motor_constant": ("force_mag",),
    }

    def __init__(self, **kwargs: Any) -> None:
        CartPoleEnv.__init__(self, **kwargs)
        self._declare_params()

    def _apply_physical_params(self, params: dict[str, np.ndarray]) -> None:
        super()._apply_physical_params(params)
        self.total_mass = self.masspole + self.masscart
        self.polemass_length = self.masspole * self.length


class MountainCarContinuousParams(_AttributeParams, Continuous_MountainCarEnv):
    """``MountainCarContinuous-v0`` with ``motor_constant`` (the engine power) exposed."""

    ATTRIBUTES = {"motor_constant": ("power",)}

    def __init__(self, **kwargs: Any) -> None:
        Continuous_MountainCarEnv.__init__(self, **kwargs)
        self._declare_params()


CLASSES: dict[str, type[gym.Env]] = {
    "Pendulum-v1": PendulumParams,
    "CartPole-v1": CartPoleParams,
    "MountainCarContinuous-v0": MountainCarContinuousParams,
}


def make_classic(base_id: str, **kwargs: Any) -> gym.Env:
    """``gym.make(base_id, ...)`` with the parameter-exposing class as the core environment.

    :param base_id: one of :data:`CLASSES`.
    :param kwargs: arguments for ``gym.make`` (``render_mode``, ``max_episode_steps``, ...).
    :return: the environment, wrapped as ``gym.make`` wraps the standard task.
    :raises ValueError: for another id.
    """
    if base_id not in CLASSES:
        raise ValueError(f"no physical-parameter class for {base_id!r}; available: {tuple(CLASSES)}")
    spec = dataclasses.replace(gym.spec(base_id), entry_point=f"{__name__}:{CLASSES[base_id].__name__}")
    return gym.make(spec, **kwargs)
