"""Quadrotor physics: model constants, wind, physical parameters, motor lag, inner loop."""

from __future__ import annotations

import gymnasium as gym
import ncp_control.envs  # noqa: F401
import numpy as np
import pytest
from ncp_control.envs.quadrotor.model import CRAZYFLIE

HOVER = np.zeros(4, dtype=np.float32)  # rates mode: nominal hover thrust, zero body rates
START = {"start": [0.0, 0.0, 1.0], "target": [0.0, 0.0, 1.0]}


def _fly(env: gym.Env, steps: int, action: np.ndarray = HOVER) -> np.ndarray:
    for _ in range(steps):
        env.step(action)
    return env.unwrapped.drone_state()["position"]


def _still(env: gym.Env) -> None:
    """Remove the random initial attitude, velocity and rates."""
    u = env.unwrapped
    u.data.qpos[3:7] = (1.0, 0.0, 0.0, 0.0)
    u.data.qvel[:] = 0.0


def _hovering_env(**kwargs) -> gym.Env:
    env = gym.make("NCPControl/QuadHover-v0", **kwargs)
    env.reset(seed=0, options=START)
    _still(env)
    return env


def test_model_matches_the_documented_constants() -> None:
    model = gym.make("NCPControl/QuadHover-v0").unwrapped.model
    body = model.body("quad").id
    assert model.body_mass[body] == pytest.approx(0.027)
    assert model.body_inertia[body] == pytest.approx([1.395e-5, 1.436e-5, 2.173e-5])
    arm = np.linalg.norm(model.site_pos[:, :2], axis=1)
    assert arm == pytest.approx([0.046] * 4, abs=1e-6)
    assert model.actuator_gainprm[:, 0] * 4 == pytest.approx([CRAZYFLIE.thrust_to_weight * 0.027 * 9.81] * 4)
    assert np.abs(model.actuator_gear[:, 5]) == pytest.approx([CRAZYFLIE.torque_to_thrust] * 4)


def test_nominal_hover_action_holds_altitude() -> None:
    position = _fly(_hovering_env(), 100)
    assert np.abs(position - [0.0, 0.0, 1.0]).max() < 1e-3


def test_wind_blows_the_drone_off_course_and_drag_scales_it() -> None:
    calm = _fly(_hovering_env(), 100)
    windy_env = _hovering_env()
    windy_env.unwrapped.set_physical_params(wind=[3.0, 0.0, 0.0])
    windy = _fly(windy_env, 100)
    assert windy[0] - calm[0] > 0.1  # pushed downwind by more than 10 cm in 1 s
    assert abs(windy[1] - calm[1]) < 0.02
    thin_env = _hovering_env()
    thin_env.unwrapped.set_physical_params(wind=[3.0, 0.0, 0.0], drag=0.5 * CRAZYFLIE.air_density)
    thin = _fly(thin_env, 100)
    assert 0.3 < (thin[0] - calm[0]) / (windy[0] - calm[0]) < 0.7  # quadratic drag is linear in density


def test_physical_params_change_dynamics_and_restore_exactly() -> None:
    env = _hovering_env()
    u = env.unwrapped
    assert set(u.physical_param_names()) == {
        "mass", "inertia", "motor_constant", "motor_time_constant", "wind", "drag", "gravity"
    }
    nominal = _fly(env, 50).copy()

    env.reset(seed=0, options=START)
    _still(env)
    u.set_physical_params(mass=1.5 * CRAZYFLIE.mass)
    heavy = _fly(env, 50).copy()
    assert heavy[2] < nominal[2] - 0.05  # sinks: the inner loop still commands nominal hover thrust

    env.reset(seed=0, options=START)
    _still(env)
    weak = u.nominal_physical_params()["motor_constant"]
    weak[0] *= 0.5
    u.set_physical_params(motor_constant=weak)
    env.step(HOVER)
    env.step(HOVER)
    assert np.abs(u.drone_state()["body_rates"]).max() > 0.05  # a weak motor upsets the attitude

    u.restore_physical_params()
    env.reset(seed=0, options=START)
    _still(env)
    assert np.array_equal(_fly(env, 50), nominal)


def test_motor_time_constant_is_a_first_order_lag() -> None:
    env = gym.make("NCPControl/QuadHover-v0", action_mode="motors")
    env.reset(seed=0, options=START)
    u = env.unwrapped
    u.data.act[:] = 0.0
    env.step(np.ones(4, dtype=np.float32))  # full command from rest
    dt, tau = u.dt, CRAZYFLIE.motor_time_constant
    assert u.data.act == pytest.approx([1.0 - np.exp(-dt / tau)] * 4, rel=1e-6)
    u.set_physical_params(motor_time_constant=2 * tau)
    u.data.act[:] = 0.0
    env.step(np.ones(4, dtype=np.float32))
    assert u.data.act == pytest.approx([1.0 - np.exp(-dt / (2 * tau))] * 4, rel=1e-6)


def test_reaction_torque_yaws_the_drone() -> None:
    env = gym.make("NCPControl/QuadHover-v0", action_mode="motors")
    env.reset(seed=0, options=START)
    _still(env)
    hover = 2 * env.unwrapped._hover_command - 1
    action = np.array([hover + 0.1, hover - 0.1, hover + 0.1, hover - 0.1], dtype=np.float32)
    for _ in range(10):
        env.step(action)
    p, q, r = env.unwrapped.drone_state()["body_rates"]
    assert r > 0.3 and abs(p) < 1e-6 and abs(q) < 1e-6  # motors 0 and 2 spin clockwise: +z torque


def test_inner_rate_loop_tracks_commanded_body_rates() -> None:
    env = _hovering_env()
    for _ in range(20):
        env.step(np.array([0.0, 0.25, -0.25, 0.5], dtype=np.float32))
    rates = env.unwrapped.drone_state()["body_rates"]
    assert rates == pytest.approx([1.0, -1.0, 1.0], abs=0.15)  # 0.25 * 4, -0.25 * 4, 0.5 * 2 rad/s
