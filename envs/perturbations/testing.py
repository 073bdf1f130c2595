"""A small numpy environment that exposes every conventional physical parameter.

:class:`PointMassEnv` is the reference on which perturbation wrappers are checked against
the :class:`~ncp_control.envs.params.PhysicalParams` interface without any simulator: a point mass in
the plane pushed by two thrusters against gravity-like pull, friction, damping and wind.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.params import PhysicalParams


class PointMassEnv(PhysicalParams, gym.Env):
    """Bring a point mass in the plane to the origin.

    State: position ``p`` (m, ``[2]``), velocity ``v`` (m/s, ``[2]``), heading ``theta``
    (rad) and its rate. Observation (float64 ``[6]``): ``p``, ``v``, ``theta``, rate.
    Action ``[2]`` in [-1, 1]: thrust along x and y (times ``motor_constant``, N).
    Dynamics, with semi-implicit Euler at ``dt`` seconds::

        m dv/dt = k * a + m g - friction * m * 9.81 * v / (|v| + 0.1) - damping * v
                  + 0.5 * (wind - v) * |wind - v| * 0.1
        I dw/dt = steering_gain * 0.01 * (a_x - a_y) - damping * w

    Reward: ``-|p|``; the episode never terminates (a time limit truncates).
    Physical parameters: ``mass``, ``inertia``, ``friction``, ``damping``, ``gravity``
    (``[2]``), ``wind`` (``[2]``), ``motor_constant`` (``[2]``), ``steering_gain``.

    :param dt: control period (s); a plain attribute, so timing wrappers may change it.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, dt: float = 0.05) -> None:
        self.dt = float(dt)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(6,), dtype=np.float64)
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._init_physical_params(
            {
                "mass": 1.0,
                "inertia": 0.1,
                "friction": 0.2,
                "damping": 0.5,
                "gravity": (0.0, -1.0),
                "wind": (0.0, 0.0),
                "motor_constant": (2.0, 2.0),
                "steering_gain": 1.0,
            }
        )
        self._state = np.zeros(6)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """:param seed: episode seed. :param options: unused. :return: observation and info."""
        super().reset(seed=seed)
        self._state = np.concatenate([self.np_random.uniform(-1.0, 1.0, 4), np.zeros(2)])
        return self._state.copy(), {"dt": 0.0}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """:param action: shape ``[2]``. :return: observation, reward, terminated, truncated, info."""
        p = self._current_params
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        pos, vel, angle, rate = self._state[0:2], self._state[2:4], self._state[4], self._state[5]
        mass = float(p["mass"])
        relative = p["wind"] - vel
        force = (
            p["motor_constant"] * a
            + mass * p["gravity"]
            - float(p["friction"]) * mass * 9.81 * vel / (np.linalg.norm(vel) + 0.1)
            - float(p["damping"]) * vel
            + 0.05 * relative * np.linalg.norm(relative)
        )
        vel = vel + self.dt * force / mass
        pos = pos + self.dt * vel
        torque = float(p["steering_gain"]) * 0.01 * (a[0] - a[1]) - float(p["damping"]) * rate
        rate = rate + self.dt * torque / float(p["inertia"])
        angle = angle + self.dt * rate
        self._state = np.concatenate([pos, vel, [angle, rate]])
        return self._state.copy(), -float(np.linalg.norm(pos)), False, False, {"dt": self.dt}
