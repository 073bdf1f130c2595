"""``NCPControl/QuadHover-v0``: reach a random target point and hold it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from ncp_control.envs.names import DRONE_STATE_NAMES
from ncp_control.envs.quadrotor.base import (
    DRONE_HIGH,
    DRONE_LOW,
    POSITION_BOUND,
    QuadrotorEnv,
    VectorObservation,
    check_box,
    check_positive,
)


def option_point(options: dict[str, Any], key: str) -> np.ndarray | None:
    """Read an optional 3-vector from reset options.

    :param options: the reset options.
    :param key: the option's name.
    :return: the point ``[3]`` or ``None`` when absent.
    :raises ValueError: if it is not three finite numbers.
    """
    if key not in options:
        return None
    point = np.asarray(options[key], dtype=np.float64)
    if point.shape != (3,) or not np.all(np.isfinite(point)):
        raise ValueError(f"reset option {key!r} must be three finite numbers (x, y, z in m), got {options[key]!r}")
    return point


def check_options(options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    """:raises ValueError: if ``options`` holds a key outside ``allowed``."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown reset option(s) {unknown}; allowed: {list(allowed)}")


class QuadHoverEnv(QuadrotorEnv):
    """Fly to a random target point and hold it.

    Observation (float32 ``[22]``): target minus position (m, world frame, 3), velocity
    (m/s, 3), body-to-world rotation matrix (9, row-major), body rates (rad/s, 3), motor
    states (fraction of maximum thrust, 4); clipped to finite bounds (20 m, 20 m/s, 40 rad/s).
    Their names (``observation_names``): ``target_dx``, ``target_dy``, ``target_dz``, ``vx``,
    ``vy``, ``vz``, ``R11`` ... ``R33``, ``roll_rate``, ``pitch_rate``, ``yaw_rate``, ``motor1``
    ... ``motor4``.

    Reward per step: ``1 - tanh(1.5 d) - 0.01 |w|^2`` with ``d`` the distance to the target
    and ``w`` the body rates; a crash adds ``crash_penalty`` and ends the episode.
    ``info["success"]``: the drone has stayed within ``success_radius`` of the target for the
    last ``hold_time`` seconds. Reset options: ``target`` and ``start`` (3-vectors, m).

    :param target_box: where targets are drawn, three ``(low, high)`` pairs (m).
    :param start_box: where the drone starts (m).
    :param success_radius: distance counted as holding the target (m).
    :param hold_time: how long it must be held (s).
    :param start_tilt: largest random initial roll and pitch (rad).
    :param start_speed: largest random initial velocity component (m/s) and rate (rad/s).
    :param kwargs: arguments of :class:`ncp_control.envs.quadrotor.base.QuadrotorEnv`.
    """

    def __init__(
        self,
        target_box: Any = ((-1.0, 1.0), (-1.0, 1.0), (0.5, 1.5)),
        start_box: Any = ((-0.5, 0.5), (-0.5, 0.5), (0.8, 1.2)),
        success_radius: float = 0.1,
        hold_time: float = 1.0,
        start_tilt: float = 0.15,
        start_speed: float = 0.2,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.target_box = check_box("target_box", target_box)
        self.start_box = check_box("start_box", start_box)
        self.success_radius = check_positive("success_radius", success_radius)
        self.hold_time = check_positive("hold_time", hold_time)
        if not 0 <= start_tilt < math.pi / 2 or start_speed < 0:
            raise ValueError("start_tilt must be in [0, pi/2) rad and start_speed >= 0")
        self.start_tilt = float(start_tilt)
        self.start_speed = float(start_speed)
        bound = np.full(3, POSITION_BOUND)
        self._vector = VectorObservation(np.concatenate([-bound, DRONE_LOW]), np.concatenate([bound, DRONE_HIGH]))
        self.observation_space = self._vector.space
        self.observation_names = ("target_dx", "target_dy", "target_dz", *DRONE_STATE_NAMES)
        self.target = np.zeros(3)
        self._obs = self._vector.buffer
        self._inside_since: float | None = None

    def _task_reset(self, options: dict[str, Any]) -> None:
        check_options(options, ("target", "start"))
        rng = self.np_random
        target = rng.uniform(self.target_box[:, 0], self.target_box[:, 1])
        start = rng.uniform(self.start_box[:, 0], self.start_box[:, 1])
        given_target, given_start = option_point(options, "target"), option_point(options, "start")
        self.target[:] = target if given_target is None else given_target
        self._set_initial_state(start if given_start is None else given_start, self.start_tilt, self.start_speed)
        self._inside_since = None

    def _tracking_error(self) -> float:
        t, p = self.target, self._pos
        return math.sqrt((t[0] - p[0]) ** 2 + (t[1] - p[1]) ** 2 + (t[2] - p[2]) ** 2)

    def _task_observation(self) -> np.ndarray:
        np.subtract(self.target, self._pos, out=self._obs[0:3])
        self._drone_features(self._obs[3:22])
        return self._vector.output()

    def _task_step(self) -> tuple[float, bool, bool, float]:
        d = self._tracking_error()
        now = self.data.time
        if d >= self.success_radius:
            self._inside_since = None
        elif self._inside_since is None:
            self._inside_since = now - self.dt  # inside since the step that just ended
        w = self._rates
        reward = 1.0 - math.tanh(1.5 * d) - 0.01 * float(w[0] * w[0] + w[1] * w[1] + w[2] * w[2])
        held = self._inside_since is not None and now - self._inside_since >= self.hold_time - 1e-9
        return reward, held, False, d

    def reference_setpoint(self) -> tuple[np.ndarray, float | None]:
        """:return: the point the reference controller flies to, and its heading (``None``: keep)."""
        return self.target, None

    def _scene_points(self) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
        return [(self.target, (30, 160, 60))]
