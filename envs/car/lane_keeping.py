"""``NCPControl/LaneKeeping-v0``: keep a car in its lane on a procedurally generated road.

A dynamic bicycle model (:mod:`ncp_control.envs.car.dynamics`) drives at a speed held by the environment
along a road whose curvature profile is drawn from the episode's seed (:mod:`ncp_control.envs.car.road`).
The agent steers; with ``speed_control=True`` it also commands the acceleration.

Observation ``"state"`` (float32, shape ``[6 + K]``), each entry in the unit named (its name in
``observation_names`` first): ``e_y`` lateral offset from the lane centre (m, positive left),
``e_psi`` heading error (rad), ``yaw_rate`` (rad/s), ``v_y`` lateral velocity (m/s), ``speed``
(units of 10 m/s), ``prev_steer`` the previous steering action, then ``kappa@Dm`` the road
curvature at the ``K`` preview distances ``D`` (default 0, 10, 20, 30, 40, 50 m ahead), in units
of 1/50 m^-1 (so 1.0 is a 50 m radius, positive to the left).

Observation ``"camera"``: ``uint8`` image ``[H, W, 3]`` (default 48 x 96) of the road ahead from a
roof camera (:mod:`ncp_control.envs.car.raster`), with a season palette (summer, spring, autumn, winter) and
lighting (day, dusk, night): the out-of-distribution splits of the NCP lane-keeping study.

Action: ``[steer]`` in [-1, 1] (fraction of the largest steering angle, positive to the left), or
``[steer, accel]`` with ``speed_control``, ``accel`` in [-1, 1] times 3 m/s^2.

Reward per step: ``1 - (e_y / (w/2))^2 - 0.1 (steer - previous steer)^2``; leaving the lane (the
centre of mass beyond a lane edge) or turning more than 90 degrees away from the road ends the
episode (``terminated``) with ``-crash_penalty``. Driving ``route_length`` metres ends it
(``truncated``) with ``info["success"] = True``.

``info``: ``dt`` (seconds since the previous step), ``lateral_error`` (m), ``heading_error`` (rad),
``distance`` (m driven along the road), ``speed`` (m/s), ``crash``, ``success``.

Task parameters, as constructor arguments or per episode as ``reset(options=...)``:
``speed`` (m/s), ``max_curvature`` (1/m), ``lane_width`` (m), ``route_length`` (m),
``season``, ``lighting``. Physical parameters (:class:`ncp_control.envs.params.PhysicalParams`):
``mass``, ``inertia``, ``cornering_stiffness`` (front, rear), ``tyre_friction``, ``steering_gain``.
The control period ``dt`` is an attribute read on every step, so a timing wrapper may change it;
``nominal_dt`` keeps the constructed value.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from ncp_control.envs.car.dynamics import MAX_STEER, NOMINAL_VEHICLE, VehicleParams, integrate
from ncp_control.envs.car.raster import LIGHTING, SEASONS, View, colour_table, rasterise
from ncp_control.envs.car.road import Road, generate_road
from ncp_control.envs.params import PhysicalParams
from ncp_control.envs.period import RESET_INFO_KEY
from ncp_control.envs.validation import check_action

OBSERVATIONS = ("state", "camera")
SPEED_LIMITS = (5.0, 40.0)
MAX_ACCEL = 3.0
SPEED_SCALE = 10.0
CURVATURE_SCALE = 50.0
STEER_RATE_WEIGHT = 0.1
TASK_OPTIONS = ("speed", "max_curvature", "lane_width", "route_length", "season", "lighting")


class LaneKeepingEnv(PhysicalParams, gym.Env):
    """Lane keeping with a dynamic bicycle model (see the module docstring).

    :param observation: ``"state"`` or ``"camera"``.
    :param speed: cruise speed (m/s), in [5, 40].
    :param max_curvature: largest road curvature (1/m), >= 0.
    :param lane_width: lane width (m), > 0.
    :param route_length: distance to drive for success (m), > 0.
    :param season: palette of the camera: summer, spring, autumn or winter.
    :param lighting: day, dusk or night.
    :param speed_control: let the agent command the acceleration too.
    :param dt: control period (s), > 0.
    :param preview_distances: distances ahead (m, >= 0) at which the state observation gives the curvature.
    :param camera_size: ``(height, width)`` of the camera image, each >= 16.
    :param crash_penalty: reward on leaving the lane, >= 0.
    :param render_mode: ``None`` or ``"rgb_array"``.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 20}
    _applied: dict[str, np.ndarray]

    def __init__(
        self,
        observation: str = "state",
        speed: float = 15.0,
        max_curvature: float = 1.0 / 60.0,
        lane_width: float = 3.5,
        route_length: float = 600.0,
        season: str = "summer",
        lighting: str = "day",
        speed_control: bool = False,
        dt: float = 0.05,
        preview_distances: tuple[float, ...] = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0),
        camera_size: tuple[int, int] = (48, 96),
        crash_penalty: float = 10.0,
        render_mode: str | None = None,
    ) -> None:
        if observation not in OBSERVATIONS:
            raise ValueError(f"observation must be one of {OBSERVATIONS}, got {observation!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        if not dt > 0:
            raise ValueError(f"dt must be positive (s), got {dt}")
        preview = np.asarray(preview_distances, dtype=np.float64)
        if preview.ndim != 1 or preview.size == 0 or (preview < 0).any():
            raise ValueError(f"preview_distances must be a non-empty sequence of distances >= 0, got {preview_distances}")
        if len(camera_size) != 2 or min(camera_size) < 16:
            raise ValueError(f"camera_size must be (height, width) with both >= 16, got {camera_size}")
        if crash_penalty < 0:
            raise ValueError(f"crash_penalty must be >= 0, got {crash_penalty}")
        self.task = self._check_task(
            {"speed": speed, "max_curvature": max_curvature, "lane_width": lane_width,
             "route_length": route_length, "season": season, "lighting": lighting}
        )
        self.observation_mode = observation
        self.speed_control = bool(speed_control)
        self.dt = float(dt)
        #: The control period as constructed; ``dt`` may be changed by a timing wrapper.
        self.nominal_dt = self.dt
        self.preview = preview
        self._preview_list: list[float] = preview.tolist()
        self.camera_size = (int(camera_size[0]), int(camera_size[1]))
        self.crash_penalty = float(crash_penalty)
        self.render_mode = render_mode
        nominal = dict(NOMINAL_VEHICLE)
        self._init_physical_params(nominal)
        self._apply_physical_params(self.physical_params())
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2 if self.speed_control else 1,), dtype=np.float32)
        if observation == "state":
            self.observation_space = spaces.Box(-np.inf, np.inf, shape=(6 + preview.size,), dtype=np.float32)
        else:
            self.observation_space = spaces.Box(0, 255, shape=(*self.camera_size, 3), dtype=np.uint8)
        self._camera: View | None = None
        self._views: dict[str, View] = {}
        self._tables: dict[tuple[str, str, str], np.ndarray] = {}
        self.road: Road | None = None
        self._state = [0.0] * 6
        self._prev_steer = 0.0
        self._episode: dict[str, Any] = dict(self.task)

    @staticmethod
    def _check_task(task: dict[str, Any]) -> dict[str, Any]:
        """Validate task parameters.

        :param task: name -> value for some of :data:`TASK_OPTIONS`.
        :return: the same values, as floats or strings.
        :raises ValueError: for an unknown name or a value out of range.
        """
        out: dict[str, Any] = {}
        for name, value in task.items():
            if name not in TASK_OPTIONS:
                raise ValueError(f"unknown reset option {name!r}; allowed: {TASK_OPTIONS}")
            if name == "season":
                if value not in SEASONS:
                    raise ValueError(f"season must be one of {tuple(SEASONS)}, got {value!r}")
                out[name] = value
            elif name == "lighting":
                if value not in LIGHTING:
                    raise ValueError(f"lighting must be one of {tuple(LIGHTING)}, got {value!r}")
                out[name] = value
            else:
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(f"{name} must be a finite number, got {value}")
                if name == "speed" and not SPEED_LIMITS[0] <= number <= SPEED_LIMITS[1]:
                    raise ValueError(f"speed must be in [{SPEED_LIMITS[0]}, {SPEED_LIMITS[1]}] m/s, got {value}")
                if name == "max_curvature" and not 0 <= number <= 0.2:
                    raise ValueError(f"max_curvature must be in [0, 0.2] 1/m, got {value}")
                if name in ("lane_width", "route_length") and not number > 0:
                    raise ValueError(f"{name} must be positive (m), got {value}")
                out[name] = number
        return out

    def _apply_physical_params(self, params: dict[str, np.ndarray]) -> None:
        """Copy the current physical parameters into the floats read by the dynamics."""
        cf, cr = (float(c) for c in params["cornering_stiffness"])
        try:
            vehicle = VehicleParams(
                float(params["mass"]), float(params["inertia"]), cf, cr,
                float(params["tyre_friction"]), float(params["steering_gain"]),
            )
        except ValueError:
            self._current_params = {k: v.copy() for k, v in self._applied.items()}  # keep the last valid set
            raise
        self._vehicle = vehicle
        self._applied = {k: v.copy() for k, v in params.items()}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        """Start an episode on a new road.

        :param seed: seed of the episode's generator (road, initial offset).
        :param options: task parameters for this episode (see :data:`TASK_OPTIONS`).
        :return: observation and info.
        """
        super().reset(seed=seed)
        self._episode = dict(self.task)
        if options:
            self._episode.update(self._check_task(dict(options)))
        ep = self._episode
        length = ep["route_length"] + float(self.preview.max()) + 100.0
        self.road = generate_road(self.np_random, length, ep["max_curvature"])
        e_y = float(self.np_random.uniform(-0.3, 0.3))
        e_psi = float(self.np_random.uniform(-0.05, 0.05))
        self._state = [0.0, e_y, e_psi, 0.0, 0.0, ep["speed"]]
        self._prev_steer = 0.0
        self._half = 0.5 * ep["lane_width"]
        return self._observation(), {**self._info(False, False), RESET_INFO_KEY: self.nominal_dt}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Apply one control period of steering (and acceleration).

        :param action: shape ``[1]`` or ``[2]`` (with speed control), in [-1, 1].
        :return: observation, reward, terminated, truncated, info.
        :raises ValueError: for another shape or a NaN/inf value.
        """
        if self.road is None:
            raise RuntimeError("call reset() before step()")
        action = check_action(action, 2 if self.speed_control else 1, type(self).__name__)
        steer = min(max(float(action[0]), -1.0), 1.0)
        accel = min(max(float(action[1]), -1.0), 1.0) * MAX_ACCEL if self.speed_control else 0.0
        delta = steer * MAX_STEER * self._vehicle.steering_gain
        self._state = integrate(self._state, delta, accel, self.dt, self.road, self._vehicle, SPEED_LIMITS)
        s, e_y, e_psi = self._state[0], self._state[1], self._state[2]
        crash = abs(e_y) > self._half or abs(e_psi) > 0.5 * math.pi or not math.isfinite(e_y)
        success = not crash and s >= self._episode["route_length"]
        ratio = e_y / self._half
        reward = 1.0 - ratio * ratio - STEER_RATE_WEIGHT * (steer - self._prev_steer) ** 2
        if crash:
            reward -= self.crash_penalty
        self._prev_steer = steer
        return self._observation(), reward, crash, success, self._info(crash, success)

    def _info(self, crash: bool, success: bool) -> dict[str, Any]:
        s, e_y, e_psi, _, _, v_x = self._state
        return {"dt": self.dt, "lateral_error": e_y, "heading_error": e_psi, "distance": s,
                "speed": v_x, "crash": crash, "success": success}

    @property
    def observation_names(self) -> tuple[str, ...] | None:
        """:return: the names of the state observation's entries (None for the camera)."""
        if self.observation_mode != "state":
            return None
        return ("e_y", "e_psi", "yaw_rate", "v_y", "speed", "prev_steer",
                *(f"kappa@{d:g}m" for d in self._preview_list))

    def state_observation(self) -> np.ndarray:
        """:return: the ``"state"`` observation of the current step, whatever the observation
            mode (what a privileged controller reads on the camera task)."""
        assert self.road is not None, "call reset() first"
        s, e_y, e_psi, v_y, r, v_x = self._state
        kappa = self.road.curvature_at
        return np.array(
            [e_y, e_psi, r, v_y, v_x / SPEED_SCALE, self._prev_steer]
            + [kappa(s + d) * CURVATURE_SCALE for d in self._preview_list],
            dtype=np.float32,
        )

    def _observation(self) -> np.ndarray:
        assert self.road is not None
        s, e_y, e_psi, v_y, r, v_x = self._state
        if self.observation_mode == "camera":
            if self._camera is None:
                self._camera = View.camera(*self.camera_size)
            return rasterise(self._camera, self._table("camera", self._camera, True), self.road, s, e_y, e_psi,
                             self._episode["lane_width"])
        return self.state_observation()

    def _table(self, key: str, view: View, headlights: bool) -> np.ndarray:
        ep = self._episode
        lighting = ep["lighting"] if headlights else "day"
        index = (key, ep["season"], lighting)
        if index not in self._tables:
            self._tables[index] = colour_table(view, ep["season"], lighting, headlights)
        return self._tables[index]

    def render(self) -> np.ndarray | None:
        """:return: for ``rgb_array``, a map of the road around the car (left, 256 x 256) beside the
            camera's view at a higher resolution (right, 256 x 512); ``uint8`` ``[256, 768, 3]``."""
        if self.render_mode is None or self.road is None:
            return None
        if not self._views:
            self._views = {"map": View.top_down(256, 64.0, 16.0), "view": View.camera(256, 512)}
        s, e_y, e_psi = self._state[:3]
        width = self._episode["lane_width"]
        top = rasterise(self._views["map"], self._table("map", self._views["map"], False), self.road,
                        s, e_y, e_psi, width, draw_car=True)
        front = rasterise(self._views["view"], self._table("view", self._views["view"], True), self.road,
                          s, e_y, e_psi, width)
        return np.concatenate([top, front], axis=1)
