"""Every perturbation of the catalogue, on a MuJoCo task and on one of ours (image and task
shifts: on our MuJoCo drone and our numpy car): level 0 is the
unwrapped env, level 1 changes what the agent sees or how the system moves, seeded runs
reproduce, resets do not compound, close restores the physics."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers NCPControl/)
import numpy as np
import pytest
from ncp_control.envs import perturbations
from ncp_control.envs.params import PhysicalParams
from ncp_control.envs.perturbations.physics import mujoco_handles
from ncp_control.envs.perturbations.testing import PointMassEnv

STEPS = 40
OBSERVATION = ("gaussian_noise", "uniform_noise", "bias", "dropout", "stuck_sensor", "observation_delay")
IMAGE = ("image_brightness", "image_contrast", "image_noise", "image_occlusion")
ACTION = ("action_noise", "action_bias", "action_delay", "sticky_action", "actuator_lag", "rate_limit")
WIND = ("wind", "gust", "wind_sine")


def make_env(key: str) -> gym.Env:
    """:param key: which environment. :return: a fresh instance."""
    if key == "cheetah":
        return gym.make("HalfCheetah-v5")
    if key == "hover":
        return gym.make("NCPControl/QuadHover-v0")
    if key == "car":
        return gym.make("NCPControl/LaneKeeping-v0")
    if key == "car_camera":
        return gym.make("NCPControl/LaneKeeping-v0", observation="camera")
    if key == "fly":
        return gym.make("NCPControl/QuadFlyToTarget-v0")
    if key == "fly_camera":
        return gym.make("NCPControl/QuadFlyToTarget-v0", observation="camera")
    if key == "point_mass":
        return gym.wrappers.TimeLimit(PointMassEnv(), 500)
    raise KeyError(key)


#: (perturbation, environment, kwargs): each perturbation on a MuJoCo task and one of ours.
CASES: list[tuple[str, str, dict[str, Any]]] = (
    [(name, key, {}) for name in OBSERVATION + ACTION for key in ("cheetah", "hover")]
    + [(name, key, {}) for name in IMAGE for key in ("fly_camera", "car_camera")]
    + [("distractor", key, {}) for key in ("cheetah", "car")]
    + [(name, key, {}) for name in ("gain_loss", "motor_failure") for key in ("cheetah", "hover", "car")]
    + [(name, key, {}) for name in ("mass", "inertia") for key in ("cheetah", "hover", "car")]
    + [("friction", key, {}) for key in ("cheetah", "car")]
    + [("damping", key, {}) for key in ("cheetah", "point_mass")]
    + [("gravity", key, {}) for key in ("cheetah", "hover")]
    + [(name, key, {}) for name in WIND for key in ("cheetah", "hover", "point_mass")]
    + [("external_force", key, {}) for key in ("cheetah", "hover")]
    + [("impulse", key, {"interval": 0.3}) for key in ("cheetah", "hover")]
    + [(name, key, {}) for name in ("control_rate", "dt_jitter") for key in ("cheetah", "hover", "car")]
    + [(name, "car", {}) for name in ("road_curvature", "speed")]
    + [("palette", key, {}) for key in ("fly_camera", "car_camera")]
    + [("target_range", "fly", {}), ("background", "fly_camera", {}), ("distractors", "fly_camera", {})]
)
IDS = [f"{name}-{key}" for name, key, _ in CASES]


def rollout(env: gym.Env, key: str, seed: int, steps: int = STEPS) -> tuple[list[np.ndarray], list[tuple]]:
    """Run a fixed, seeded open-loop action sequence (gentle for the drone and the car).

    :return: the observations and the (reward, terminated, truncated) of each step.
    """
    rng = np.random.default_rng(seed + 1000)
    gain = {"hover": 0.1, "fly": 0.1, "fly_camera": 0.1, "car": 0.3, "car_camera": 0.3}.get(key, 1.0)
    obs, _ = env.reset(seed=seed)
    observations, outcomes = [np.array(obs, dtype=np.float64)], []
    for _ in range(steps):
        action = (gain * rng.uniform(-1.0, 1.0, env.action_space.shape)).astype(np.float32)
        obs, reward, terminated, truncated, _ = env.step(action)
        observations.append(np.array(obs, dtype=np.float64))
        outcomes.append((float(reward), bool(terminated), bool(truncated)))
        if terminated or truncated:
            break
    return observations, outcomes


def same(a: tuple[list[np.ndarray], list[tuple]], b: tuple[list[np.ndarray], list[tuple]]) -> bool:
    """:return: whether two rollouts are exactly equal."""
    return (
        len(a[0]) == len(b[0])
        and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a[0], b[0]))
        and a[1] == b[1]
    )


def physics_snapshot(env: gym.Env) -> dict[str, Any]:
    """:return: copies of every quantity a perturbation may write."""
    unwrapped = env.unwrapped
    snap: dict[str, Any] = {}
    if isinstance(unwrapped, PhysicalParams):
        snap.update({f"param:{k}": v for k, v in unwrapped.physical_params().items()})
    handles = mujoco_handles(env)
    if handles is not None:
        model = handles[0]
        for field in ("body_mass", "body_inertia", "geom_friction", "dof_damping", "actuator_gear", "actuator_gainprm"):
            snap[field] = getattr(model, field).copy()
        snap.update(gravity=model.opt.gravity.copy(), wind=model.opt.wind.copy(), density=model.opt.density,
                    viscosity=model.opt.viscosity, timestep=model.opt.timestep)
    for attribute in ("frame_skip", "physics_substeps", "dt"):
        if attribute in vars(unwrapped):
            snap[attribute] = vars(unwrapped)[attribute]
    if isinstance(getattr(unwrapped, "task", None), dict):
        snap["task"] = dict(unwrapped.task)
    return snap


def snapshots_equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """:return: whether two snapshots hold the same keys and values."""
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) if not isinstance(a[k], dict) else a[k] == b[k]
                                        for k in a)


def test_every_perturbation_has_cases() -> None:
    """The parametrised tests below cover the whole catalogue."""
    assert {name for name, _, _ in CASES} == set(perturbations.PERTURBATIONS)


@pytest.mark.parametrize(("name", "key", "kwargs"), CASES, ids=IDS)
def test_level_zero_is_the_unwrapped_env(name: str, key: str, kwargs: dict[str, Any]) -> None:
    """Same seed, same actions: identical observations, rewards and terminations."""
    bare = rollout(make_env(key), key, seed=3)
    wrapped = perturbations.make(make_env(key), name, 0.0, **kwargs)
    assert same(bare, rollout(wrapped, key, seed=3))


@pytest.mark.parametrize(("name", "key", "kwargs"), CASES, ids=IDS)
def test_level_one_changes_what_the_agent_sees(name: str, key: str, kwargs: dict[str, Any]) -> None:
    """Level 1 changes the observations; for every family but the observation one this
    means the system moved differently, since the wrapper leaves observations alone."""
    bare = rollout(make_env(key), key, seed=3)
    perturbed = rollout(perturbations.make(make_env(key), name, 1.0, **kwargs), key, seed=3)
    assert not same(bare, perturbed)


@pytest.mark.parametrize(("name", "key", "kwargs"), CASES, ids=IDS)
def test_seeded_episodes_reproduce_and_resets_do_not_compound(name: str, key: str, kwargs: dict[str, Any]) -> None:
    """The same seed gives the same trajectory: after other episodes on the same wrapper
    (so nothing compounds across resets) and on a fresh instance."""
    env = make_env(key)
    nominal = physics_snapshot(env)
    wrapped = perturbations.make(env, name, 1.0, **kwargs)
    first = rollout(wrapped, key, seed=5)
    rollout(wrapped, key, seed=6)
    rollout(wrapped, key, seed=7)
    assert same(first, rollout(wrapped, key, seed=5))
    assert same(first, rollout(perturbations.make(make_env(key), name, 1.0, **kwargs), key, seed=5))
    wrapped.close()
    assert snapshots_equal(nominal, physics_snapshot(env)), "close() must restore the nominal physics"


@pytest.mark.parametrize(("name", "key", "kwargs"), CASES, ids=IDS)
def test_info_reports_the_perturbation(name: str, key: str, kwargs: dict[str, Any]) -> None:
    """``info["perturbation"]`` names the wrapper, its level and its current magnitude."""
    env = perturbations.make(make_env(key), name, 0.5, **kwargs)
    _, info = env.reset(seed=0)
    *_, info = env.step(np.zeros(env.action_space.shape, dtype=np.float32))
    (record,) = info["perturbation"]
    cls = perturbations.get(name)
    assert record["name"] == name and record["family"] == cls.family and record["level"] == 0.5
    assert record["unit"] == cls.unit
    assert record["magnitude"] == pytest.approx(0.5 * cls.default_scale)


MUJOCO_STACK = [("mass", 1.0), ("inertia", 1.0), ("friction", 1.0), ("damping", 1.0), ("gravity", 1.0),
                ("wind", 1.0), ("external_force", 1.0), ("gain_loss", 1.0), ("control_rate", 1.0)]


@pytest.mark.parametrize("env_id", ["Hopper-v5", "Walker2d-v5", "Ant-v5", "Humanoid-v5", "InvertedPendulum-v5"])
def test_other_mujoco_tasks(env_id: str) -> None:
    """The dynamics, actuation and timing perturbations work on Gymnasium's other MuJoCo
    tasks through the model's fields: exact at level 0, effective at level 1, restored on close."""
    bare = rollout(gym.make(env_id), "mujoco", seed=1, steps=15)
    zero = perturbations.make_stack(gym.make(env_id), [(name, 0.0) for name, _ in MUJOCO_STACK])
    assert same(bare, rollout(zero, "mujoco", seed=1, steps=15))
    env = gym.make(env_id)
    nominal = physics_snapshot(env)
    full = perturbations.make_stack(env, MUJOCO_STACK)
    assert not same(bare, rollout(full, "mujoco", seed=1, steps=15))
    full.close()
    assert snapshots_equal(nominal, physics_snapshot(env))
