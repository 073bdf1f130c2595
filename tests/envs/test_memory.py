"""NoVel memory tasks: the kept entries are the positions of the documented layouts, nothing else."""

from __future__ import annotations

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers the ids)
import numpy as np
import pytest
from ncp_control.envs.memory import NoVelocityObservation, make_no_velocity_env

#: id -> (base id, kept indices from Gymnasium's documented layout, info["dt"]).
EXPECTED = {
    "NCPControl/PendulumNoVel-v1": ("Pendulum-v1", [0, 1], 0.05),
    "NCPControl/CartPoleNoVel-v1": ("CartPole-v1", [0, 2], 0.02),
    "NCPControl/MountainCarContinuousNoVel-v0": ("MountainCarContinuous-v0", [0], 1.0),
    "NCPControl/HalfCheetahNoVel-v5": ("HalfCheetah-v5", list(range(8)), 0.05),
    "NCPControl/HopperNoVel-v5": ("Hopper-v5", list(range(5)), 0.008),
    "NCPControl/Walker2dNoVel-v5": ("Walker2d-v5", list(range(8)), 0.008),
    "NCPControl/AntNoVel-v5": ("Ant-v5", list(range(13)) + list(range(27, 105)), 0.05),
}


@pytest.mark.parametrize("env_id", list(EXPECTED))
def test_kept_entries_equal_base_observation(env_id: str) -> None:
    base_id, kept, dt = EXPECTED[env_id]
    env = gym.make(env_id)
    base = gym.make(base_id)
    assert env.observation_space.shape == (len(kept),)
    obs, _ = env.reset(seed=11)
    full, _ = base.reset(seed=11)
    np.testing.assert_array_equal(obs, full[kept])
    env.action_space.seed(0)
    for _ in range(5):
        action = env.action_space.sample()
        obs, reward, _, _, info = env.step(action)
        full, base_reward, _, _, _ = base.step(action)
        np.testing.assert_array_equal(obs, full[kept])
        assert reward == base_reward
        assert info["dt"] == pytest.approx(dt)
    assert env.observation_space.contains(obs)
    assert env.get_wrapper_attr("nominal_dt") == pytest.approx(dt)


@pytest.mark.parametrize("base_id", ["HalfCheetah-v5", "Hopper-v5", "Walker2d-v5", "Ant-v5"])
def test_mujoco_kept_entries_are_positions_and_removed_are_velocities(base_id: str) -> None:
    env = make_no_velocity_env(base_id)
    env.reset(seed=0)
    for _ in range(3):
        obs, *_ = env.step(env.action_space.sample())
    data = env.unwrapped.data  # type: ignore[attr-defined]
    skip = 2 if base_id == "Ant-v5" else 1
    n_pos = data.qpos.size - skip
    np.testing.assert_allclose(obs[:n_pos], data.qpos[skip:])
    assert np.abs(data.qvel).max() > 1e-3  # there was something to remove
    full = env.env.unwrapped._get_obs()  # type: ignore[attr-defined]
    np.testing.assert_allclose(full[n_pos : n_pos + data.qvel.size], np.clip(data.qvel, -10, 10) if base_id in ("Hopper-v5", "Walker2d-v5") else data.qvel)


def test_layout_options_are_followed() -> None:
    with_x = make_no_velocity_env("HalfCheetah-v5", exclude_current_positions_from_observation=False)
    assert with_x.observation_space.shape == (9,)
    without_contacts = make_no_velocity_env("Ant-v5", include_cfrc_ext_in_observation=False)
    assert without_contacts.observation_space.shape == (13,)


def test_wrapper_on_an_existing_env_and_unsupported_ids() -> None:
    wrapped = NoVelocityObservation(gym.make("CartPole-v1"))
    assert wrapped.observation_space.shape == (2,)
    np.testing.assert_array_equal(wrapped.observation_space.high, gym.make("CartPole-v1").observation_space.high[[0, 2]])
    with pytest.raises(ValueError, match="supported base tasks"):
        make_no_velocity_env("Acrobot-v1")
    with pytest.raises(ValueError, match="supported base tasks"):
        NoVelocityObservation(gym.make("Acrobot-v1"))


def rollout(env: gym.Env, steps: int = 8) -> np.ndarray:
    env.reset(seed=3)
    env.action_space.seed(3)
    return np.stack([env.step(env.action_space.sample())[0] for _ in range(steps)])


@pytest.mark.parametrize(
    ("env_id", "changes"),
    [
        ("NCPControl/PendulumNoVel-v1", {"mass": 2.0, "length": 1.5, "gravity": 5.0}),
        ("NCPControl/CartPoleNoVel-v1", {"mass": [2.0, 0.1], "length": 1.0, "gravity": 20.0, "motor_constant": 5.0}),
        ("NCPControl/MountainCarContinuousNoVel-v0", {"motor_constant": 0.003}),
    ],
)
def test_classic_physical_params_change_dynamics_and_restore(env_id: str, changes: dict) -> None:
    env = gym.make(env_id)
    params = env.unwrapped
    assert set(params.physical_param_names()) == set(changes)  # type: ignore[attr-defined]
    nominal = rollout(env)
    np.testing.assert_array_equal(nominal, rollout(gym.make(env_id)))
    for name, value in changes.items():
        params.set_physical_params(**{name: value})  # type: ignore[attr-defined]
        assert not np.allclose(rollout(env), nominal), name
        params.restore_physical_params()  # type: ignore[attr-defined]
        np.testing.assert_array_equal(rollout(env), nominal)


def test_cartpole_derived_constants_follow_the_parameters() -> None:
    core = gym.make("NCPControl/CartPoleNoVel-v1").unwrapped
    core.set_physical_params(mass=[2.0, 0.3], length=0.8)  # type: ignore[attr-defined]
    assert core.total_mass == pytest.approx(2.3) and core.polemass_length == pytest.approx(0.24)  # type: ignore[attr-defined]


def test_make_classic_rejects_other_ids() -> None:
    from ncp_control.envs.classic import make_classic

    with pytest.raises(ValueError, match="available"):
        make_classic("Acrobot-v1")
