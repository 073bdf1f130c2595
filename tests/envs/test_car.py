"""LaneKeeping-v0: physics against closed-form results, seeding, info, parameters, arguments."""

from __future__ import annotations

import math

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers the ids)
import numpy as np
import pytest
from ncp_control.envs.car.dynamics import GRAVITY, LF, LR, MAX_STEER, NOMINAL_VEHICLE
from ncp_control.envs.car.lane_keeping import LaneKeepingEnv
from ncp_control.envs.car.road import Road, generate_road

ZERO = np.zeros(1, dtype=np.float32)


def drive(env: gym.Env, actions: list[np.ndarray], seed: int) -> tuple[list[np.ndarray], list[float], list[dict]]:
    obs, info = env.reset(seed=seed)
    observations, rewards, infos = [obs], [], [info]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        rewards.append(float(reward))
        infos.append(info)
        if terminated or truncated:
            break
    return observations, rewards, infos


def test_constant_curvature_road_is_a_circle() -> None:
    k = 1.0 / 50.0
    road = Road(np.full(201, k), spacing=0.5)
    s = road.s
    np.testing.assert_allclose(road.x, np.sin(k * s) / k, atol=1e-3)
    np.testing.assert_allclose(road.y, (1 - np.cos(k * s)) / k, atol=1e-3)
    np.testing.assert_allclose(road.heading, k * s, atol=1e-12)
    assert road.curvature_at(37.3) == pytest.approx(k)


def test_generated_road_follows_seed_and_bounds() -> None:
    a = generate_road(np.random.default_rng(3), 800.0, 0.02)
    b = generate_road(np.random.default_rng(3), 800.0, 0.02)
    c = generate_road(np.random.default_rng(4), 800.0, 0.02)
    np.testing.assert_array_equal(a.curvature, b.curvature)
    assert a.curvature.shape != c.curvature.shape or not np.array_equal(a.curvature, c.curvature)
    assert a.length >= 800.0 and np.abs(a.curvature).max() <= 0.02 + 1e-12
    assert np.abs(a.curvature).max() > 0.005 and np.all(a.curvature[:30] == 0.0)
    # Linear interpolation between samples.
    assert a.curvature_at(100.25) == pytest.approx(0.75 * a.curvature[100] + 0.25 * a.curvature[101])


def test_straight_road_no_steering_drives_straight() -> None:
    env = LaneKeepingEnv(max_curvature=0.0, lane_width=100.0, speed=20.0)
    obs, info = env.reset(seed=1)
    e_y0, e_psi0 = info["lateral_error"], info["heading_error"]
    for _ in range(40):
        obs, _, _, _, info = env.step(ZERO)
    t = 40 * env.dt
    assert info["heading_error"] == pytest.approx(e_psi0, abs=1e-12)
    assert info["lateral_error"] == pytest.approx(e_y0 + 20.0 * t * math.sin(e_psi0), rel=1e-9)
    assert info["distance"] == pytest.approx(20.0 * t * math.cos(e_psi0), rel=1e-9)


def test_steady_state_yaw_rate_matches_linear_bicycle_model() -> None:
    speed, steer = 15.0, 0.05
    env = LaneKeepingEnv(max_curvature=0.0, lane_width=1000.0, speed=speed)
    env.reset(seed=0)
    for _ in range(60):
        obs, *_ = env.step(np.array([steer], dtype=np.float32))
    mass = NOMINAL_VEHICLE["mass"]
    cf, cr = NOMINAL_VEHICLE["cornering_stiffness"]  # type: ignore[misc]
    understeer = mass / (LF + LR) * (LR / cf - LF / cr)  # type: ignore[operator]
    expected = speed * steer * MAX_STEER / (LF + LR + understeer * speed**2)
    assert obs[2] == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("mu", [0.3, 0.6])
def test_tyre_friction_limits_lateral_acceleration(mu: float) -> None:
    env = LaneKeepingEnv(max_curvature=0.0, lane_width=1000.0, speed=20.0)
    env.reset(seed=0)
    env.set_physical_params(tyre_friction=mu)
    accelerations = []
    prev = None
    for _ in range(20):
        obs, *_ = env.step(np.ones(1, dtype=np.float32))
        v_x, v_y = 20.0, float(obs[3])
        course = float(obs[1]) + math.atan2(v_y, v_x)  # direction of travel on the straight road
        if prev is not None:  # acceleration normal to the path: speed * turning rate of the course
            accelerations.append(math.hypot(v_x, v_y) * abs(course - prev) / env.dt)
        prev = course
    peak = max(accelerations)
    assert peak <= mu * GRAVITY * 1.05
    assert peak >= mu * GRAVITY * 0.85  # the limit is actually reached


def test_same_seed_same_episode_and_other_seed_other_road() -> None:
    actions = [np.array([0.3 * math.sin(0.1 * k)], dtype=np.float32) for k in range(200)]
    a = drive(LaneKeepingEnv(), actions, seed=7)
    b = drive(LaneKeepingEnv(), actions, seed=7)
    c = drive(LaneKeepingEnv(), actions, seed=8)
    for x, y in zip(a[0], b[0]):
        np.testing.assert_array_equal(x, y)
    assert a[1] == b[1]
    assert not all(np.array_equal(x, y) for x, y in zip(a[0], c[0]))


def test_camera_episode_is_deterministic() -> None:
    actions = [ZERO] * 30
    a = drive(LaneKeepingEnv(observation="camera"), actions, seed=2)[0]
    b = drive(LaneKeepingEnv(observation="camera"), actions, seed=2)[0]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], a[-1])  # the picture moves


def test_info_dt_and_changed_control_period() -> None:
    env = gym.make("NCPControl/LaneKeeping-v0", max_curvature=0.0)
    env.reset(seed=0)
    _, _, _, _, info = env.step(ZERO)
    assert info["dt"] == pytest.approx(0.05)
    env.unwrapped.dt = 0.02  # a timing wrapper may change the period on the fly
    before = info["distance"]
    _, _, _, _, info = env.step(ZERO)
    assert info["dt"] == pytest.approx(0.02)
    assert env.get_wrapper_attr("nominal_dt") == pytest.approx(0.05)
    assert info["distance"] - before == pytest.approx(15.0 * 0.02 * math.cos(info["heading_error"]), rel=1e-9)


def test_physical_params_change_dynamics_and_restore() -> None:
    actions = [np.array([0.4], dtype=np.float32)] * 15
    env = LaneKeepingEnv(max_curvature=0.0, lane_width=100.0)
    assert set(env.physical_param_names()) >= {"mass", "tyre_friction", "steering_gain", "cornering_stiffness", "inertia"}
    nominal = drive(env, actions, seed=0)[2][-1]
    for change in ({"mass": 3000.0}, {"steering_gain": 0.5}, {"cornering_stiffness": [40_000.0, 45_000.0]},
                   {"tyre_friction": 0.2}, {"inertia": 5000.0}):
        env.reset(seed=0)
        env.set_physical_params(**change)
        obs, info = env._observation(), None
        for a in actions:
            obs, _, _, _, info = env.step(a)
        assert info is not None and info["heading_error"] != pytest.approx(nominal["heading_error"], rel=1e-3), change
        env.restore_physical_params()
        assert drive(env, actions, seed=0)[2][-1] == nominal
    with pytest.raises(ValueError, match="unknown physical parameter"):
        env.set_physical_params(wheel_radius=0.3)
    with pytest.raises(ValueError, match="must be positive"):
        env.set_physical_params(mass=-1.0)
    assert env.physical_params()["mass"] == pytest.approx(1500.0)  # the rejected value is not kept


def test_crash_and_success() -> None:
    env = gym.make("NCPControl/LaneKeeping-v0", max_curvature=0.02)
    _, rewards, infos = drive(env, [np.ones(1, dtype=np.float32)] * 500, seed=0)
    assert infos[-1]["crash"] and not infos[-1]["success"]
    assert abs(infos[-1]["lateral_error"]) > 1.75 and rewards[-1] < -8.0
    env = gym.make("NCPControl/LaneKeeping-v0", max_curvature=0.0, route_length=50.0)
    obs, info = env.reset(seed=0)
    steps = 0
    while True:  # steer back to the centre line
        obs, _, terminated, truncated, info = env.step(np.array([-0.2 * obs[0] - 0.5 * obs[1]], dtype=np.float32))
        steps += 1
        if terminated or truncated:
            break
    assert truncated and not terminated and info["success"] and info["distance"] >= 50.0
    assert steps == math.ceil(50.0 / (15.0 * 0.05)) or steps == math.ceil(50.0 / (15.0 * 0.05)) + 1


def test_state_observation_layout() -> None:
    env = LaneKeepingEnv(speed=12.0, preview_distances=(0.0, 25.0))
    obs, info = env.reset(seed=5)
    assert obs.shape == (8,) and obs.dtype == np.float32
    assert obs[0] == pytest.approx(info["lateral_error"]) and obs[4] == pytest.approx(1.2)
    assert env.road is not None
    np.testing.assert_allclose(obs[6:], env.road.curvature_ahead(0.0, np.array([0.0, 25.0])) * 50.0, rtol=1e-6)


def test_speed_control_and_reset_options() -> None:
    env = LaneKeepingEnv(speed_control=True, max_curvature=0.0)
    assert env.action_space.shape == (2,)
    env.reset(seed=0, options={"speed": 10.0})
    for _ in range(20):
        _, _, _, _, info = env.step(np.array([0.0, 1.0], dtype=np.float32))
    assert info["speed"] == pytest.approx(10.0 + 3.0 * 20 * 0.05)
    _, info = env.reset(seed=0)
    assert info["speed"] == pytest.approx(15.0)  # options last one episode


def test_camera_palettes_and_render() -> None:
    images = {}
    for season, lighting in [("summer", "day"), ("winter", "day"), ("summer", "night")]:
        env = LaneKeepingEnv(observation="camera", camera_size=(32, 64))
        obs, _ = env.reset(seed=0, options={"season": season, "lighting": lighting})
        assert obs.shape == (32, 64, 3) and obs.dtype == np.uint8
        images[season, lighting] = obs.astype(float)
    assert images["winter", "day"].mean() > images["summer", "day"].mean() + 30
    assert images["summer", "night"].mean() < images["summer", "day"].mean() - 40
    env = LaneKeepingEnv(render_mode="rgb_array")
    env.reset(seed=0)
    picture = env.render()
    assert picture is not None and picture.shape == (256, 768, 3) and picture.dtype == np.uint8
    car = np.all(picture[:, :256] == (200, 30, 30), axis=-1)
    assert 50 < car.sum() < 2000  # the car is drawn on the map
    assert LaneKeepingEnv().render() is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"observation": "lidar"}, "observation must be one of"),
        ({"speed": -1.0}, "speed must be in"),
        ({"lane_width": 0.0}, "lane_width must be positive"),
        ({"route_length": -5.0}, "route_length must be positive"),
        ({"route_length": float("inf")}, "route_length must be a finite number"),
        ({"max_curvature": -0.1}, "max_curvature must be in"),
        ({"season": "monsoon"}, "season must be one of"),
        ({"lighting": "noon"}, "lighting must be one of"),
        ({"dt": 0.0}, "dt must be positive"),
        ({"camera_size": (8, 8)}, "camera_size"),
        ({"preview_distances": (-1.0,)}, "preview_distances"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LaneKeepingEnv(**kwargs)


def test_bad_reset_options() -> None:
    env = LaneKeepingEnv()
    with pytest.raises(ValueError, match="unknown reset option"):
        env.reset(options={"gravity": 1.0})
    with pytest.raises(ValueError, match="season must be one of"):
        env.reset(options={"season": "monsoon"})


@pytest.mark.parametrize(
    ("e_y", "e_psi", "curvature"), [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.5, 0.1, 0.0), (0.0, 0.0, 0.01), (-0.5, 0.0, -0.01)]
)
def test_map_view_draws_the_edge_line_where_geometry_puts_it(e_y: float, e_psi: float, curvature: float) -> None:
    from ncp_control.envs.car.raster import SEASONS, WHITE, View, colour_table, rasterise

    view = View.top_down(256, 64.0, 16.0)  # 0.25 m per pixel, 48 m ahead of the car
    road = Road(np.full(400, curvature))
    image = rasterise(view, colour_table(view, "summer", "day", headlights=False), road, 100.0, e_y, e_psi, 3.5)
    white = np.all(image == SEASONS["summer"][WHITE], axis=-1)
    for d in (0.0, 20.0, 40.0):
        row = int(round((48.0 - d) / 0.25 - 0.5))
        # Right edge line: a circle of signed radius R + w/2 about the centre of curvature (0, R - e_y).
        if curvature == 0.0:  # a straight line, seen turned by -e_psi
            lateral = (-1.75 - e_y) / math.cos(e_psi) - d * math.tan(e_psi)
        else:
            radius = 1.0 / curvature
            lateral = radius - e_y - math.copysign(math.sqrt((radius + 1.75) ** 2 - d * d), radius)
        expected_column = (32.0 - lateral) / 0.25 - 0.5
        columns = np.flatnonzero(white[row])
        nearest = columns[np.argmin(np.abs(columns - expected_column))]
        assert abs(nearest - expected_column) <= 1.0, (d, nearest, expected_column)


def test_camera_and_state_modes_drive_the_same_episode() -> None:
    """The observation mode changes only what the agent sees, so one reference score serves both."""
    actions = [np.array([0.2 * math.sin(0.05 * k)], dtype=np.float32) for k in range(150)]
    state = drive(LaneKeepingEnv(), actions, seed=9)
    camera = drive(LaneKeepingEnv(observation="camera"), actions, seed=9)
    assert state[1] == camera[1] and state[2] == camera[2]
