"""``NCPControl/QuadWaypoints-v0``: fly through a sequence of random waypoints."""

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
from ncp_control.envs.quadrotor.hover import check_options, option_point


class QuadWaypointsEnv(QuadrotorEnv):
    """Pass within ``reach_radius`` of each waypoint in order; the episode ends with success
    after the last one.

    Observation (float32 ``[26]``): current waypoint minus position (m, 3), next waypoint
    minus current one (m, 3; zeros at the last), velocity (3), rotation matrix (9), body
    rates (3), motor states (4), fraction of waypoints still to reach (1). Their names
    (``observation_names``): ``waypoint_dx/dy/dz``, ``next_dx/dy/dz``, the drone state's as in
    hover, ``remaining``.

    Reward per step: ``5 (d_prev - d) - 0.01 |w|^2`` (progress towards the current waypoint),
    ``+5`` for each waypoint reached; a crash adds ``crash_penalty``. ``info["success"]``:
    every waypoint reached; ``info["waypoints_reached"]`` counts them. Reset options:
    ``start`` (3-vector) and ``waypoints`` (``[n, 3]``, m).

    :param n_waypoints: waypoints per episode.
    :param waypoint_box: where waypoints are drawn (m).
    :param min_separation: smallest distance between consecutive waypoints (m).
    :param reach_radius: distance that counts as reaching a waypoint (m).
    :param start_tilt: largest random initial roll and pitch (rad).
    :param start_speed: largest random initial velocity component (m/s) and rate (rad/s).
    :param kwargs: arguments of :class:`ncp_control.envs.quadrotor.base.QuadrotorEnv`.
    """

    def __init__(
        self,
        n_waypoints: int = 4,
        waypoint_box: Any = ((-1.5, 1.5), (-1.5, 1.5), (0.5, 2.0)),
        min_separation: float = 0.5,
        reach_radius: float = 0.15,
        start_tilt: float = 0.1,
        start_speed: float = 0.1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not isinstance(n_waypoints, int) or n_waypoints < 1:
            raise ValueError(f"n_waypoints must be an integer >= 1, got {n_waypoints!r}")
        self.n_waypoints = n_waypoints
        self.waypoint_box = check_box("waypoint_box", waypoint_box)
        if min_separation < 0:
            raise ValueError(f"min_separation must be >= 0 (m), got {min_separation!r}")
        self.min_separation = float(min_separation)
        self.reach_radius = check_positive("reach_radius", reach_radius)
        self.start_tilt, self.start_speed = float(start_tilt), float(start_speed)
        bound = np.full(6, POSITION_BOUND)
        self._vector = VectorObservation(
            np.concatenate([-bound, DRONE_LOW, [0.0]]), np.concatenate([bound, DRONE_HIGH, [1.0]])
        )
        self.observation_space = self._vector.space
        self.observation_names = ("waypoint_dx", "waypoint_dy", "waypoint_dz", "next_dx", "next_dy", "next_dz",
                                  *DRONE_STATE_NAMES, "remaining")
        self.waypoints = np.zeros((n_waypoints, 3))
        self.index = 0
        self._previous = 0.0
        self._obs = self._vector.buffer

    def _draw_waypoints(self, start: np.ndarray) -> np.ndarray:
        rng, box = self.np_random, self.waypoint_box
        points = np.zeros((self.n_waypoints, 3))
        last = start
        for i in range(self.n_waypoints):
            for _ in range(100):  # rejection sampling; keep the last draw if none is far enough
                points[i] = rng.uniform(box[:, 0], box[:, 1])
                if np.linalg.norm(points[i] - last) >= self.min_separation:
                    break
            last = points[i]
        return points

    def _task_reset(self, options: dict[str, Any]) -> None:
        check_options(options, ("start", "waypoints"))
        start = option_point(options, "start")
        if start is None:
            start = np.array([0.0, 0.0, 1.0]) + self.np_random.uniform(-0.2, 0.2, size=3)
        self._set_initial_state(start, self.start_tilt, self.start_speed)
        if "waypoints" in options:
            given = np.asarray(options["waypoints"], dtype=np.float64)
            if given.shape != (self.n_waypoints, 3) or not np.all(np.isfinite(given)):
                raise ValueError(f"reset option 'waypoints' must be finite, shape ({self.n_waypoints}, 3), got {given.shape}")
            self.waypoints[:] = given
        else:
            self.waypoints[:] = self._draw_waypoints(start)
        self.index = 0
        self._previous = self._tracking_error()

    def _tracking_error(self) -> float:
        w = self.waypoints[min(self.index, self.n_waypoints - 1)]
        p = self._pos
        return math.sqrt((w[0] - p[0]) ** 2 + (w[1] - p[1]) ** 2 + (w[2] - p[2]) ** 2)

    def _task_observation(self) -> np.ndarray:
        i = min(self.index, self.n_waypoints - 1)
        obs = self._obs
        np.subtract(self.waypoints[i], self._pos, out=obs[0:3])
        if i + 1 < self.n_waypoints:
            np.subtract(self.waypoints[i + 1], self.waypoints[i], out=obs[3:6])
        else:
            obs[3:6] = 0.0
        self._drone_features(obs[6:25])
        obs[25] = (self.n_waypoints - self.index) / self.n_waypoints
        return self._vector.output()

    def _task_step(self) -> tuple[float, bool, bool, float]:
        d = self._tracking_error()
        w = self._rates
        reward = 5.0 * (self._previous - d) - 0.01 * float(w[0] * w[0] + w[1] * w[1] + w[2] * w[2])
        if d < self.reach_radius:
            reward += 5.0
            self.index += 1
            if self.index < self.n_waypoints:
                d = self._tracking_error()
        self._previous = d
        done = self.index >= self.n_waypoints
        return reward, done, done, d

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Advance one control step (see :meth:`QuadrotorEnv.step`); adds ``info["waypoints_reached"]``."""
        obs, reward, terminated, truncated, info = super().step(action)
        info["waypoints_reached"] = self.index
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode (see :meth:`QuadrotorEnv.reset`)."""
        obs, info = super().reset(seed=seed, options=options)
        info["waypoints_reached"] = 0
        return obs, info

    def reference_setpoint(self) -> tuple[np.ndarray, float | None]:
        """:return: the current waypoint and ``None`` (keep heading)."""
        return self.waypoints[min(self.index, self.n_waypoints - 1)], None

    def _scene_points(self) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
        return [(w, (30, 160, 60) if i >= self.index else (170, 170, 170)) for i, w in enumerate(self.waypoints)]
