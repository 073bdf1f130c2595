"""The magnitude at level 1 is the documented one, measured on what the wrapper does."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import ncp_control.envs  # noqa: F401
import numpy as np
import pytest
from ncp_control.envs import perturbations
from ncp_control.envs.perturbations.testing import PointMassEnv

G = 9.81


class RecordActions(gym.Wrapper):
    """Records the actions that reach the environment."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.actions: list[np.ndarray] = []

    def step(self, action: Any) -> Any:
        self.actions.append(np.array(action, dtype=np.float64))
        return self.env.step(action)


def point_mass() -> gym.Env:
    return gym.wrappers.TimeLimit(PointMassEnv(), 5000)


def paired_observations(make: Any, name: str, steps: int, level: float = 1.0, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Observations of the bare and the perturbed env under the same seed and zero actions."""
    out = []
    for env in (make(), perturbations.make(make(), name, level, **kwargs)):
        obs, _ = env.reset(seed=1)
        observations = [obs]
        for _ in range(steps):
            obs, *_ = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
            observations.append(obs)
        out.append(np.array(observations, dtype=np.float64))
    return out[0], out[1]


def applied_actions(name: str, commands: np.ndarray, make: Any = point_mass, **kwargs: Any) -> np.ndarray:
    """:return: the actions that reach the env when ``commands`` are sent through ``name`` at level 1."""
    recorder = RecordActions(make())
    env = perturbations.make(recorder, name, 1.0, **kwargs)
    env.reset(seed=2)
    for command in commands:
        env.step(command.astype(np.float32))
    return np.array(recorder.actions)


# ----------------------------------------------------------------------------- observation
def test_gaussian_noise_std() -> None:
    bare, noisy = paired_observations(point_mass, "gaussian_noise", 400)
    assert np.std(noisy - bare) == pytest.approx(0.1, rel=0.08)


def test_uniform_noise_half_width() -> None:
    bare, noisy = paired_observations(point_mass, "uniform_noise", 400)
    diff = noisy - bare
    assert 0.19 < np.abs(diff).max() <= 0.2 and np.std(diff) == pytest.approx(0.2 / math.sqrt(3), rel=0.08)


def test_bias_offset() -> None:
    bare, biased = paired_observations(point_mass, "bias", 50)
    diff = biased - bare
    np.testing.assert_allclose(np.abs(diff), 0.2, atol=1e-12)
    np.testing.assert_allclose(diff, np.repeat(diff[:1], len(diff), axis=0), atol=1e-12)


def test_dropout_probability() -> None:
    _, dropped = paired_observations(point_mass, "dropout", 400)
    assert np.mean(dropped[:, :4] == 0.0) == pytest.approx(0.5, abs=0.04)


def test_stuck_sensor_fraction() -> None:
    fractions = []
    for seed in range(20):
        env = perturbations.make(gym.make("HalfCheetah-v5"), "stuck_sensor", 1.0)
        obs, _ = env.reset(seed=seed)
        seen = [obs]
        for _ in range(20):
            seen.append(env.step(env.action_space.sample())[0])
        fractions.append(np.mean(np.all(np.array(seen) == seen[0], axis=0)))
    assert np.mean(fractions) == pytest.approx(0.5, abs=0.08)


def test_observation_delay_is_five_steps() -> None:
    bare, delayed = paired_observations(point_mass, "observation_delay", 30)
    np.testing.assert_array_equal(delayed[5:], bare[:-5])
    np.testing.assert_array_equal(delayed[:5], np.repeat(bare[:1], 5, axis=0))


def test_distractor_appends_dimensions() -> None:
    bare, extended = paired_observations(point_mass, "distractor", 100)
    assert extended.shape[1] == bare.shape[1] + 8
    np.testing.assert_array_equal(extended[:, :6], bare)
    assert 0.5 < np.abs(extended[:, 6:]).max() < 2.5


def car_camera() -> gym.Env:
    return gym.make("NCPControl/LaneKeeping-v0", observation="camera")


def test_image_brightness_shift() -> None:
    bare, bright = paired_observations(car_camera, "image_brightness", 3)
    np.testing.assert_array_equal(bright, np.clip(bare + round(0.4 * 255), 0, 255))


def test_image_contrast_loss() -> None:
    bare, flat = paired_observations(car_camera, "image_contrast", 3)
    for b, f in zip(bare, flat):
        mean = b.astype(np.float32).mean()
        np.testing.assert_allclose(f, np.clip(np.rint(mean + (b - mean) * np.float32(0.2)), 0, 255), atol=1)
    assert np.std(flat[0]) == pytest.approx(0.2 * np.std(bare[0]), rel=0.02)


def test_image_noise_std() -> None:
    bare, noisy = paired_observations(car_camera, "image_noise", 3)
    inside = (bare > 110) & (bare < 145)  # far from the bounds at 2.5 sigma: clipping is rare
    assert np.std((noisy - bare)[inside]) == pytest.approx(0.2 * 255, rel=0.08)


def test_image_occlusion_area() -> None:
    bare, occluded = paired_observations(car_camera, "image_occlusion", 3)
    covered = np.all(occluded[0] == 0, axis=-1) & np.any(bare[0] != 0, axis=-1)
    assert covered.mean() == pytest.approx(0.5, abs=0.03)


# ----------------------------------------------------------------------------- action
def test_action_noise_std() -> None:
    applied = applied_actions("action_noise", np.zeros((800, 2)))
    assert np.std(applied) == pytest.approx(0.3, rel=0.08)


def test_action_bias_offset() -> None:
    applied = applied_actions("action_bias", np.full((10, 2), 0.1))
    np.testing.assert_allclose(np.abs(applied - 0.1), 0.3, atol=1e-6)


def test_action_delay_is_five_steps() -> None:
    commands = np.random.default_rng(0).uniform(-1, 1, (30, 2)).astype(np.float32)
    applied = applied_actions("action_delay", commands)
    np.testing.assert_array_equal(applied[5:], commands[:-5])
    np.testing.assert_array_equal(applied[:5], np.repeat(commands[:1], 5, axis=0))


def test_sticky_action_probability() -> None:
    commands = np.random.default_rng(0).uniform(-1, 1, (600, 2)).astype(np.float32)
    applied = applied_actions("sticky_action", commands)
    assert np.mean(np.any(applied[1:] != commands[1:], axis=1)) == pytest.approx(0.5, abs=0.05)


def test_actuator_lag_time_constant() -> None:
    commands = np.concatenate([np.zeros((1, 2)), np.ones((20, 2))])
    applied = applied_actions("actuator_lag", commands)
    steps = np.arange(1, 21)
    np.testing.assert_allclose(applied[1:, 0], 1.0 - np.exp(-steps * 0.05 / 0.1), atol=1e-6)


def test_rate_limit_full_range_in_half_a_second() -> None:
    commands = np.concatenate([np.full((1, 2), -1.0), np.ones((12, 2))])
    applied = applied_actions("rate_limit", commands)
    # 2 (full range) * 0.05 s / 0.5 s = 0.2 per step: ten steps, i.e. 0.5 s, from -1 to 1
    np.testing.assert_allclose(applied[1:11, 0], -1.0 + 0.2 * np.arange(1, 11), atol=1e-6)
    np.testing.assert_allclose(applied[11:, 0], 1.0)


def test_gain_loss_and_motor_failure_on_actuators() -> None:
    cheetah = gym.make("HalfCheetah-v5")
    gear = cheetah.unwrapped.model.actuator_gear.copy()
    env = perturbations.make(cheetah, "gain_loss", 1.0)
    env.reset(seed=0)
    np.testing.assert_allclose(cheetah.unwrapped.model.actuator_gear, 0.5 * gear)
    env = perturbations.make(gym.make("NCPControl/QuadHover-v0"), "motor_failure", 1.0, actuator=2)
    env.reset(seed=0)
    thrust = env.unwrapped.physical_params()["motor_constant"]
    nominal = env.unwrapped.nominal_physical_params()["motor_constant"]
    np.testing.assert_allclose(thrust, nominal * np.array([1.0, 1.0, 0.0, 1.0]))
    car = perturbations.make(gym.make("NCPControl/LaneKeeping-v0"), "gain_loss", 1.0)
    car.reset(seed=0)
    assert car.unwrapped.physical_params()["steering_gain"] == pytest.approx(0.5)


# ----------------------------------------------------------------------------- dynamics
@pytest.mark.parametrize(("name", "field", "factor"), [
    ("mass", "body_mass", 1.5), ("inertia", "body_inertia", 1.5), ("damping", "dof_damping", 1.5),
])
def test_mujoco_fields_scaled(name: str, field: str, factor: float) -> None:
    cheetah = gym.make("HalfCheetah-v5")
    nominal = getattr(cheetah.unwrapped.model, field).copy()
    env = perturbations.make(cheetah, name, 1.0)
    for seed in range(3):
        env.reset(seed=seed)
        np.testing.assert_allclose(getattr(cheetah.unwrapped.model, field), nominal * factor)
    light = perturbations.make(gym.make("HalfCheetah-v5"), name, 1.0, direction=-1)
    light.reset(seed=0)
    np.testing.assert_allclose(getattr(light.unwrapped.model, field), nominal * (2.0 - factor))


def test_friction_and_gravity() -> None:
    cheetah = gym.make("HalfCheetah-v5")
    friction = cheetah.unwrapped.model.geom_friction.copy()
    env = perturbations.make(perturbations.make(cheetah, "friction", 1.0), "gravity", 1.0)
    env.reset(seed=0)
    model = cheetah.unwrapped.model
    np.testing.assert_allclose(model.geom_friction[:, 0], 0.5 * friction[:, 0])
    np.testing.assert_array_equal(model.geom_friction[:, 1:], friction[:, 1:])
    np.testing.assert_allclose(model.opt.gravity, [0.0, 0.0, -1.5 * G])
    car = perturbations.make(gym.make("NCPControl/LaneKeeping-v0"), "friction", 1.0)
    car.reset(seed=0)
    assert car.unwrapped.physical_params()["tyre_friction"] == pytest.approx(0.5)


def test_physical_params_scaled_on_our_envs() -> None:
    hover = perturbations.make(perturbations.make(gym.make("NCPControl/QuadHover-v0"), "mass", 1.0), "inertia", 1.0)
    hover.reset(seed=0)
    params, nominal = hover.unwrapped.physical_params(), hover.unwrapped.nominal_physical_params()
    assert params["mass"] == pytest.approx(1.5 * 0.027)
    np.testing.assert_allclose(params["inertia"], 1.5 * nominal["inertia"])
    assert hover.unwrapped.model.body_mass[1] == pytest.approx(1.5 * 0.027)


@pytest.mark.parametrize("make", [lambda: gym.make("HalfCheetah-v5"), lambda: gym.make("NCPControl/QuadHover-v0")],
                         ids=["cheetah", "hover"])
def test_wind_speed(make: Any) -> None:
    env = perturbations.make(make(), "wind", 1.0)
    env.reset(seed=0)
    wind = env.unwrapped.model.opt.wind
    assert np.linalg.norm(wind) == pytest.approx(8.0) and wind[2] == 0.0
    assert env.unwrapped.model.opt.density > 1.0


def wind_series(name: str, steps: int, **kwargs: Any) -> np.ndarray:
    env = perturbations.make(point_mass(), name, 1.0, **kwargs)
    env.reset(seed=0)
    series = []
    for _ in range(steps):
        env.step(np.zeros(2, dtype=np.float32))
        series.append(env.unwrapped.physical_params()["wind"])
    return np.array(series)


def test_gust_rms() -> None:
    series = wind_series("gust", 4000)
    assert np.sqrt(np.mean(series**2)) == pytest.approx(3.0, rel=0.25)


def test_sine_wind_amplitude_and_period() -> None:
    series = np.linalg.norm(wind_series("wind_sine", 80), axis=1)
    assert series.max() == pytest.approx(8.0, rel=0.01)
    np.testing.assert_allclose(series[:40], series[40:], atol=1e-9)  # period 2 s = 40 steps


def test_external_force_is_thirty_percent_of_weight() -> None:
    for name in ("HalfCheetah-v5", "NCPControl/QuadHover-v0"):
        env = perturbations.make(gym.make(name), "external_force", 1.0)
        env.reset(seed=0)
        mass = float(np.sum(env.unwrapped.model.body_mass))
        force = env.unwrapped.data.xfrc_applied[1, :3]
        assert np.linalg.norm(force) == pytest.approx(0.3 * mass * G, rel=1e-6) and force[2] == 0.0


def test_impulse_changes_velocity_by_one_metre_per_second() -> None:
    def velocities(level: float) -> np.ndarray:
        env = perturbations.make(gym.make("NCPControl/QuadHover-v0"), "impulse", level, interval=0.2,
                                 direction=[1.0, 0.0, 0.0])
        env.reset(seed=0)
        return np.array([env.step(np.zeros(4, dtype=np.float32))[0][3:6] for _ in range(25)])

    diff = velocities(1.0) - velocities(0.0)
    first = int(np.argmax(np.abs(diff[:, 0]) > 0.05))
    assert diff[first, 0] == pytest.approx(1.0, abs=0.05)


# ----------------------------------------------------------------------------- timing
@pytest.mark.parametrize(("env_id", "nominal"), [("HalfCheetah-v5", 0.05), ("NCPControl/QuadHover-v0", 0.01),
                                                 ("NCPControl/LaneKeeping-v0", 0.05)])
def test_control_rate_doubles_or_halves_the_step(env_id: str, nominal: float) -> None:
    for direction, factor in ((1, 2.0), (-1, 0.5)):
        env = perturbations.make(gym.make(env_id), "control_rate", 1.0, direction=direction)
        env.reset(seed=0)
        for _ in range(3):
            info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))[4]
            assert info["dt"] == pytest.approx(factor * nominal)


def test_dt_jitter_range_and_true_elapsed_time() -> None:
    cheetah = gym.make("HalfCheetah-v5")
    env = perturbations.make(cheetah, "dt_jitter", 1.0)
    env.reset(seed=0)
    dts = [env.step(env.action_space.sample())[4]["dt"] for _ in range(300)]
    assert min(dts) >= 0.025 - 1e-12 and max(dts) <= 0.075 + 1e-12
    assert min(dts) < 0.03 and max(dts) > 0.07 and np.mean(dts) == pytest.approx(0.05, rel=0.05)
    assert cheetah.unwrapped.data.time == pytest.approx(sum(dts))
    assert cheetah.unwrapped.model.opt.timestep <= 0.01 + 1e-15


# ----------------------------------------------------------------------------- task
def test_speed_and_curvature_shift() -> None:
    fast = perturbations.make(gym.make("NCPControl/LaneKeeping-v0"), "speed", 1.0)
    obs, _ = fast.reset(seed=0)
    assert obs[4] * 10.0 == pytest.approx(22.5)
    curvy = perturbations.make(gym.make("NCPControl/LaneKeeping-v0"), "road_curvature", 1.0)
    peaks = []
    for seed in range(5):
        obs, _ = curvy.reset(seed=seed)
        peaks.append(np.abs(obs[6:]).max() / 50.0)
        for _ in range(200):
            obs, _, terminated, truncated, _ = curvy.step(np.zeros(1, dtype=np.float32))
            peaks.append(np.abs(obs[6:]).max() / 50.0)
            if terminated or truncated:
                break
    assert 1.0 / 60.0 < max(peaks) <= 2.0 / 60.0 + 1e-9


def test_palette_darkens_the_camera() -> None:
    bare, night = paired_observations(car_camera, "palette", 1)
    assert night.mean() < 0.7 * bare.mean()


def test_fly_to_target_shifts() -> None:
    far = perturbations.make(gym.make("NCPControl/QuadFlyToTarget-v0"), "target_range", 1.0)
    far.reset(seed=0)
    assert far.unwrapped.episode_setting["target_range"] == pytest.approx((2.4, 4.8))
    near = perturbations.make(gym.make("NCPControl/QuadFlyToTarget-v0"), "target_range", 1.0, direction=-1)
    near.reset(seed=0)
    assert near.unwrapped.episode_setting["target_range"] == pytest.approx((1.5 / 1.6, 3.0 / 1.6))
    crowded = perturbations.make(gym.make("NCPControl/QuadFlyToTarget-v0"), "distractors", 1.0)
    crowded.reset(seed=0)
    assert crowded.unwrapped.episode_setting["distractors"] == 3
    noisy = perturbations.make(gym.make("NCPControl/QuadFlyToTarget-v0"), "background", 1.0)
    noisy.reset(seed=0, options={"season": "winter"})
    assert noisy.unwrapped.episode_setting["background"] == "noise"
    assert noisy.unwrapped.episode_setting["season"] == "winter"  # the caller's options still apply
