"""LiquidSAC mechanics: what the rollout stores, the bootstrap at time limits, dt flow, save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from ncp_control.agents import LiquidSAC, LiquidTD3
from ncp_control.agents.model_state import restore_state, save_state
from stable_baselines3.common.vec_env import DummyVecEnv

from ncp_control.errors import UserError

SMALL: dict[str, dict[str, Any]] = {
    "CfCPolicy": {"units": 8, "q_head": [16]},
    "LTCPolicy": {"units": 8, "q_head": [16]},
    "CTRNNPolicy": {"units": 8, "q_head": [16]},
    "LSTMPolicy": {"units": 8, "q_head": [16]},
    "GRUPolicy": {"units": 8, "q_head": [16]},
    "MlpPolicy": {"net_arch": [16], "q_head": [16]},
}
FAST = {"learning_starts": 20, "batch_size": 8, "seq_len": 4, "burn_in": 2}


def _counter_envs(counter_env: Any, n: int = 2, limit: int = 5, dts: list[float] | None = None) -> DummyVecEnv:
    return DummyVecEnv([lambda: gym.wrappers.TimeLimit(counter_env(dts=dts), max_episode_steps=limit)] * n)


def test_rollout_stores_steps_episode_ends_states_and_timespans(counter_env: Any) -> None:
    """The stream of env 0 after 12 steps of 5-step episodes, with the env's dt in timespans."""
    env = _counter_envs(counter_env, dts=[0.05, 0.2])
    model = LiquidSAC("GRUPolicy", env, seed=0, policy_kwargs=SMALL["GRUPolicy"], **{**FAST, "learning_starts": 100})
    model.learn(24)  # 12 steps per env, no update: the stored states are those of the same weights
    buffer = model.replay_buffer
    rows = np.arange(buffer.counts[0])
    # steps 0-4, the time limit's last observation [5, 1], steps 0-4, last observation, steps 0-1
    np.testing.assert_array_equal(buffer.observations[rows, 0, 0], [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1])
    np.testing.assert_array_equal(buffer.transitions[rows, 0], [1] * 5 + [0] + [1] * 5 + [0] + [1, 1])
    np.testing.assert_array_equal(buffer.episode_starts[rows, 0], [1, 0, 0, 0, 0, 0] * 2 + [1, 0])
    assert buffer.terminations.sum() == 0  # time limits only
    # the first step of an episode lasts one nominal period (0.1 s = 1 time unit), then info["dt"] / 0.1
    np.testing.assert_allclose(buffer.timespans[:7, 0], [1.0, 0.5, 2.0, 0.5, 2.0, 0.5, 1.0], rtol=1e-6)
    # the state before step 0 is zero, and every stored state is what the actor and critic reach
    policy = model.policy
    assert np.all(buffer.states[0, 0] == 0)
    obs = th.as_tensor(buffer.observations[None, :6, 0])
    ts = th.as_tensor(buffer.timespans[None, :6, 0])
    with th.no_grad():
        actor = policy.actor.net(policy.actor.encoder(obs), th.zeros(1, policy.actor.state_size), ts, None)
    # the actor's state after step 4 is the state stored with the last observation (the GRU's output is its state)
    th.testing.assert_close(actor[0][0, 4], th.as_tensor(buffer.states[5, 0, : policy.actor.state_size]),
                            atol=1e-5, rtol=1e-5)


def test_time_limits_bootstrap_from_the_last_observation_and_terminations_do_not(counter_env: Any) -> None:
    """The critic's target for a time limit's last step is r + gamma * V(last observation, the
    state the episode ended in); for a terminal step it is r."""
    env = DummyVecEnv([lambda: gym.wrappers.TimeLimit(counter_env(terminate_at=3), max_episode_steps=20)])
    model = LiquidSAC("MlpPolicy", env, seed=0, gamma=0.5, policy_kwargs=SMALL["MlpPolicy"], **{**FAST, "burn_in": 0})
    model.learn(20)
    assert model.replay_buffer.terminations.sum() > 0
    limited = DummyVecEnv([lambda: gym.wrappers.TimeLimit(counter_env(), max_episode_steps=3)])
    model2 = LiquidSAC("MlpPolicy", limited, seed=0, gamma=0.5, policy_kwargs=SMALL["MlpPolicy"], **{**FAST, "burn_in": 0})
    model2.learn(20)
    for m, bootstraps in ((model, False), (model2, True)):
        buffer = m.replay_buffer
        last = int(np.flatnonzero(buffer.transitions[:, 0] == 0)[0]) - 1  # the episode's last step
        assert buffer.observations[last + 1, 0, 0] == 3  # its last observation is stored after it
        assert buffer.terminations[last, 0] == (0.0 if bootstraps else 1.0)


def test_info_dt_reaches_the_networks_in_training(counter_env: Any) -> None:
    """Training windows carry the stored timespans: a CfC's losses change when dt does."""
    losses = []
    for dts in ([0.1], [0.4]):
        env = _counter_envs(counter_env, n=1, dts=dts)
        model = LiquidSAC("CfCPolicy", env, seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST)
        model.learn(30)
        np.random.seed(0)
        samples = model.replay_buffer.sample(2, FAST["burn_in"] + FAST["seq_len"] + 1)
        th.manual_seed(0)
        losses.append(model._gradient_step(samples)["critic_loss"])
    assert losses[0] != losses[1]


@pytest.mark.parametrize("policy", list(SMALL))
def test_save_load_same_actions_and_states(policy: str, tmp_path: Path) -> None:
    model = LiquidSAC(policy, "Pendulum-v1", seed=0, policy_kwargs=SMALL[policy], **FAST)
    model.learn(40)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4, 3)).astype(np.float32)
    state = rng.normal(size=(4, model.policy.state_size)).astype(np.float32)
    starts = np.array([1, 0, 0, 1])
    a1, s1 = model.predict(obs, state, starts, deterministic=True, dt=0.05)
    assert a1.shape == (4, 1) and np.all(np.abs(a1) <= 2.0)
    model.save(tmp_path / "model.zip")
    loaded = LiquidSAC.load(tmp_path / "model.zip")
    a2, s2 = loaded.predict(obs, state, starts, deterministic=True, dt=0.05)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(s1, s2)
    # weights-only: the model state with its replay buffer, restored into a fresh model
    save_state(model, tmp_path / "state", {}, replay_buffer=True)
    fresh = LiquidSAC(policy, "Pendulum-v1", seed=1, policy_kwargs=SMALL[policy], **FAST)
    restore_state(fresh, tmp_path / "state")
    np.testing.assert_array_equal(fresh.predict(obs, state, starts, deterministic=True, dt=0.05)[0], a1)
    for name in ("observations", "states", "timespans"):
        np.testing.assert_array_equal(getattr(fresh.replay_buffer, name), getattr(model.replay_buffer, name))
    th.testing.assert_close(fresh.log_ent_coef, model.log_ent_coef)


def test_replay_buffer_files_round_trip_without_pickle(tmp_path: Path) -> None:
    model = LiquidSAC("CfCPolicy", "Pendulum-v1", seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST)
    model.learn(30)
    model.save_replay_buffer(tmp_path / "replay")
    assert sorted(p.name for p in (tmp_path / "replay").iterdir()) == ["replay.json", "replay.safetensors"]
    other = LiquidSAC("CfCPolicy", "Pendulum-v1", seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST)
    other.load_replay_buffer(tmp_path / "replay")
    np.testing.assert_array_equal(other.replay_buffer.actions, model.replay_buffer.actions)
    assert other.replay_buffer.counts.tolist() == model.replay_buffer.counts.tolist()
    with pytest.raises(UserError, match="no replay buffer"):
        other.load_replay_buffer(tmp_path)


@pytest.mark.parametrize("algo", [LiquidSAC, LiquidTD3])
def test_a_model_loaded_without_its_replay_buffer_learns_on_once_it_holds_a_sequence(
        algo: type[LiquidSAC | LiquidTD3], tmp_path: Path) -> None:
    model = algo("CfCPolicy", "Pendulum-v1", seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST)
    model.learn(30)
    model.save(tmp_path / "model.zip")  # SB3's save leaves the replay buffer out
    loaded = algo.load(tmp_path / "model.zip", env=gym.make("Pendulum-v1"))
    updates = loaded._n_updates
    with pytest.warns(RuntimeWarning, match="holds no sequence of burn_in \\+ seq_len \\+ 1 = 7 entries") as caught:
        loaded.learn(6, reset_num_timesteps=False)  # 6 entries: no window of 7 yet
    assert len([w for w in caught if "holds no sequence" in str(w.message)]) == 1  # one warning, not one per step
    assert loaded._n_updates == updates
    loaded.learn(10, reset_num_timesteps=False)
    assert loaded._n_updates > updates  # learning again once a window is stored


def test_predict_state_carries_memory_and_resets() -> None:
    model = LiquidSAC("CfCPolicy", "Pendulum-v1", seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST)
    obs = np.ones((1, 3), np.float32)
    a0, s0 = model.predict(obs, None, np.ones(1), deterministic=True)
    a1, _ = model.predict(obs, s0, np.zeros(1), deterministic=True)
    a2, _ = model.predict(obs, s0, np.ones(1), deterministic=True)
    assert not np.allclose(a0, a1)  # the state carried over
    np.testing.assert_array_equal(a0, a2)  # an episode start resets it


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"batch_size": 10, "seq_len": 4}, "batch_size must be a multiple of seq_len"),
    ({"learning_starts": 10, "seq_len": 8, "burn_in": 4}, "learning_starts must be at least"),
    ({"seq_len": 0}, "seq_len must be >= 1"),
])
def test_bad_arguments_are_refused_with_one_clear_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        LiquidSAC("MlpPolicy", "Pendulum-v1", **kwargs)


def test_discrete_actions_unbounded_actions_and_dict_observations_are_refused(dict_env: Any, counter_env: Any) -> None:
    with pytest.raises(Exception, match="Box"):
        LiquidSAC("CfCPolicy", "CartPole-v1")
    with pytest.raises(UserError, match="Box observations"):
        LiquidSAC("CfCPolicy", dict_env())
    unbounded = counter_env()
    unbounded.action_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    with pytest.raises((AssertionError, UserError), match="finite"):  # SB3 checks it first
        LiquidSAC("CfCPolicy", unbounded)
    with pytest.raises(UserError, match="must be finite"):  # the policy on its own
        LiquidSAC.policy_aliases["CfCPolicy"](unbounded.observation_space, unbounded.action_space, lambda _: 1e-3)


@pytest.mark.parametrize("algo", [LiquidSAC, LiquidTD3])
@pytest.mark.parametrize("policy", ["CfCPolicy", "LSTMPolicy", "MlpPolicy"])
def test_weights_only_export_acts_as_the_model(algo: type[LiquidSAC | LiquidTD3], policy: str, tmp_path: Path) -> None:
    from ncp_control.agents import load_policy, save_policy

    model = algo(policy, "Pendulum-v1", seed=0, policy_kwargs=SMALL[policy], **FAST)
    model.learn(40)
    save_policy(model, tmp_path / "policy")
    deployed = load_policy(tmp_path / "policy")
    rng = np.random.default_rng(1)
    state = deployed_state = None
    starts = np.ones(3)
    for step in range(6):
        obs = rng.normal(size=(3, 3)).astype(np.float32)
        dt = np.full(3, 0.05 * (1 + step % 2))
        actions, state = model.predict(obs, state, starts, deterministic=True, dt=dt)
        exported, deployed_state = deployed.predict(obs, deployed_state, starts, dt=dt)
        np.testing.assert_allclose(exported, actions, atol=1e-5)
        np.testing.assert_allclose(deployed_state, state, atol=1e-5)
        starts = np.zeros(3)


def test_target_critic_follows_the_critic_in_its_no_grad_path() -> None:
    """The targets are computed without gradients, where a liquid cell keeps packed weights
    until a parameter's version moves: the soft update must move it."""
    model = LiquidSAC("CfCPolicy", "Pendulum-v1", seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST)
    model.learn(60)
    np.random.seed(0)
    samples = model.replay_buffer.sample(2, 7)
    args = (samples.observations, samples.states[:, model.actor.state_size:], samples.timespans,
            samples.episode_starts.bool())
    with th.no_grad():
        packed = model.critic_target.encode(*args)[0]
    stepped = model.critic_target.encode(*args)[0]
    th.testing.assert_close(packed, stepped, atol=1e-5, rtol=1e-5)
    initial = LiquidSAC("CfCPolicy", "Pendulum-v1", seed=0, policy_kwargs=SMALL["CfCPolicy"], **FAST).critic_target
    with th.no_grad():
        assert not th.allclose(initial.encode(*args)[0], packed)  # it moved from its first weights
