"""Shared base of the quadrotor tasks: MuJoCo simulation, action modes, crashes, physics interface.

A task subclass sets ``observation_space`` and implements ``_task_reset``,
``_task_observation`` and ``_task_step`` (reward, success, task termination, tracking
error). Everything else (integration, inner rate loop, crash and arena checks, seeding,
``info["dt"]``, rendering, physical parameters) lives here once.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
from ncp_control.envs.params import PhysicalParams
from ncp_control.envs.period import RESET_INFO_KEY
from ncp_control.envs.quadrotor.mixer import RateMixer
from ncp_control.envs.quadrotor.model import CRAZYFLIE, build_mjcf
from ncp_control.envs.quadrotor.render import draw_scene
from ncp_control.envs.validation import check_action

ACTION_MODES = ("rates", "motors")
DEFAULT_ARENA = ((-2.0, 2.0), (-2.0, 2.0), (0.0, 2.5))


def check_box(name: str, box: Any) -> np.ndarray:
    """Validate an axis-aligned box given as three ``(low, high)`` pairs.

    :param name: argument name for the error message.
    :param box: the box, shape ``[3, 2]``.
    :return: the box as a float array ``[3, 2]``.
    :raises ValueError: if the shape is wrong or a low bound exceeds its high bound.
    """
    array = np.asarray(box, dtype=np.float64)
    if array.shape != (3, 2) or not np.all(np.isfinite(array)) or np.any(array[:, 0] > array[:, 1]):
        raise ValueError(f"{name} must be three finite (low, high) pairs with low <= high, got {box!r}")
    return array


def check_positive(name: str, value: float) -> float:
    """:return: ``value`` as float. :raises ValueError: unless it is finite and > 0."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


#: Bounds of the drone-state features (velocity, rotation matrix, body rates, motors);
#: observations are clipped to them.
DRONE_LOW = np.array([-20.0] * 3 + [-1.0] * 9 + [-40.0] * 3 + [0.0] * 4)
DRONE_HIGH = np.array([20.0] * 3 + [1.0] * 9 + [40.0] * 3 + [1.0] * 4)
#: Bound of relative positions in observations (m).
POSITION_BOUND = 20.0


class VectorObservation:
    """A float32 observation vector with finite bounds, clipped on the way out.

    :param low: lower bounds ``[n]``.
    :param high: upper bounds ``[n]``.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        self.low, self.high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        self.space = gym.spaces.Box(self.low.astype(np.float32), self.high.astype(np.float32), dtype=np.float32)
        self.buffer = np.zeros(len(self.low))

    def output(self) -> np.ndarray:
        """:return: the buffer clipped to the bounds, as a new float32 array."""
        np.minimum(self.buffer, self.high, out=self.buffer)
        np.maximum(self.buffer, self.low, out=self.buffer)
        return self.buffer.astype(np.float32)


class QuadrotorEnv(gym.Env, PhysicalParams):
    """A Crazyflie-like quadrotor in MuJoCo; subclasses define the task.

    Actions, shape ``[4]`` in ``[-1, 1]``:

    - ``action_mode="rates"`` (default): ``a[0]`` collective thrust, ``T = m g (1 + a[0])``
      (0 hovers the nominal drone); ``a[1:4]`` body roll, pitch and yaw rates, scaled by
      ``max_body_rates`` (rad/s), tracked by the inner rate loop (:class:`RateMixer`).
    - ``action_mode="motors"``: each motor's command, ``(a + 1) / 2`` of its maximum thrust.

    Episodes end (``terminated``) on a crash: the body centre below ``ground_clearance``
    or tilted more than ``max_tilt`` rad, or leaving ``arena``; such a step adds
    ``crash_penalty`` to the reward. ``info`` always holds ``success``, ``dt`` (the simulated
    time elapsed since the previous step, s: ``physics_substeps`` times the model's time step,
    0.01 s by default), ``tracking_error`` (m), ``crashed`` and ``time`` (s since reset).

    Physical parameters (:class:`ncp_control.envs.params.PhysicalParams`): ``mass`` (kg), ``inertia``
    (kg m^2, ``[3]``), ``motor_constant`` (maximum thrust of each motor, N, ``[4]``),
    ``motor_time_constant`` (s), ``wind`` (m/s, ``[3]``), ``drag`` (air density of the
    fluid model, kg/m^3: drag scales linearly with it), ``gravity`` (m/s^2, ``[3]``).

    :param action_mode: ``"rates"`` or ``"motors"``.
    :param render_mode: ``None`` or ``"rgb_array"``.
    :param control_frequency: control steps per simulated second (Hz).
    :param physics_substeps: MuJoCo steps per control step.
    :param max_body_rates: roll, pitch, yaw rate at ``|a| = 1`` (rad/s).
    :param arena: three ``(low, high)`` bounds (m); leaving them ends the episode.
    :param max_tilt: largest tilt of the body z axis from vertical before a crash (rad).
    :param ground_clearance: height of the body centre below which it has crashed (m).
    :param crash_penalty: reward added on a crash step.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"], "render_fps": 100}

    def __init__(
        self,
        action_mode: str = "rates",
        render_mode: str | None = None,
        control_frequency: float = 100.0,
        physics_substeps: int = 2,
        max_body_rates: tuple[float, float, float] = (4.0, 4.0, 2.0),
        arena: Any = DEFAULT_ARENA,
        max_tilt: float = math.radians(80.0),
        ground_clearance: float = 0.02,
        crash_penalty: float = -10.0,
    ) -> None:
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode must be one of {ACTION_MODES}, got {action_mode!r}")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        check_positive("control_frequency", control_frequency)
        if not isinstance(physics_substeps, int) or physics_substeps < 1:
            raise ValueError(f"physics_substeps must be an integer >= 1, got {physics_substeps!r}")
        rates = np.asarray(max_body_rates, dtype=np.float64)
        if rates.shape != (3,) or not np.all(rates > 0):
            raise ValueError(f"max_body_rates must be three numbers > 0 (rad/s), got {max_body_rates!r}")
        if not 0 < max_tilt <= math.pi:
            raise ValueError(f"max_tilt must be in (0, pi] rad, got {max_tilt!r}")
        self.action_mode = action_mode
        self.render_mode = render_mode
        self.physics_substeps = physics_substeps
        self.arena = check_box("arena", arena)
        self._bounds = tuple(float(v) for v in self.arena.ravel())
        self.max_body_rates = rates
        self.cos_max_tilt = math.cos(max_tilt)
        self.ground_clearance = float(ground_clearance)
        self.crash_penalty = float(crash_penalty)
        self.constants = CRAZYFLIE

        self.model = mujoco.MjModel.from_xml_string(build_mjcf(CRAZYFLIE, 1.0 / (control_frequency * physics_substeps)))
        self.data = mujoco.MjData(self.model)
        self._body = self.model.body("quad").id
        self._qpos = self.data.qpos
        self._qvel = self.data.qvel
        self._pos = self.data.qpos[0:3]
        self._quat = self.data.qpos[3:7]
        self._vel = self.data.qvel[0:3]
        self._rates = self.data.qvel[3:6]
        self._ctrl = self.data.ctrl
        self._act = self.data.act
        self._rot = np.zeros(9)
        self._action = np.zeros(4)
        self._rates_cmd = np.zeros(3)
        self._mixer = RateMixer(CRAZYFLIE)
        self._hover_thrust = CRAZYFLIE.hover_thrust
        self._hover_command = CRAZYFLIE.hover_thrust / (4 * CRAZYFLIE.max_motor_thrust)
        self.metadata = {**type(self).metadata, "render_fps": int(round(control_frequency))}
        #: The control period as constructed (s); ``dt`` follows a timing wrapper's changes.
        self.nominal_dt = float(self.model.opt.timestep) * self.physics_substeps

        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)
        self._init_physical_params(
            {
                "mass": CRAZYFLIE.mass,
                "inertia": CRAZYFLIE.inertia,
                "motor_constant": np.full(4, CRAZYFLIE.max_motor_thrust),
                "motor_time_constant": CRAZYFLIE.motor_time_constant,
                "wind": np.zeros(3),
                "drag": CRAZYFLIE.air_density,
                "gravity": (0.0, 0.0, -CRAZYFLIE.gravity),
            }
        )
        self._trail: list[np.ndarray] = []

    # ------------------------------------------------------------------ physics
    @property
    def dt(self) -> float:
        """:return: simulated seconds per control step (follows ``physics_substeps``)."""
        return float(self.model.opt.timestep) * self.physics_substeps

    def _apply_physical_params(self, params: dict[str, np.ndarray]) -> None:
        m, b = self.model, self._body
        m.body_mass[b] = params["mass"]
        m.body_inertia[b] = params["inertia"]
        m.actuator_gainprm[:, 0] = params["motor_constant"]
        m.actuator_dynprm[:, 0] = params["motor_time_constant"]
        m.opt.wind[:] = params["wind"]
        m.opt.density = float(params["drag"])
        m.opt.gravity[:] = params["gravity"]

    def drone_state(self) -> dict[str, np.ndarray]:
        """:return: copies of position (m), quaternion (w, x, y, z), world velocity (m/s),
        body rates (rad/s), rotation matrix ``[3, 3]`` and motor states in [0, 1]."""
        return {
            "position": self._pos.copy(),
            "quaternion": self._quat.copy(),
            "velocity": self._vel.copy(),
            "body_rates": self._rates.copy(),
            "rotation": self._rot.reshape(3, 3).copy(),
            "motors": self._act.copy(),
        }

    def _set_initial_state(self, position: np.ndarray, tilt: float, speed: float, yaw: float | None = None) -> None:
        """Place the drone at ``position`` with random small attitude, velocity and rates.

        :param position: start position, shape ``[3]``.
        :param tilt: largest random roll/pitch (rad).
        :param speed: largest random velocity component (m/s) and body rate (rad/s).
        :param yaw: heading (rad); uniform in ``[-pi, pi)`` if ``None``.
        """
        rng = self.np_random
        mujoco.mj_resetData(self.model, self.data)
        roll, pitch = rng.uniform(-tilt, tilt, size=2)
        heading = float(rng.uniform(-math.pi, math.pi)) if yaw is None else float(yaw)
        cr, sr = math.cos(roll / 2), math.sin(roll / 2)
        cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
        cy, sy = math.cos(heading / 2), math.sin(heading / 2)
        self._pos[:] = position
        self._quat[:] = (
            cr * cp * cy + sr * sp * sy,
            sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy,
        )
        self._vel[:] = rng.uniform(-speed, speed, size=3)
        self._rates[:] = rng.uniform(-speed, speed, size=3)
        self._act[:] = self._hover_command
        self._ctrl[:] = self._hover_command
        mujoco.mju_quat2Mat(self._rot, self._quat)

    def _drone_features(self, out: np.ndarray) -> None:
        """Fill ``out`` (shape ``[19]``) with velocity (3), rotation matrix (9, row-major),
        body rates (3) and motor states (4)."""
        out[0:3] = self._vel
        out[3:12] = self._rot
        out[12:15] = self._rates
        out[15:19] = self._act

    # ------------------------------------------------------------------ task hooks
    def _task_reset(self, options: dict[str, Any]) -> None:
        raise NotImplementedError

    def _task_observation(self) -> Any:
        raise NotImplementedError

    def _task_step(self) -> tuple[float, bool, bool, float]:
        """:return: ``(reward, success, task_terminated, tracking_error)`` after a physics step."""
        raise NotImplementedError

    def reference_setpoint(self) -> tuple[np.ndarray, float | None]:
        """:return: the point the reference controller flies to (m, ``[3]``) and its heading
        (rad; ``None`` keeps the current one)."""
        raise NotImplementedError

    def _tracking_error(self) -> float:
        """:return: the task's current tracking error (m)."""
        raise NotImplementedError

    def _scene_points(self) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
        """:return: task points to draw (position, RGB colour)."""
        return []

    def _camera_inset(self) -> np.ndarray | None:
        """:return: an image to show beside the scene, or ``None``."""
        return None

    # ------------------------------------------------------------------ gym API
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode.

        :param seed: seed of the episode's random numbers.
        :param options: task-specific overrides (see the task's docstring).
        :return: ``(observation, info)``.
        """
        super().reset(seed=seed)
        self._task_reset(dict(options or {}))
        self._trail = [self._pos.copy()] if self.render_mode is not None else []
        info = {"success": False, "dt": 0.0, RESET_INFO_KEY: self.nominal_dt, "tracking_error": self._tracking_error(), "crashed": False, "time": 0.0}
        return self._task_observation(), info

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Advance one control step.

        :param action: shape ``[4]``, in ``[-1, 1]`` (clipped).
        :raises ValueError: for another shape or a NaN/inf value.
        :return: ``(observation, reward, terminated, truncated, info)``; ``truncated`` is
            always ``False`` here (the registered time limit truncates).
        """
        a = self._action
        a[:] = check_action(action, a.shape[0], type(self).__name__)
        np.minimum(a, 1.0, out=a)
        np.maximum(a, -1.0, out=a)
        if self.action_mode == "rates":
            np.multiply(a[1:], self.max_body_rates, out=self._rates_cmd)
            self._mixer.motor_commands(self._hover_thrust * (1.0 + float(a[0])), self._rates_cmd, self._rates, self._ctrl)
        else:
            np.add(a, 1.0, out=self._ctrl)
            self._ctrl *= 0.5
        start = self.data.time
        mujoco.mj_step(self.model, self.data, self.physics_substeps)
        mujoco.mju_quat2Mat(self._rot, self._quat)
        x, y, z = self._pos.tolist()
        x0, x1, y0, y1, z0, z1 = self._bounds
        crashed = (
            z < self.ground_clearance
            or float(self._rot[8]) < self.cos_max_tilt
            or not (x0 <= x <= x1 and y0 <= y <= y1 and z0 <= z <= z1)
        )
        reward, success, done, error = self._task_step()
        if crashed:
            reward += self.crash_penalty
            success = False
        if self.render_mode is not None:
            self._trail.append(self._pos.copy())
            del self._trail[:-300]
        now = self.data.time
        info = {"success": success, "dt": now - start, "tracking_error": error, "crashed": crashed, "time": now}
        return self._task_observation(), float(reward), bool(crashed or done), False, info

    def render(self) -> np.ndarray | None:
        """:return: for ``render_mode="rgb_array"``, a top and a side view (uint8 ``[H, W, 3]``)."""
        if self.render_mode != "rgb_array":
            return None
        return draw_scene(
            self.arena,
            self._pos,
            self._rot.reshape(3, 3),
            self.constants.motor_positions(),
            self._scene_points(),
            self._trail,
            self._camera_inset(),
        )
