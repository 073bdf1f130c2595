"""The shared interface: errors, schedules, the catalogue, suites, stacks, env checkers."""

from __future__ import annotations

import math

import gymnasium as gym
import ncp_control.envs  # noqa: F401
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from ncp_control.envs import perturbations
from ncp_control.envs.perturbations import schedules
from ncp_control.envs.perturbations.testing import PointMassEnv


def point_mass() -> gym.Env:
    return gym.wrappers.TimeLimit(PointMassEnv(), 200)


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("level", [-0.1, 1.5, math.nan, math.inf, "0.5", True, None])
def test_invalid_level(level: object) -> None:
    with pytest.raises(ValueError, match="level"):
        perturbations.make(point_mass(), "gaussian_noise", level)  # type: ignore[arg-type]


def test_unknown_name_lists_the_catalogue() -> None:
    with pytest.raises(ValueError, match="unknown perturbation 'earthquake'.*gaussian_noise"):
        perturbations.make(point_mass(), "earthquake", 0.5)


@pytest.mark.parametrize(("name", "env_id", "match"), [
    ("wind", "NCPControl/LaneKeeping-v0", r"not available for NCPControl/LaneKeeping-v0.*Supported: NCPControl/Quad"),
    ("damping", "NCPControl/QuadHover-v0", r"not available for NCPControl/QuadHover-v0.*'damping'.*Supported"),
    ("friction", "NCPControl/QuadHover-v0", r"'friction', 'tyre_friction'.*Supported: .*LaneKeeping"),
    ("gravity", "NCPControl/LaneKeeping-v0", r"Supported: Gymnasium MuJoCo tasks"),
    ("external_force", "NCPControl/LaneKeeping-v0", r"Supported: .*MuJoCo model"),
    ("damping", "Swimmer-v5", r"dof_damping is zero"),
    ("image_noise", "HalfCheetah-v5", r"needs an image observation"),
    ("road_curvature", "HalfCheetah-v5", r"not available for HalfCheetah-v5.*supported: NCPControl/LaneKeeping"),
    ("control_rate", "MountainCarContinuous-v0", r"neither a MuJoCo model.*Supported"),
])
def test_unsupported_env_says_which_envs_support_it(name: str, env_id: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        perturbations.make(gym.make(env_id), name, 0.5)


@pytest.mark.parametrize(("name", "kwargs", "match"), [
    ("gaussian_noise", {"scale": -1.0}, "scale"),
    ("gaussian_noise", {"scale": math.nan}, "scale"),
    ("dropout", {"scale": 2.0}, "probability"),
    ("mass", {"direction": 2}, "direction"),
    ("mass", {"direction": -1, "scale": 1.0}, "below 1"),
    ("dt_jitter", {"scale": 1.0}, "below 1"),
    ("motor_failure", {"actuator": 7}, "actuator"),
    ("gaussian_noise", {"schedule": "sometimes"}, "unknown schedule"),
    ("gaussian_noise", {"schedule": "step:soon"}, "bad schedule argument"),
    ("gaussian_noise", {"schedule": "step"}, "needs 1 argument"),
    ("gaussian_noise", {"colour": "red"}, "bad arguments"),
    ("gaussian_noise", {"seed": -3}, "seed"),
])
def test_bad_arguments(name: str, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        perturbations.make(point_mass(), name, 0.5, **kwargs)


def test_task_shift_takes_no_schedule() -> None:
    with pytest.raises(ValueError, match="no schedule"):
        perturbations.make(gym.make("NCPControl/LaneKeeping-v0"), "speed", 0.5, schedule="step:3")


# ----------------------------------------------------------------------------- schedules
def test_schedule_values() -> None:
    assert [schedules.make_schedule("step:3")(t) for t in range(5)] == [0, 0, 0, 1, 1]
    assert [schedules.make_schedule("impulse:2:2")(t) for t in range(5)] == [0, 0, 1, 1, 0]
    assert [schedules.make_schedule("drift:4")(t) for t in range(6)] == [0, 0.25, 0.5, 0.75, 1, 1]
    periodic = schedules.make_schedule("periodic:4")
    np.testing.assert_allclose([periodic(t) for t in range(5)], [0, 0.5, 1, 0.5, 0], atol=1e-12)
    assert schedules.make_schedule(None).constant and schedules.make_schedule("constant")(99) == 1.0


def test_random_walk_is_seeded_and_bounded() -> None:
    walks = []
    for _ in range(2):
        walk = schedules.RandomWalk(step_std=0.2)
        walk.reset(np.random.default_rng(4))
        walks.append([walk(t) for t in range(200)])
    assert walks[0] == walks[1] and min(walks[0]) >= 0.0 and max(walks[0]) <= 1.0 and len(set(walks[0])) > 50


def test_schedule_drives_the_magnitude() -> None:
    env = perturbations.make(point_mass(), "mass", 0.8, schedule="step:3")
    env.reset(seed=0)
    magnitudes, masses = [], []
    for _ in range(5):
        info = env.step(np.zeros(2, dtype=np.float32))[4]
        magnitudes.append(info["perturbation"][0]["magnitude"])
        masses.append(float(env.unwrapped.physical_params()["mass"]))
    assert magnitudes == pytest.approx([0, 0, 0, 0.4, 0.4])
    assert masses == pytest.approx([1.0, 1.0, 1.0, 1.4, 1.4])
    env.reset(seed=0)
    assert float(env.unwrapped.physical_params()["mass"]) == 1.0


def test_random_walk_schedule_reproduces_with_the_seed() -> None:
    def magnitudes(seed: int) -> list[float]:
        env = perturbations.make(point_mass(), "gaussian_noise", 1.0, schedule="random_walk:0.1")
        env.reset(seed=seed)
        return [env.step(np.zeros(2, dtype=np.float32))[4]["perturbation"][0]["magnitude"] for _ in range(30)]

    assert magnitudes(1) == magnitudes(1) != magnitudes(2)


# ----------------------------------------------------------------------------- catalogue
def test_available_lists_every_perturbation() -> None:
    listed = perturbations.available()
    assert [p.name for p in listed] == list(perturbations.PERTURBATIONS)
    assert {p.family for p in listed} == {"observation", "action", "dynamics", "timing", "task"}
    for entry in listed:
        assert entry.description and entry.unit and entry.level_one > 0 and entry.supports
    assert [p.name for p in perturbations.available("timing")] == ["control_rate", "dt_jitter"]
    with pytest.raises(ValueError, match="unknown perturbation family"):
        perturbations.available("weather")


def test_suites() -> None:
    assert set(perturbations.SUITES) >= {"observation", "actuation", "dynamics", "timing", "visual", "combined"}
    for name, entries in perturbations.SUITES.items():
        assert entries and all(p in perturbations.PERTURBATIONS and levels[0] == 0.0 for p, levels in entries), name
    families = {perturbations.get(p).family for p, _ in perturbations.suite("combined")}
    assert len(families) >= 3
    with pytest.raises(ValueError, match="unknown suite"):
        perturbations.suite("everything")


def test_suite_for_keeps_what_the_env_supports() -> None:
    car = [p for p, _ in perturbations.suite_for(gym.make("NCPControl/LaneKeeping-v0"), "dynamics")]
    assert car == ["mass", "inertia", "friction"]
    hover = [p for p, _ in perturbations.suite_for(gym.make("NCPControl/QuadHover-v0"), "dynamics")]
    assert hover == ["mass", "inertia", "gravity", "wind", "gust", "wind_sine", "external_force", "impulse"]
    assert perturbations.suite_for(gym.make("HalfCheetah-v5"), "visual") == []


# ----------------------------------------------------------------------------- stacks
def test_stack_reports_every_perturbation_and_restores() -> None:
    cheetah = gym.make("HalfCheetah-v5")
    mass = cheetah.unwrapped.model.body_mass.copy()
    env = perturbations.make_stack(cheetah, [("gaussian_noise", 0.5), ("mass", 1.0), ("dt_jitter", 0.5, {"seed": 3})])
    _, info = env.reset(seed=0)
    assert [r["name"] for r in info["perturbation"]] == ["gaussian_noise", "mass", "dt_jitter"]
    info = env.step(env.action_space.sample())[4]
    assert [r["name"] for r in info["perturbation"]] == ["gaussian_noise", "mass", "dt_jitter"]
    assert "dt" in info
    np.testing.assert_allclose(cheetah.unwrapped.model.body_mass, 1.5 * mass)
    env.close()
    np.testing.assert_array_equal(cheetah.unwrapped.model.body_mass, mass)


def test_timing_wrappers_report_dt_at_level_zero() -> None:
    env = perturbations.make(gym.make("HalfCheetah-v5"), "dt_jitter", 0.0)
    env.reset(seed=0)
    assert env.step(env.action_space.sample())[4]["dt"] == pytest.approx(0.05)


def test_unseeded_reset_continues_the_generator() -> None:
    def observations() -> list[np.ndarray]:
        env = perturbations.make(point_mass(), "gaussian_noise", 1.0)
        out = [env.reset(seed=9)[0]]
        out += [env.reset()[0] for _ in range(3)]
        return out

    first, second = observations(), observations()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", ["gaussian_noise", "observation_delay", "actuator_lag", "mass", "dt_jitter", "distractor"])
def test_wrapped_envs_pass_the_env_checker(name: str) -> None:
    check_env(perturbations.make(gym.make("NCPControl/QuadHover-v0"), name, 0.5).unwrapped)
    check_env(perturbations.make(gym.make("NCPControl/QuadHover-v0"), name, 0.5), skip_render_check=True)


def test_spec_rebuilds_the_stack() -> None:
    env = perturbations.make_stack(gym.make("HalfCheetah-v5"), [("mass", 0.5, {"direction": -1}), ("gust", 1.0)])
    rebuilt = gym.make(env.spec)
    assert isinstance(rebuilt, perturbations.get("gust")) and rebuilt.env.direction == -1
    first, second = env.reset(seed=4)[0], rebuilt.reset(seed=4)[0]
    np.testing.assert_array_equal(first, second)
    action = np.full(6, 0.3, dtype=np.float32)
    np.testing.assert_array_equal(env.step(action)[0], rebuilt.step(action)[0])


@pytest.mark.parametrize(("env_id", "nominal"), [("NCPControl/HalfCheetahNoVel-v5", 0.05),
                                                 ("NCPControl/PendulumNoVel-v1", 0.05),
                                                 ("NCPControl/CartPoleNoVel-v1", 0.02)])
def test_memory_variants(env_id: str, nominal: float) -> None:
    """Perturbations stack on the velocity-masked tasks: noise on the masked observation,
    true step lengths from the underlying task."""
    bare = gym.make(env_id)
    env = perturbations.make_stack(gym.make(env_id), [("gaussian_noise", 1.0), ("dt_jitter", 1.0)])
    obs, _ = env.reset(seed=0)
    assert obs.shape == bare.observation_space.shape
    action = bare.action_space.sample()
    dts = [env.step(action)[4]["dt"] for _ in range(5)]
    assert all(0.5 * nominal - 1e-12 <= dt <= 1.5 * nominal + 1e-12 for dt in dts) and len(set(dts)) > 1
