"""LiquidTD3 mechanics: the deterministic actor and its target, the critic's target by hand,
delayed actor updates, save/load and rl-zoo's exploration noise (its exports: ``test_sac``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch as th
from ncp_control.agents import LiquidSAC, LiquidTD3
from ncp_control.agents.model_state import restore_state, save_state
from ncp_control.agents.recipes import parse_recipe, with_action_noise
from ncp_control.agents.zips import zip_algorithm
from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

from ncp_control.errors import UserError

SMALL: dict[str, dict[str, Any]] = {
    "CfCPolicy": {"units": 8, "q_head": [16]},
    "LSTMPolicy": {"units": 8, "q_head": [16]},
    "MlpPolicy": {"net_arch": [16], "q_head": [16]},
}
FAST = {"learning_starts": 20, "batch_size": 8, "seq_len": 4, "burn_in": 2}


def _model(policy: str = "CfCPolicy", **kwargs: Any) -> LiquidTD3:
    return LiquidTD3(policy, "Pendulum-v1", seed=0, policy_kwargs=SMALL[policy], **{**FAST, **kwargs})


def _vector(module: th.nn.Module) -> th.Tensor:
    return th.cat([p.detach().flatten() for p in module.parameters()])


def test_the_actor_is_deterministic_and_its_target_starts_as_a_copy() -> None:
    model = _model()
    assert model.actor.log_std is None and model.policy.actor_target is model.actor_target
    th.testing.assert_close(_vector(model.actor_target), _vector(model.actor))
    assert not any(p.requires_grad for p in model.actor_target.parameters())
    obs = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)
    sampled, _ = model.predict(obs, None, np.ones(3), deterministic=False)
    mean, _ = model.predict(obs, None, np.ones(3), deterministic=True)
    np.testing.assert_array_equal(sampled, mean)  # exploration is the algorithm's action noise


def test_default_layers_are_sb3_td3s() -> None:
    model = LiquidTD3("MlpPolicy", "Pendulum-v1", **FAST)
    sizes = [m.out_features for m in model.critic.q_nets[0] if isinstance(m, th.nn.Linear)]
    assert sizes == [400, 300, 1]
    assert model.policy.net_arch == [400, 300]


def test_critic_loss_is_the_clipped_double_q_target_computed_by_hand() -> None:
    """Without smoothing noise and burn-in, on an MLP: the loss the update reports is
    sum_i mean((Q_i(s, a) - r - gamma (1 - done) min_j Q'_j(s', tanh(mu'(s'))))^2) over steps taken."""
    model = _model("MlpPolicy", target_policy_noise=0.0, burn_in=0, gamma=0.9)
    model.learn(60)
    np.random.seed(1)
    samples = model._sample_windows(8)
    obs, actions = samples.observations, samples.actions                                  # [B, W, 3], [B, W, 1]
    actor, critic, critic_target = model.actor_target, model.critic, model.critic_target
    with th.no_grad():
        next_actions = th.tanh(actor.mu(actor.head(actor.net(actor.encoder(obs[:, 1:]))[0])))
        next_inputs = th.cat([critic_target.encoder(obs[:, 1:]), next_actions], -1)
        q_next = th.stack([q(next_inputs).squeeze(-1) for q in critic_target.q_nets]).min(0).values  # [B, L]
        target = samples.rewards[:, :-1] + 0.9 * (1 - samples.terminations[:, :-1]) * q_next
        mask = samples.transitions[:, :-1]
        inputs = th.cat([critic.encoder(obs[:, :-1]), actions[:, :-1]], -1)
        expected = sum(((q(inputs).squeeze(-1) - target) ** 2 * mask).sum() / mask.sum() for q in critic.q_nets)
    logs = model._gradient_step(samples, update_actor=False)
    assert logs["critic_loss"] == pytest.approx(float(expected), rel=1e-5)


def test_actor_and_targets_move_only_every_policy_delay_updates() -> None:
    model = _model(policy_delay=4)
    model.learn(40)  # 20 env steps after learning_starts: 20 critic updates, 5 actor updates
    assert model._n_updates == 20
    actor, actor_target, critic, critic_target = (_vector(m) for m in
                                                  (model.actor, model.actor_target, model.critic, model.critic_target))
    model.train(gradient_steps=3, batch_size=8)  # updates 21 to 23: critic only
    assert not th.equal(_vector(model.critic), critic)
    for module, before in ((model.actor, actor), (model.actor_target, actor_target), (model.critic_target, critic_target)):
        assert th.equal(_vector(module), before)
    model.train(gradient_steps=1, batch_size=8)  # update 24 = 4 * 6: actor and both targets
    for module, before in ((model.actor, actor), (model.actor_target, actor_target), (model.critic_target, critic_target)):
        assert not th.equal(_vector(module), before)


def test_target_actor_follows_the_actor_in_its_no_grad_path() -> None:
    """The target actor runs without gradients, where a liquid cell keeps packed weights until a
    parameter's version moves: the soft update must move it."""
    model = _model(policy_delay=1)
    obs = th.as_tensor(np.random.default_rng(2).normal(size=(2, 5, 3)), dtype=th.float32)
    state = th.zeros(2, model.actor.state_size)
    with th.no_grad():
        before = model.actor_target(obs, state, None, None)[0]
    model.learn(60)
    with th.no_grad():
        packed = model.actor_target(obs, state, None, None)[0]
    th.testing.assert_close(packed, model.actor_target(obs, state, None, None)[0], atol=1e-5, rtol=1e-5)
    assert not th.allclose(before, packed)


@pytest.mark.parametrize("policy", list(SMALL))
def test_save_load_and_weights_only_state_round_trip(policy: str, tmp_path: Path) -> None:
    model = _model(policy)
    model.learn(40)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4, 3)).astype(np.float32)
    state = rng.normal(size=(4, model.policy.state_size)).astype(np.float32)
    starts = np.array([1, 0, 0, 1])
    a1, s1 = model.predict(obs, state, starts, dt=0.05)
    model.save(tmp_path / "model.zip")
    assert zip_algorithm(tmp_path / "model.zip") == "LiquidTD3"
    loaded = LiquidTD3.load(tmp_path / "model.zip")
    a2, s2 = loaded.predict(obs, state, starts, dt=0.05)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(s1, s2)
    th.testing.assert_close(_vector(loaded.actor_target), _vector(model.actor_target))
    with pytest.raises(UserError, match="holds a LiquidTD3 model, not LiquidSAC"):
        LiquidSAC.load(tmp_path / "model.zip")
    save_state(model, tmp_path / "state", {}, replay_buffer=True)
    fresh = LiquidTD3(policy, "Pendulum-v1", seed=1, policy_kwargs=SMALL[policy], **FAST)
    restore_state(fresh, tmp_path / "state")
    np.testing.assert_array_equal(fresh.predict(obs, state, starts, dt=0.05)[0], a1)
    th.testing.assert_close(_vector(fresh.actor_target), _vector(model.actor_target))
    np.testing.assert_array_equal(fresh.replay_buffer.states, model.replay_buffer.states)


@pytest.mark.parametrize("std", [0.0, 0.4])
def test_action_noise_is_added_to_the_deterministic_actions(std: float) -> None:
    """Rollout actions after ``learning_starts`` are the actor's plus the noise (no update yet)."""
    noise = NormalActionNoise(np.zeros(1), np.full(1, std)) if std else None
    model = _model(action_noise=noise, train_freq=1000)
    model.learn(60)
    buffer, rows = model.replay_buffer, np.arange(20, 60)
    split = model.actor.state_size
    deterministic, _ = model.policy.act(th.as_tensor(buffer.observations[rows, 0]), th.as_tensor(buffer.states[rows, 0, :split]),
                                        th.as_tensor(buffer.episode_starts[rows, 0]), th.as_tensor(buffer.timespans[rows, 0]), True)
    stored = buffer.actions[rows, 0]
    inside = np.abs(stored[:, 0]) < 1.0  # not clipped at the bounds
    difference = (stored - deterministic.numpy())[inside, 0]
    if std == 0.0:
        np.testing.assert_allclose(difference, 0.0, atol=1e-6)
    else:
        assert inside.sum() > 20 and 0.2 < difference.std() < 0.6


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"policy_delay": 0}, "policy_delay must be >= 1"),
    ({"target_policy_noise": -0.1}, "target_policy_noise and target_noise_clip must be >= 0"),
    ({"batch_size": 6}, "batch_size must be a multiple of seq_len"),
])
def test_bad_arguments_are_refused_with_one_clear_error(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        _model("MlpPolicy", **kwargs)


def test_rl_zoo_noise_keys_become_sb3_action_noise() -> None:
    from gymnasium import spaces

    box = spaces.Box(-1.0, 1.0, (2,))
    params = with_action_noise({"noise_type": "normal", "noise_std": 0.1, "gamma": 0.98}, box)
    assert set(params) == {"gamma", "action_noise"} and isinstance(params["action_noise"], NormalActionNoise)
    np.testing.assert_array_equal(params["action_noise"]._sigma, [0.1, 0.1])
    ou = with_action_noise({"noise_type": "ornstein-uhlenbeck", "noise_std": 0.3}, box)["action_noise"]
    assert isinstance(ou, OrnsteinUhlenbeckActionNoise)
    assert with_action_noise({"gamma": 0.9}, box) == {"gamma": 0.9}
    with pytest.raises(UserError, match="noise_type must be one of"):
        parse_recipe({"noise_type": "gaussian", "noise_std": 0.1})
    with pytest.raises(UserError, match="noise_std must be a positive number"):
        parse_recipe({"noise_type": "normal"})
