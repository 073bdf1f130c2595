"""Reference controller for the quadrotor tasks: a cascaded PID on the true state.

Position error -> velocity set-point (P, speed-limited) -> acceleration (PI on velocity)
-> thrust vector (tilt-limited) -> attitude set-point with the task's heading -> body-rate
command (geometric attitude error, Lee et al. 2010) -> the env's inner rate loop, or in
``action_mode="motors"`` the same :class:`envs.quadrotor.mixer.RateMixer` the env uses.

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

from envs.quadrotor.base import QuadrotorEnv
from envs.quadrotor.mixer import RateMixer

#: Reference controller on the nominal tasks: 50 episodes, reset seeds 0..49,
#: ``evaluate(env_id, policy="reference", episodes=50, seed=0)``.
REFERENCE_SCORES: dict[str, dict[str, float]] = {}

#: Uniform random actions, same episodes and seeds (the "random" end of retention scores).
RANDOM_SCORES: dict[str, dict[str, float]] = {}


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
            raise ValueError(f"env must be a quadrotor task (envs.quadrotor), got {type(unwrapped).__name__}")
        self.env = unwrapped
        self.kp, self.vmax, self.kv, self.ki = position_gain, max_speed, velocity_gain, integral_gain
        self.katt, self.tan_tilt = attitude_gain, math.tan(max_tilt)
        c = self.env.constants
        self.mass, self.g = c.mass, c.gravity
        self.mixer = RateMixer(c)
        self.integral = np.zeros(3)
        self._motors = np.zeros(4)

    def reset(self) -> None:
        """Clear the integrator (call at every episode start)."""
        self.integral[:] = 0.0

    def act(self) -> np.ndarray:
        """:return: the action ``[4]`` in ``[-1, 1]`` for the env's current state and action mode."""
        env = self.env
        state = env.drone_state()
        setpoint, yaw = env.reference_setpoint()
        error = setpoint - state["position"]
        dt = env.dt
        self.integral = np.clip(self.integral + error * dt, -0.5, 0.5)
        v_des = self.kp * error
        speed = float(np.linalg.norm(v_des))
        if speed > self.vmax:
            v_des *= self.vmax / speed
        acc = self.kv * (v_des - state["velocity"]) + self.ki * self.integral
        horizontal = math.hypot(acc[0], acc[1])
        vertical = max(acc[2] + self.g, 0.2 * self.g)
        if horizontal > self.tan_tilt * vertical:
            acc[:2] *= self.tan_tilt * vertical / horizontal
        force = self.mass * np.array([acc[0], acc[1], vertical])
        rot = state["rotation"]
        thrust = float(force @ rot[:, 2])
        z_des = force / np.linalg.norm(force)
        heading = math.atan2(rot[1, 0], rot[0, 0]) if yaw is None else yaw
        y_des = np.cross(z_des, np.array([math.cos(heading), math.sin(heading), 0.0]))
        y_des /= np.linalg.norm(y_des)
        r_des = np.column_stack([np.cross(y_des, z_des), y_des, z_des])
        m = r_des.T @ rot - rot.T @ r_des
        rates_cmd = -self.katt * 0.5 * np.array([m[2, 1], m[0, 2], m[1, 0]])
        rates_cmd = np.clip(rates_cmd, -env.max_body_rates, env.max_body_rates)
        if env.action_mode == "rates":
            action = np.concatenate([[thrust / (self.mass * self.g) - 1.0], rates_cmd / env.max_body_rates])
        else:
            self.mixer.motor_commands(thrust, rates_cmd, state["body_rates"], self._motors)
            action = 2.0 * self._motors - 1.0
        return np.clip(action, -1.0, 1.0).astype(np.float32)


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
