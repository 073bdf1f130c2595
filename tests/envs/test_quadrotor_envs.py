"""Quadrotor tasks: API conformance, seeding, info, rendering, argument errors."""

from __future__ import annotations

import warnings

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers the tasks)
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

CASES = [
    ("NCPControl/QuadHover-v0", {}),
    ("NCPControl/QuadHover-v0", {"action_mode": "motors"}),
    ("NCPControl/QuadWaypoints-v0", {}),
    ("NCPControl/QuadFlyToTarget-v0", {"observation": "features"}),
    ("NCPControl/QuadFlyToTarget-v0", {"observation": "state"}),
    ("NCPControl/QuadFlyToTarget-v0", {"observation": "camera"}),
]


@pytest.mark.parametrize(("env_id", "kwargs"), CASES)
def test_check_env_gymnasium_and_sb3(env_id: str, kwargs: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        gym_check_env(gym.make(env_id, render_mode="rgb_array", **kwargs).unwrapped)
        sb3_check_env(gym.make(env_id, **kwargs))


def _rollout(env: gym.Env, seed: int, steps: int) -> tuple[list[np.ndarray], list[float], list[dict]]:
    obs, info = env.reset(seed=seed)
    env.action_space.seed(seed)
    observations, rewards, infos = [obs], [], [info]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample() * 0.3)
        observations.append(obs)
        rewards.append(reward)
        infos.append(info)
        if terminated or truncated:
            obs, info = env.reset()
            observations.append(obs)
    return observations, rewards, infos


@pytest.mark.parametrize(("env_id", "kwargs"), [CASES[0], CASES[2], CASES[5]])
def test_seeding_reproduces_episodes_exactly(env_id: str, kwargs: dict) -> None:
    a = _rollout(gym.make(env_id, **kwargs), seed=7, steps=150)
    b = _rollout(gym.make(env_id, **kwargs), seed=7, steps=150)
    c = _rollout(gym.make(env_id, **kwargs), seed=8, steps=150)
    assert len(a[0]) == len(b[0])
    assert all(np.array_equal(x, y) for x, y in zip(a[0], b[0]))
    assert a[1] == b[1]
    assert not np.array_equal(a[0][0], c[0][0])


def test_info_dt_is_the_elapsed_simulated_time() -> None:
    env = gym.make("NCPControl/QuadHover-v0")
    _, info = env.reset(seed=0)
    assert info["dt"] == 0.0 and info["time"] == 0.0
    _, _, _, _, info = env.step(np.zeros(4, dtype=np.float32))
    assert info["dt"] == pytest.approx(0.01)
    env.unwrapped.physics_substeps = 3  # a slower control rate: three physics steps per action
    t0 = env.unwrapped.data.time
    _, _, _, _, info = env.step(np.zeros(4, dtype=np.float32))
    assert info["dt"] == pytest.approx(0.015)
    assert env.unwrapped.data.time - t0 == pytest.approx(info["dt"])
    fast = gym.make("NCPControl/QuadHover-v0", control_frequency=50.0)
    fast.reset(seed=0)
    assert fast.step(np.zeros(4, dtype=np.float32))[4]["dt"] == pytest.approx(0.02)


def test_info_keys_and_tracking_error() -> None:
    env = gym.make("NCPControl/QuadHover-v0")
    _, info = env.reset(seed=0, options={"target": [0.0, 0.0, 1.5], "start": [0.0, 0.0, 1.0]})
    assert set(info) >= {"success", "dt", "tracking_error", "crashed", "time"}
    assert info["tracking_error"] == pytest.approx(0.5)
    obs, *_ = env.step(np.zeros(4, dtype=np.float32))
    assert obs[2] == pytest.approx(0.5, abs=0.02)  # target minus position, z


def test_crash_on_the_ground_ends_the_episode() -> None:
    env = gym.make("NCPControl/QuadHover-v0")
    env.reset(seed=0)
    steps, terminated = 0, False
    while not terminated and steps < 300:
        _, reward, terminated, _, info = env.step(np.array([-1.0, 0, 0, 0], dtype=np.float32))  # motors off
        steps += 1
    assert terminated and info["crashed"] and not info["success"]
    assert reward < -5 and steps < 100


def test_leaving_the_arena_ends_the_episode() -> None:
    env = gym.make("NCPControl/QuadHover-v0")
    env.reset(seed=0, options={"start": [0.0, 0.0, 2.3]})
    for _ in range(100):
        _, _, terminated, _, info = env.step(np.array([1.0, 0, 0, 0], dtype=np.float32))  # full climb
        if terminated:
            break
    assert terminated and info["crashed"]
    assert env.unwrapped.drone_state()["position"][2] > 2.5


@pytest.mark.parametrize("env_id", ["NCPControl/QuadHover-v0", "NCPControl/QuadFlyToTarget-v0"])
def test_render_rgb_array_is_a_picture(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=0)
    for _ in range(20):
        env.step(np.zeros(4, dtype=np.float32))
    picture = env.render()
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[0] == 240
    assert picture.shape[1] >= 480
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 5  # grid, drone, target, trail
    plain = gym.make(env_id)
    plain.reset(seed=0)
    assert plain.render() is None  # no render mode: nothing drawn


@pytest.mark.parametrize(
    ("env_id", "kwargs", "message"),
    [
        ("NCPControl/QuadHover-v0", {"action_mode": "thrust"}, "action_mode must be one of"),
        ("NCPControl/QuadHover-v0", {"render_mode": "ansi"}, "render_mode"),
        ("NCPControl/QuadHover-v0", {"physics_substeps": 0}, "physics_substeps"),
        ("NCPControl/QuadHover-v0", {"control_frequency": -10.0}, "control_frequency"),
        ("NCPControl/QuadHover-v0", {"target_box": ((1, -1), (0, 1), (0, 1))}, "target_box"),
        ("NCPControl/QuadHover-v0", {"success_radius": -0.1}, "success_radius"),
        ("NCPControl/QuadWaypoints-v0", {"n_waypoints": 0}, "n_waypoints"),
        ("NCPControl/QuadFlyToTarget-v0", {"observation": "rgb"}, "observation must be one of"),
        ("NCPControl/QuadFlyToTarget-v0", {"target_range": (-1.0, 2.0)}, "target_range"),
        ("NCPControl/QuadFlyToTarget-v0", {"target_range": (3.0, 2.0)}, "target_range"),
        ("NCPControl/QuadFlyToTarget-v0", {"season": "monsoon"}, "season must be one of"),
        ("NCPControl/QuadFlyToTarget-v0", {"lighting": "disco"}, "lighting must be one of"),
        ("NCPControl/QuadFlyToTarget-v0", {"background": "sea"}, "background must be one of"),
        ("NCPControl/QuadFlyToTarget-v0", {"distractors": -1}, "distractors"),
        ("NCPControl/QuadFlyToTarget-v0", {"occlusion": 0.9}, "occlusion"),
        ("NCPControl/QuadFlyToTarget-v0", {"split": "mars"}, "split must be one of"),
        ("NCPControl/QuadFlyToTarget-v0", {"image_size": (4, 4)}, "image size"),
        ("NCPControl/QuadFlyToTarget-v0", {"image_size": 48}, "image_size must be"),
        ("NCPControl/QuadHover-v0", {"max_body_rates": (1.0, 0.0, 1.0)}, "max_body_rates"),
        ("NCPControl/QuadHover-v0", {"arena": ((0, 1), (0, 1))}, "arena"),
    ],
)
def test_bad_arguments_raise_value_error_saying_what_is_allowed(env_id: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns about an undeclared render mode first
        gym.make(env_id, **kwargs)


def test_bad_reset_options_raise_value_error() -> None:
    hover = gym.make("NCPControl/QuadHover-v0")
    with pytest.raises(ValueError, match="allowed"):
        hover.reset(seed=0, options={"goal": [0, 0, 1]})
    with pytest.raises(ValueError, match="three finite numbers"):
        hover.reset(seed=0, options={"target": [0, 1]})
    target = gym.make("NCPControl/QuadFlyToTarget-v0")
    with pytest.raises(ValueError, match="season must be one of"):
        target.reset(seed=0, options={"season": "monsoon"})
    with pytest.raises(ValueError, match="waypoints"):
        gym.make("NCPControl/QuadWaypoints-v0").reset(seed=0, options={"waypoints": np.zeros((2, 3))})
