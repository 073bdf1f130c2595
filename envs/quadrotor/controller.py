"""Reference controller for the quadrotor tasks: a cascaded PID on the true state.

Position error -> velocity set-point (P, speed-limited) -> acceleration (PI on velocity)
-> thrust vector (tilt-limited) -> attitude set-point with the task's heading -> body-rate
command (geometric attitude error, Lee et al. 2010) -> the env's inner rate loop, or in
``action_mode="motors"`` the same :class:`ncp_control.envs.quadrotor.mixer.RateMixer` the env uses.

It reads the unwrapped environment's state (it is a privileged reference, not an agent),
the task's set-point from ``reference_setpoint()``, and uses only nominal constants, so
perturbations of the physics affect it as they would a real flight controller.
Its scores over seeded episodes are recorded in :data:`REFERENCE_SCORES` (the normalising
reference), next to a uniformly random policy's in :data:`RANDOM_SCORES`.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.quadrotor.base import QuadrotorEnv
from ncp_control.envs.quadrotor.mixer import RateMixer

#: Reference controller on the nominal tasks (default arguments, rates action mode):
#: ``evaluate(env_id, policy="reference", episodes=20, seed=0)``, reset seeds 0..19.
REFERENCE_SCORES: dict[str, dict[str, float]] = {
    "NCPControl/QuadHover-v0": {"mean_return": 404.28005, "success_rate": 1.0, "crash_rate": 0.0},
    "NCPControl/QuadWaypoints-v0": {"mean_return": 41.49282, "success_rate": 1.0, "crash_rate": 0.0},
    "NCPControl/QuadFlyToTarget-v0": {"mean_return": 16.285101, "success_rate": 1.0, "crash_rate": 0.0},
}

#: Uniform random actions on the same episodes (``policy="random"``, action seed 0): the
#: "random" end of retention scores ``(R - R_random) / (R_reference - R_random)``.
RANDOM_SCORES: dict[str, dict[str, float]] = {
    "NCPControl/QuadHover-v0": {"mean_return": 7.837484, "success_rate": 0.0, "crash_rate": 1.0},
    "NCPControl/QuadWaypoints-v0": {"mean_return": -19.449693, "success_rate": 0.0, "crash_rate": 1.0},
    "NCPControl/QuadFlyToTarget-v0": {"mean_return": -29.311184, "success_rate": 0.0, "crash_rate": 0.95},
}


class ReferenceController:
    """Cascaded PID flying the task's set-point.

    :param env: the environment (wrappers allowed; the unwrapped env is read).
    :param position_gain: velocity set-point per metre of position error (1/s).
    :param max_speed: speed limit of the velocity set-point (m/s).
    :param velocity_gain: acceleration per m/s of velocity error (1/s).
    :param integral_gain: acceleration per metre-second of integrated position error (1/s^2).
    :param attitude_gain: body rate per radian of attitude error (1/s).
    :param max_tilt: largest commanded tilt (rad).
    """

    def __init__(
        self,
        env: gym.Env,
        position_gain: float = 2.0,
        max_speed: float = 1.5,
        velocity_gain: float = 4.0,
        integral_gain: float = 1.0,
        attitude_gain: float = 10.0,
        max_tilt: float = math.radians(35.0),
    ) -> None:
        unwrapped = env.unwrapped
        if not isinstance(unwrapped, QuadrotorEnv):
            raise ValueError(f"env must be a quadrotor task (ncp_control.envs.quadrotor), got {type(unwrapped).__name__}")
        self.env = unwrapped
        self.kp, self.vmax, self.kv, self.ki = position_gain, max_speed, velocity_gain, integral_gain
        self.katt, self.tan_tilt = attitude_gain, math.tan(max_tilt)
        c = self.env.constants
        self.mass, self.g = c.mass, c.gravity
        self.mixer = RateMixer(c)
        self.integral = (0.0, 0.0, 0.0)
        self._motors = np.zeros(4)

    def reset(self) -> None:
        """Clear the integrator (call at every episode start)."""
        self.integral = (0.0, 0.0, 0.0)

    def act(self) -> np.ndarray:
        """:return: the action ``[4]`` in ``[-1, 1]`` for the env's current state and action mode."""
        env = self.env
        state = env.drone_state()
        setpoint, yaw = env.reference_setpoint()
        px, py, pz = state["position"].tolist()
        vx, vy, vz = state["velocity"].tolist()
        r = state["rotation"].tolist()
        sx, sy, sz = setpoint.tolist()
        ex, ey, ez = sx - px, sy - py, sz - pz
        dt = env.dt
        ix, iy, iz = (min(max(i + e * dt, -0.5), 0.5) for i, e in zip(self.integral, (ex, ey, ez)))
        self.integral = (ix, iy, iz)
        # position -> speed-limited velocity set-point -> acceleration
        gx, gy, gz = self.kp * ex, self.kp * ey, self.kp * ez
        speed = math.sqrt(gx * gx + gy * gy + gz * gz)
        if speed > self.vmax:
            gx, gy, gz = (g * self.vmax / speed for g in (gx, gy, gz))
        ax = self.kv * (gx - vx) + self.ki * ix
        ay = self.kv * (gy - vy) + self.ki * iy
        az = max(self.kv * (gz - vz) + self.ki * iz + self.g, 0.2 * self.g)
        horizontal = math.hypot(ax, ay)
        if horizontal > self.tan_tilt * az:
            ax, ay = ax * self.tan_tilt * az / horizontal, ay * self.tan_tilt * az / horizontal
        # thrust along the current body z axis; desired attitude from the force and heading
        fx, fy, fz = self.mass * ax, self.mass * ay, self.mass * az
        thrust = fx * r[0][2] + fy * r[1][2] + fz * r[2][2]
        norm = math.sqrt(fx * fx + fy * fy + fz * fz)
        z_des = (fx / norm, fy / norm, fz / norm)
        heading = math.atan2(r[1][0], r[0][0]) if yaw is None else yaw
        y_des = _normalise(_cross(z_des, (math.cos(heading), math.sin(heading), 0.0)))
        x_des = _cross(y_des, z_des)
        rd = (x_des, y_des, z_des)  # columns of the desired rotation
        # geometric attitude error e = vee(Rd^T R - R^T Rd) / 2 (Lee et al. 2010)
        m = [[sum(rd[i][k] * r[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
        error = (0.5 * (m[2][1] - m[1][2]), 0.5 * (m[0][2] - m[2][0]), 0.5 * (m[1][0] - m[0][1]))
        limits = env.max_body_rates.tolist()
        rates = [min(max(-self.katt * e, -lim), lim) for e, lim in zip(error, limits)]
        if env.action_mode == "rates":
            action = [thrust / (self.mass * self.g) - 1.0] + [w / lim for w, lim in zip(rates, limits)]
        else:
            self.mixer.motor_commands(thrust, np.array(rates), state["body_rates"], self._motors)
            action = (2.0 * self._motors - 1.0).tolist()
        return np.clip(np.array(action, dtype=np.float32), -1.0, 1.0)


def _cross(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _normalise(a: tuple[float, float, float]) -> tuple[float, float, float]:
    n = math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])
    return (a[0] / n, a[1] / n, a[2] / n)


def evaluate(
    env_id: str, policy: str = "reference", episodes: int = 50, seed: int = 0, **env_kwargs: Any
) -> dict[str, float]:
    """Score the reference controller or uniform random actions on a task.

    :param env_id: a registered quadrotor task id.
    :param policy: ``"reference"`` or ``"random"``.
    :param episodes: number of episodes; episode ``i`` resets with seed ``seed + i``.
    :param seed: first reset seed (the random policy's action seed too).
    :param env_kwargs: passed to ``gymnasium.make``.
    :return: ``mean_return``, ``std_return``, ``success_rate``, ``crash_rate``, ``mean_length``.
    """
    if policy not in ("reference", "random"):
        raise ValueError(f"policy must be 'reference' or 'random', got {policy!r}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = gym.make(env_id, **env_kwargs)
    controller = ReferenceController(env) if policy == "reference" else None
    env.action_space.seed(seed)
    returns, successes, crashes, lengths = [], [], [], []
    for i in range(episodes):
        env.reset(seed=seed + i)
        if controller is not None:
            controller.reset()
        total, length, done = 0.0, 0, False
        info: dict[str, Any] = {}
        while not done:
            action = controller.act() if controller is not None else env.action_space.sample()
            _, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            length += 1
            done = terminated or truncated
        returns.append(total)
        successes.append(bool(info["success"]))
        crashes.append(bool(info["crashed"]))
        lengths.append(length)
    env.close()
    return {
        "mean_return": float(np.mean(returns)),
        "std_return": float(np.std(returns)),
        "success_rate": float(np.mean(successes)),
        "crash_rate": float(np.mean(crashes)),
        "mean_length": float(np.mean(lengths)),
    }
