"""Reference controller for ``NCPControl/LaneKeeping-v0``, and its score.

Steering = curvature feed-forward + look-ahead feedback + yaw-rate damping:

    delta = kappa(x_ff) (L + K_us v^2) - k_e (e_y + T v sin e_psi) - k_r (r - v kappa(0))

``L + K_us v^2`` is the steady-state steering angle per unit curvature of the nominal bicycle
model (understeer gradient ``K_us = m/L (l_r/C_f - l_f/C_r)``, Rajamani ch. 3), read at a preview
point ``x_ff`` a little ahead to cover the car's lateral lag; the feedback acts on the lateral error
projected ``T`` seconds ahead. It uses the nominal vehicle constants only, so perturbed physics
are a real test of it too.

:data:`REFERENCE_RETURN` and :data:`RANDOM_RETURN` are the mean returns of this controller and
of uniform random steering on the nominal task (``gym.make("NCPControl/LaneKeeping-v0")``, seeds
0-19, see :func:`evaluate`), for normalised scores ``(R - R_random) / (R_reference - R_random)``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.car.dynamics import LF, LR, MAX_STEER, NOMINAL_VEHICLE
from ncp_control.envs.car.lane_keeping import CURVATURE_SCALE, SPEED_SCALE

#: Mean return of :class:`LaneKeepingController` on the nominal task, seeds 0-19.
REFERENCE_RETURN = 800.2
#: Mean return of uniform random steering on the nominal task, seeds 0-19.
RANDOM_RETURN = 18.9


class LaneKeepingController:
    """Steering from the state observation (see the module docstring).

    :param preview_distances: the env's preview distances (m), as in its constructor.
    :param feedforward_time: preview time of the curvature feed-forward (s).
    :param lookahead_time: ``T``, the time over which the heading error is projected (s).
    :param gain: ``k_e``, steering per metre of projected lateral error (rad/m).
    :param yaw_damping: ``k_r``, steering per rad/s of yaw-rate error.
    """

    def __init__(
        self,
        preview_distances: tuple[float, ...] = (0.0, 10.0, 20.0, 30.0, 40.0, 50.0),
        feedforward_time: float = 0.3,
        lookahead_time: float = 0.8,
        gain: float = 0.1,
        yaw_damping: float = 0.1,
    ) -> None:
        self.preview = np.asarray(preview_distances, dtype=np.float64)
        if self.preview.ndim != 1 or self.preview.size == 0 or np.any(np.diff(self.preview) <= 0):
            raise ValueError(f"preview_distances must be increasing distances, got {preview_distances}")
        self.feedforward_time = feedforward_time
        self.lookahead_time = lookahead_time
        self.gain = gain
        self.yaw_damping = yaw_damping
        mass = float(NOMINAL_VEHICLE["mass"])  # type: ignore[arg-type]
        cf, cr = NOMINAL_VEHICLE["cornering_stiffness"]  # type: ignore[misc]
        wheelbase = LF + LR
        self.wheelbase = wheelbase
        self.understeer = mass / wheelbase * (LR / cf - LF / cr)

    def steering(self, obs: np.ndarray) -> np.ndarray:
        """Steering actions for a batch of observations.

        :param obs: state observations, shape ``[N, 6 + K]``.
        :return: actions in [-1, 1], shape ``[N, 1]``.
        """
        obs = np.asarray(obs, dtype=np.float64)
        e_y, e_psi, r, v = obs[:, 0], obs[:, 1], obs[:, 2], obs[:, 4] * SPEED_SCALE
        kappa = obs[:, 6:] / CURVATURE_SCALE
        x_ff = np.clip(v * self.feedforward_time, self.preview[0], self.preview[-1])
        kappa_ff = np.array([np.interp(x, self.preview, k) for x, k in zip(x_ff, kappa)])
        delta = (
            kappa_ff * (self.wheelbase + self.understeer * v * v)
            - self.gain * (e_y + self.lookahead_time * v * np.sin(e_psi))
            - self.yaw_damping * (r - v * kappa[:, 0])
        )
        return np.clip(delta / MAX_STEER, -1.0, 1.0)[:, None]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """:param obs: one state observation, shape ``[6 + K]``.
        :return: its action, shape ``[1]``, float32."""
        return self.steering(np.asarray(obs)[None])[0].astype(np.float32)

    def predict(
        self, observation: np.ndarray, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, Any]:
        """SB3-style ``predict``, so that ``evaluate_policy`` can run the controller.

        :param observation: shape ``[6 + K]`` or ``[N, 6 + K]``.
        :return: actions (``[1]`` or ``[N, 1]``, float32) and ``state`` unchanged.
        """
        obs = np.asarray(observation)
        if obs.ndim == 1:
            return self(obs), state
        return self.steering(obs).astype(np.float32), state


class PrivilegedLaneKeeping:
    """The reference steering from the environment's true state, whatever the policy observes:
    the reference of the camera task (it reads ``state_observation()`` of the unwrapped env, so
    perturbations of the camera image do not reach it; those of the dynamics and the actions do).

    :param env: a lane-keeping environment (possibly wrapped).
    """

    def __init__(self, env: gym.Env) -> None:
        self.env = env.unwrapped
        self.controller = LaneKeepingController(tuple(getattr(self.env, "preview", (0.0, 10.0, 20.0, 30.0, 40.0, 50.0))))

    def act(self) -> np.ndarray:
        """:return: the steering action of the current state, shape ``[1]``, float32."""
        return self.controller(self.env.state_observation())  # type: ignore[attr-defined]


def reference_controller(env: gym.Env) -> LaneKeepingController | PrivilegedLaneKeeping:
    """The reference controller of a lane-keeping environment.

    :param env: the environment (possibly wrapped).
    :return: :class:`LaneKeepingController` on the state observation (with the env's preview
        distances), :class:`PrivilegedLaneKeeping` on the camera.
    """
    unwrapped: Any = env.unwrapped
    if getattr(unwrapped, "observation_mode", "state") == "camera":
        return PrivilegedLaneKeeping(env)
    return LaneKeepingController(tuple(getattr(unwrapped, "preview", (0.0, 10.0, 20.0, 30.0, 40.0, 50.0))))


def evaluate(
    policy: Any, seeds: range | list[int] = range(20), env_id: str = "NCPControl/LaneKeeping-v0", **env_kwargs: Any
) -> dict[str, float]:
    """Run one episode per seed and summarise.

    :param policy: a callable ``obs -> action``, or ``"random"`` for uniform random actions.
    :param seeds: episode seeds.
    :param env_id: the environment id.
    :param env_kwargs: arguments for ``gym.make``.
    :return: mean ``return``, ``crash_rate``, ``success_rate``, mean ``distance`` (m), ``mean_abs_error`` (m).
    """
    env = gym.make(env_id, **env_kwargs)
    returns, crashes, successes, distances, errors = [], [], [], [], []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        env.action_space.seed(seed)
        total, done, err, steps = 0.0, False, 0.0, 0
        while not done:
            action = env.action_space.sample() if policy == "random" else policy(obs)
            obs, reward, terminated, truncated, info = env.step(action)
            total += float(reward)
            err += abs(info["lateral_error"])
            steps += 1
            done = terminated or truncated
        returns.append(total)
        crashes.append(info["crash"])
        successes.append(info["success"])
        distances.append(info["distance"])
        errors.append(err / steps)
    env.close()
    return {
        "return": float(np.mean(returns)),
        "crash_rate": float(np.mean(crashes)),
        "success_rate": float(np.mean(successes)),
        "distance": float(np.mean(distances)),
        "mean_abs_error": float(np.mean(errors)),
    }
