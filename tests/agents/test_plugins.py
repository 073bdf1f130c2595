"""Our cells inside sb3-contrib RecurrentPPO and stateless NCP actors inside SB3 PPO/SAC/TD3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ncp_control.agents as agents
import numpy as np
import pytest
import torch as th
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.env_util import make_vec_env

import ncp_control


@pytest.mark.parametrize("policy", ["RecurrentCfCPolicy", "RecurrentLTCPolicy", "RecurrentCTRNNPolicy"])
def test_recurrent_ppo_runs_our_cells_and_round_trips(policy: str, masked_cartpole: Any, tmp_path: Path) -> None:
    env = make_vec_env(masked_cartpole, n_envs=2, seed=0)
    cls = getattr(agents, policy)
    model = RecurrentPPO(cls, env, n_steps=16, batch_size=16, n_epochs=1, seed=0, policy_kwargs={"units": 8})
    model.learn(64)
    assert isinstance(model.policy.lstm_actor, agents.recurrent_ppo.LSTMShaped)
    assert model.policy.lstm_actor.model.output_size == 2  # NCP motor neurons, one per action
    obs = np.random.default_rng(0).normal(size=(2, 2)).astype(np.float32)
    a1, s1 = model.predict(obs, deterministic=True)
    a1b, _ = model.predict(obs, s1, np.array([0, 1]), deterministic=True)
    model.save(tmp_path / "m.zip")
    loaded = RecurrentPPO.load(tmp_path / "m.zip")
    a2, s2 = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(s1[0], s2[0])
    np.testing.assert_array_equal(a1b, loaded.predict(obs, s2, np.array([0, 1]), deterministic=True)[0])
    model.policy.save(str(tmp_path / "p.pt"))  # needs a complete _get_constructor_parameters
    alone = cls.load(str(tmp_path / "p.pt"))
    np.testing.assert_array_equal(alone.predict(obs, deterministic=True)[0], a1)


def test_recurrent_ppo_sequence_path_equals_step_loop() -> None:
    """The one-call unroll with resets equals sb3-contrib's step-by-step processing."""
    th.manual_seed(0)
    import gymnasium as gym

    space = gym.spaces.Box(-1, 1, (3,), np.float32)
    policy = agents.RecurrentCfCPolicy(space, gym.spaces.Box(-1, 1, (2,), np.float32), lambda _: 1e-3, units=8)
    lstm = policy.lstm_actor
    features = th.randn(2 * 5, 3)
    starts = th.zeros(2 * 5)
    starts[3] = starts[7] = 1
    h0 = (th.randn(1, 2, lstm.hidden_size), th.zeros(1, 2, lstm.hidden_size))
    y, (h, _) = policy._process_sequence(features, h0, starts, lstm)
    state, outs = h0, []
    x, s = features.reshape(2, 5, 3), starts.reshape(2, 5)
    for t in range(5):
        keep = (1 - s[:, t]).view(1, 2, 1)
        out, state = lstm(x[:, t : t + 1].transpose(0, 1), (state[0] * keep, state[1]))
        outs.append(out.transpose(0, 1))
    th.testing.assert_close(y, th.cat(outs, 1).flatten(0, 1), atol=1e-5, rtol=1e-5)
    th.testing.assert_close(h, state[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("algo", "policy", "env_id", "kwargs"),
    [
        (PPO, "NCPActorCriticPolicy", "CartPole-v1", {"n_steps": 32, "batch_size": 32, "n_epochs": 1}),
        (PPO, "NCPActorCriticPolicy", "Pendulum-v1", {"n_steps": 32, "batch_size": 32, "n_epochs": 1}),
        (SAC, "NCPSACPolicy", "Pendulum-v1", {"learning_starts": 16, "batch_size": 16}),
        (TD3, "NCPTD3Policy", "Pendulum-v1", {"learning_starts": 16, "batch_size": 16}),
    ],
)
def test_stateless_ncp_actors_train_and_round_trip(algo: Any, policy: str, env_id: str, kwargs: dict, tmp_path: Path) -> None:
    cls = getattr(agents, policy)
    model = algo(cls, env_id, seed=0, policy_kwargs={"units": 10, "ode_steps": 2}, **kwargs)
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(64)
    changed = [k for k, v in model.policy.state_dict().items() if "model" in k and not th.equal(v, before[k])]
    assert changed, "the NCP actor's weights must be trained"
    obs = model.observation_space.sample()[None].repeat(3, 0)
    a1, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "m.zip")
    np.testing.assert_array_equal(algo.load(tmp_path / "m.zip").predict(obs, deterministic=True)[0], a1)
    model.policy.save(str(tmp_path / "p.pt"))
    np.testing.assert_array_equal(cls.load(str(tmp_path / "p.pt")).predict(obs, deterministic=True)[0], a1)


def test_stateless_ncp_is_unrolled_from_rest() -> None:
    ncp = agents.stateless.StatelessNCP(3, "cfc", 10, 2, ode_steps=4, sparsity_level=0.5, wiring_seed=1, cell_kwargs=None)
    x = th.randn(5, 3)
    y_seq, _ = ncp.model(x.unsqueeze(1).repeat(1, 4, 1))
    th.testing.assert_close(ncp(x), y_seq[:, -1])
    th.testing.assert_close(ncp(x[:2]), ncp(x)[:2])  # no state crosses calls


def _multi_discrete_env() -> Any:
    import gymnasium as gym

    class MultiDiscreteEnv(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        action_space = gym.spaces.MultiDiscrete([2, 3])

    return MultiDiscreteEnv()


def test_plugin_options_are_checked() -> None:
    with pytest.raises(ValueError, match="network must be one of"):
        PPO(agents.NCPActorCriticPolicy, "CartPole-v1", policy_kwargs={"network": "gru"})
    with pytest.raises(ValueError, match="Box and Discrete"):
        PPO(agents.NCPActorCriticPolicy, _multi_discrete_env())
    with pytest.raises(ValueError, match="lstm_hidden_size"):
        RecurrentPPO(agents.RecurrentCfCPolicy, "Pendulum-v1", policy_kwargs={"lstm_hidden_size": 10})


def test_ncp_units_is_a_deprecated_alias_of_units() -> None:
    with pytest.warns(DeprecationWarning, match="use units"):
        old = PPO(agents.NCPActorCriticPolicy, "Pendulum-v1", seed=0, policy_kwargs={"ncp_units": 10})
    new = PPO(agents.NCPActorCriticPolicy, "Pendulum-v1", seed=0, policy_kwargs={"units": 10})
    assert old.policy.ncp_options == new.policy.ncp_options and old.policy.ncp_options["units"] == 10
    assert "ncp_units" not in old.policy.ncp_options
    for (name, a), b in zip(old.policy.state_dict().items(), new.policy.state_dict().values()):
        assert th.equal(a, b), name
    with pytest.raises(ValueError, match="not both"):
        PPO(agents.NCPActorCriticPolicy, "Pendulum-v1", policy_kwargs={"ncp_units": 10, "units": 12})


def test_wiring_option_means_the_same_in_every_integration() -> None:
    from ncp_control.agents.wiring import build_wiring

    auto = build_wiring(None, 12, 1, 3, seed=5)
    assert auto is not None and np.array_equal(auto.adjacency_matrix, build_wiring("ncp", 12, 1, 3, seed=5).adjacency_matrix)
    assert build_wiring("none", 12, 1, 3) is None
    with pytest.raises(ValueError, match="wiring must be one of"):
        build_wiring("grid", 12, 1, 3)
    # None is the AutoNCP default in LiquidPPO's policies and in RecurrentPPO's alike
    liquid = agents.LiquidPPO(agents.CfCPolicy, "Pendulum-v1", policy_kwargs={"units": 12, "wiring": None}, n_steps=32)
    contrib = RecurrentPPO(agents.RecurrentCfCPolicy, "Pendulum-v1", policy_kwargs={"units": 12, "wiring": None},
                           n_steps=16)
    for policy in (liquid.policy, contrib.policy):
        wirings = [m.wiring for m in policy.modules() if isinstance(getattr(m, "wiring", None), ncp_control.Wiring)]
        assert wirings and all(type(w).__name__ == "AutoNCP" for w in wirings), type(policy).__name__


def test_td3_target_actor_follows_the_actor_in_its_no_grad_path() -> None:
    """SB3's polyak_update writes the target through ``.data``; the target's NCP must not keep
    the packed weights of its first call (TD3 computes its targets without gradients)."""
    th.set_num_threads(1)
    model = TD3(agents.NCPTD3Policy, "Pendulum-v1", learning_starts=50, seed=0)
    model.learn(200)
    obs = th.randn(4, 3)
    with th.no_grad():
        packed = model.actor_target(obs)
    stepped = model.actor_target(obs)  # the differentiable path reads the parameters themselves
    th.testing.assert_close(packed, stepped.detach(), atol=1e-6, rtol=1e-5)
