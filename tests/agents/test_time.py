"""Time has one owner: the env's nominal period (envs.period), one conversion with one time unit
(ncp_control.timespans), one first-step rule (agents.timing), and the default numbers are those
measured before: timespan 1.0 at the nominal rate and on every first step."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from ncp_control.agents import LiquidPPO
from ncp_control.agents.common.eval_policies import EvalPolicy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.stateless import NCPActorCriticPolicy
from ncp_control.agents.timespan_obs import TIMESPAN_KEY, TimespanObservation
from ncp_control.agents.timing import default_time_unit, first_step_seconds, time_unit_argument
from ncp_control.envs.period import RESET_INFO_KEY, nominal_period
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

from ncp_control.errors import UserError
from ncp_control.timespans import to_timespans

PERIODS = {"NCPControl/CartPoleNoVel-v1": 0.02, "NCPControl/PendulumNoVel-v1": 0.05,
           "NCPControl/LaneKeeping-v0": 0.05, "NCPControl/QuadHover-v0": 0.01}


@pytest.mark.parametrize("env_id", sorted(PERIODS))
def test_envs_state_their_period_and_reset_info_carries_it(env_id: str) -> None:
    import ncp_control.envs  # noqa: F401

    env = gym.make(env_id)
    _, info = env.reset(seed=0)
    assert nominal_period(env) == pytest.approx(PERIODS[env_id])
    assert info[RESET_INFO_KEY] == nominal_period(env)
    assert default_time_unit(env) == first_step_seconds(env) == nominal_period(env)


def test_users_env_with_nominal_dt_and_env_without_period() -> None:
    class Mine(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (1,))
        action_space = gym.spaces.Box(-1, 1, (1,))
        nominal_dt = 0.25

    assert nominal_period(gym.wrappers.TimeLimit(Mine(), 5)) == 0.25
    Mine.nominal_dt = float("nan")  # unusable: ignored
    assert nominal_period(Mine()) is None and first_step_seconds(Mine()) == 1.0


def test_dt_nominal_is_a_deprecated_alias_of_time_unit() -> None:
    with pytest.warns(DeprecationWarning, match="use time_unit"):
        assert time_unit_argument(None, 0.5) == 0.5
    with pytest.raises(UserError, match="not both"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        time_unit_argument(0.5, 0.5)
    with pytest.warns(DeprecationWarning):
        model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, dt_nominal=0.5)
    assert model.time_unit == model.policy.time_unit == 0.5


class _Spy(EvalPolicy):
    def __init__(self) -> None:
        self.first: list[float] = []

    def act(self, observations, episode_start, dt):  # type: ignore[no-untyped-def]
        if episode_start.any():
            self.first.extend(dt[episode_start].tolist())
        return np.zeros((len(dt), 4), np.float32)


def test_first_step_is_one_nominal_period_even_where_reset_reports_dt_zero() -> None:
    import ncp_control.envs  # noqa: F401

    env = gym.make("NCPControl/QuadHover-v0")
    assert env.reset(seed=0)[1]["dt"] == 0.0
    spy = _Spy()
    run_episodes(spy, lambda: gym.make("NCPControl/QuadHover-v0", max_episode_steps=3), [0, 1])
    assert spy.first == [pytest.approx(0.01)] * 2


@pytest.mark.parametrize("env_id", ["NCPControl/CartPoleNoVel-v1", "NCPControl/QuadHover-v0"])
def test_rollout_timespans_are_one_at_the_nominal_rate(env_id: str) -> None:
    import ncp_control.envs  # noqa: F401

    model = LiquidPPO("CfCPolicy", make_vec_env(env_id, n_envs=2, seed=0), n_steps=64, batch_size=64, seq_len=16,
                      n_epochs=1, seed=0, policy_kwargs={"units": 8})
    model.learn(128)
    assert model.time_unit == nominal_period(gym.make(env_id))
    assert np.array_equal(model.rollout_buffer.timespans, np.ones_like(model.rollout_buffer.timespans))
    assert model.rollout_buffer.episode_starts.any() or env_id.endswith("QuadHover-v0")


def test_explicit_time_unit_scales_first_step_and_rollouts() -> None:
    import ncp_control.envs  # noqa: F401

    model = LiquidPPO("CfCPolicy", make_vec_env("NCPControl/CartPoleNoVel-v1", n_envs=2, seed=0), n_steps=16,
                      batch_size=32, seq_len=16, n_epochs=1, seed=0, time_unit=0.01, policy_kwargs={"units": 8})
    model.learn(32)
    assert np.allclose(model.rollout_buffer.timespans, to_timespans(0.02, 0.01))


def test_stateless_actor_unroll_follows_the_steps_duration() -> None:
    import ncp_control.envs  # noqa: F401

    env_id = "NCPControl/PendulumNoVel-v1"
    timed = PPO(NCPActorCriticPolicy, make_vec_env(lambda: TimespanObservation(gym.make(env_id)), n_envs=1), seed=0,
                n_steps=8, batch_size=8, policy_kwargs={"units": 8})
    plain = PPO(NCPActorCriticPolicy, make_vec_env(env_id, n_envs=1), seed=0, n_steps=8, batch_size=8,
                policy_kwargs={"units": 8})
    plain.policy.mlp_extractor.load_state_dict(timed.policy.mlp_extractor.state_dict())
    plain.policy.action_net.load_state_dict(timed.policy.action_net.state_dict())
    obs = np.array([[0.3, -0.9]], np.float32)
    with torch.no_grad():
        def latent(model: PPO, o: object) -> np.ndarray:
            tensor, _ = model.policy.obs_to_tensor(o)
            return model.policy.mlp_extractor.forward_actor(model.policy.extract_features(tensor)).numpy()

        nominal = latent(timed, {"observation": obs, TIMESPAN_KEY: np.ones((1, 1), np.float32)})
        longer = latent(timed, {"observation": obs, TIMESPAN_KEY: np.full((1, 1), 2.0, np.float32)})
        np.testing.assert_array_equal(nominal, latent(plain, obs))  # 1.0: the unroll of before
        assert np.abs(longer - nominal).max() > 1e-4
