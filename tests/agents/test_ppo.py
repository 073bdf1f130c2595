"""LiquidPPO mechanics: replay equals rollout, time-out bootstrapping, dt flow, predict, save/load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from ncp_control.agents import LiquidPPO
from stable_baselines3.common.callbacks import CallbackList, EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

ALL_POLICIES = ["CfCPolicy", "LTCPolicy", "CTRNNPolicy", "LSTMPolicy", "GRUPolicy", "MlpPolicy"]
SMALL = {"CfCPolicy": {"units": 8}, "LTCPolicy": {"units": 8}, "CTRNNPolicy": {"units": 8}}


def _collect(model: LiquidPPO) -> None:
    """Run one rollout without training."""
    model._setup_learn(10_000, None)
    callback = CallbackList([])
    callback.init_callback(model)
    model.collect_rollouts(model.env, callback, model.rollout_buffer, model.n_steps)  # type: ignore[arg-type]


@pytest.mark.parametrize("policy", ["CfCPolicy", "LSTMPolicy", "GRUPolicy", "MlpPolicy"])
def test_training_replay_equals_rollout(policy: str, masked_cartpole: Any) -> None:
    """Chunks replayed from their stored states give the rollout's log-probs and values."""
    env = make_vec_env(masked_cartpole, n_envs=3, seed=1)
    model = LiquidPPO(policy, env, n_steps=48, batch_size=64, seq_len=16, seed=0, policy_kwargs=SMALL.get(policy))
    _collect(model)
    buf = model.rollout_buffer
    assert buf.episode_starts[1:].sum() > 0  # episodes end inside the rollout
    for batch in buf.get(64):
        with th.no_grad():
            values, log_prob, _ = model.policy.evaluate_actions(
                batch.observations, batch.actions.long().flatten(), batch.states, batch.episode_starts, batch.timespans
            )
        th.testing.assert_close(log_prob, batch.old_log_prob.flatten(), atol=1e-5, rtol=1e-5)
        th.testing.assert_close(values, batch.old_values.flatten(), atol=1e-5, rtol=1e-5)


def test_timeouts_bootstrap_from_terminal_value_with_its_state(counter_env: Any) -> None:
    env = DummyVecEnv([lambda: gym.wrappers.TimeLimit(counter_env(), max_episode_steps=5)])
    model = LiquidPPO("GRUPolicy", env, n_steps=8, batch_size=8, seq_len=8, gamma=0.9, seed=0, policy_kwargs={"units": 4})
    _collect(model)
    rewards = model.rollout_buffer.rewards[:, 0]
    policy = model.policy
    # replay the first episode (obs t = 0..4) from rest, then value the terminal obs t = 5
    obs = th.tensor([[t, 1.0] for t in range(5)], dtype=th.float32)
    starts = th.zeros(1, 5)
    starts[0, 0] = 1
    with th.no_grad():
        state = policy._unroll(obs, policy.initial_state(1), starts, th.ones(1, 5)).state
        terminal = policy.predict_values(th.tensor([[5.0, 1.0]]), state, th.zeros(1), th.ones(1))
    np.testing.assert_allclose(rewards[4], 1.0 + 0.9 * terminal.item(), rtol=1e-5)
    np.testing.assert_array_equal(rewards[[0, 1, 2, 3, 5, 6, 7]], 1.0)


def test_terminations_do_not_bootstrap(counter_env: Any) -> None:
    env = DummyVecEnv([lambda: counter_env(terminate_at=3)])
    model = LiquidPPO("MlpPolicy", env, n_steps=8, batch_size=8, seq_len=4, seed=0)
    _collect(model)
    np.testing.assert_array_equal(model.rollout_buffer.rewards[:, 0], 1.0)
    np.testing.assert_array_equal(model.rollout_buffer.episode_starts[:, 0], [1, 0, 0, 1, 0, 0, 1, 0])


class _Recorder:
    """Wraps a sequence model's forward and records the timespans it receives."""

    def __init__(self, model: th.nn.Module) -> None:
        self.calls: list[th.Tensor | None] = []
        self.forward = model.forward

        def spy(x: th.Tensor, hx: Any = None, timespans: Any = None, resets: Any = None) -> Any:
            # one step without gradients may hand the network one float shared by the batch
            self.calls.append(None if timespans is None else th.as_tensor(timespans).clone())
            return self.forward(x, hx, timespans, resets)

        model.forward = spy  # type: ignore[method-assign]


@pytest.mark.parametrize("use_info_dt", [True, False])
def test_info_dt_flows_into_the_cell(counter_env: Any, use_info_dt: bool) -> None:
    dts = [0.1, 0.05, 0.2, 0.15]
    env = DummyVecEnv([lambda: counter_env(terminate_at=3, dts=dts)])
    model = LiquidPPO("CfCPolicy", env, n_steps=6, batch_size=6, seq_len=3, n_epochs=1, seed=0,
                      use_info_dt=use_info_dt, policy_kwargs={"units": 8})
    assert model.time_unit == pytest.approx(0.1)  # the env's nominal_dt attribute
    actor = _Recorder(model.policy.actor_net)
    _collect(model)
    # step t sees the dt reported by step t-1, in nominal periods; 1 after a reset
    expected = [1.0, 1.0, 0.5, 1.0, 1.5, 1.0]
    if use_info_dt:
        np.testing.assert_allclose(model.rollout_buffer.timespans[:, 0], expected, rtol=1e-6)
        seen = [float(c.flatten()[0]) for c in actor.calls]
        np.testing.assert_allclose(seen, expected, rtol=1e-6)
    else:
        assert all(c is None for c in actor.calls)
    actor.calls.clear()
    model.train()  # training replays with the same timespans
    if use_info_dt:
        replayed = sorted(tuple(row) for c in actor.calls for row in np.round(c.numpy().reshape(-1, 3), 6).tolist())
        assert replayed == sorted([(1.0, 1.0, 0.5), (1.0, 1.5, 1.0)])
    actor.calls.clear()
    model.predict(np.zeros((1, 2), np.float32), dt=0.05)
    if use_info_dt:
        assert float(actor.calls[0].flatten()[0]) == pytest.approx(0.5)
    else:
        assert actor.calls[0] is None


@pytest.mark.parametrize("policy", ALL_POLICIES)
def test_save_load_same_actions_and_states(policy: str, tmp_path: Path) -> None:
    model = LiquidPPO(policy, "Pendulum-v1", n_steps=16, batch_size=16, seq_len=8, n_epochs=1, seed=0,
                      policy_kwargs=SMALL.get(policy))
    model.learn(32)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(4, 3)).astype(np.float32)
    state = rng.normal(size=(4, model.policy.state_size)).astype(np.float32)
    starts = np.array([1, 0, 0, 1])
    a1, s1 = model.predict(obs, state, starts, deterministic=True)
    model.save(tmp_path / "model.zip")
    loaded = LiquidPPO.load(tmp_path / "model.zip")
    a2, s2 = loaded.predict(obs, state, starts, deterministic=True)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(s1, s2)
    # the policy alone round-trips too
    model.policy.save(str(tmp_path / "policy.pt"))
    alone = type(model.policy).load(str(tmp_path / "policy.pt"))
    np.testing.assert_array_equal(alone.predict(obs, state, starts, deterministic=True)[0], a1)


def test_predict_state_carries_memory_and_resets() -> None:
    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, seed=0, policy_kwargs={"units": 8})
    obs = np.ones((1, 3), np.float32)
    _, s1 = model.predict(obs, deterministic=True)
    assert s1.shape == (1, model.policy.state_size) and np.abs(s1).sum() > 0
    a_from_rest, _ = model.predict(obs, None, deterministic=True)
    a_reset, _ = model.predict(obs, s1, np.array([1]), deterministic=True)
    a_carry, _ = model.predict(obs, s1, np.array([0]), deterministic=True)
    np.testing.assert_array_equal(a_from_rest, a_reset)
    assert not np.allclose(a_carry, a_reset)
    single, _ = model.predict(np.ones(3, np.float32), deterministic=True)
    assert single.shape == (1,)


def test_evaluate_policy_and_eval_callback_work_unchanged(masked_cartpole: Any, tmp_path: Path) -> None:
    env = make_vec_env(masked_cartpole, n_envs=2, seed=0)
    model = LiquidPPO("LSTMPolicy", env, n_steps=16, batch_size=32, seq_len=8, n_epochs=1, seed=0)
    eval_env = make_vec_env(masked_cartpole, n_envs=2, seed=5)
    callback = EvalCallback(eval_env, n_eval_episodes=2, eval_freq=16, best_model_save_path=str(tmp_path), verbose=0)
    model.learn(64, callback=callback)
    assert np.isfinite(callback.last_mean_reward) and (tmp_path / "best_model.zip").exists()
    mean, _ = evaluate_policy(model, eval_env, n_eval_episodes=4)
    assert 8 <= mean <= 500


def test_dict_observations_and_image_observations(dict_env: Any, image_env: Any, tmp_path: Path) -> None:
    model = LiquidPPO("CfCPolicy", DummyVecEnv([dict_env]), n_steps=8, batch_size=8, seq_len=4, n_epochs=1, seed=0,
                      policy_kwargs={"units": 8})
    model.learn(16)
    assert type(model.policy.features_extractor).__name__ == "CombinedExtractor"
    assert model.predict(dict_env().observation_space.sample())[0].shape == (2,)
    model = LiquidPPO("CfCPolicy", DummyVecEnv([image_env]), n_steps=8, batch_size=8, seq_len=4, n_epochs=1, seed=0,
                      policy_kwargs={"units": 12, "features_extractor": "cnn", "features_extractor_kwargs": {"features_dim": 8}})
    model.learn(16)
    assert type(model.policy.features_extractor).__name__ == "ConvHead"
    assert model.policy.actor_net.output_size == 3  # one motor neuron per discrete action
    model.save(tmp_path / "cnn.zip")  # the extractor's kwargs survive save/load, of the model and of the policy
    loaded = LiquidPPO.load(tmp_path / "cnn.zip")
    assert loaded.policy.features_extractor.features_dim == 8
    model.policy.save(tmp_path / "cnn_policy.pt")
    assert type(model.policy).load(tmp_path / "cnn_policy.pt").features_extractor.features_dim == 8
    obs = image_env().observation_space.sample()
    assert loaded.predict(obs, deterministic=True)[0] == model.predict(obs, deterministic=True)[0]


def test_ncp_motor_neurons_are_the_action_mean() -> None:
    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, seed=0,
                      policy_kwargs={"units": 10, "actor_head": []})
    policy = model.policy
    assert policy.wired and policy.actor_net.output_size == 1
    obs = th.randn(2, 3)
    with th.no_grad():
        y, _, _, features = policy._unroll(obs, policy.initial_state(2), th.ones(2, 1), None)
        mean = policy._distribution(y[:, 0], features[:, 0]).distribution.mean
    th.testing.assert_close(mean, 2.0 * y[:, 0])  # gain initialised to the half-range of [-2, 2]
    assert policy.critic_net is not None and policy.state_size == 10 + policy.critic_net.state_size
    shared = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, policy_kwargs={"units": 10, "critic": "shared"})
    assert shared.policy.critic_net is None and shared.policy.state_size == 10


@pytest.mark.parametrize("wiring", ["ncp", "full"])
def test_more_motor_neurons_feed_the_actor_head_and_reload(wiring: str, tmp_path: Path) -> None:
    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=16, batch_size=16, seq_len=8, n_epochs=1, seed=0,
                      policy_kwargs={"units": 12, "wiring": wiring, "motor_neurons": 4})
    model.learn(16)
    policy = model.policy
    assert policy.actor_net.output_size == 4 and policy.pi_head[0].in_features == 4
    model.save(tmp_path / "model.zip")
    again = LiquidPPO.load(tmp_path / "model.zip")
    assert again.policy.motor_neurons == 4
    obs = np.random.default_rng(0).normal(size=(3, 3)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])


def _sde_std_where_the_motor_neuron_is_zero(sde_features: str) -> float:
    """gSDE's action std of a wired CfC (one motor neuron) at a motor output of 0."""
    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, seed=0, use_sde=True,
                      policy_kwargs={"units": 10, "sde_features": sde_features})
    policy = model.policy
    features = th.tensor([[1.0, -0.5, 0.3]])  # one normalised observation
    with th.no_grad():
        return float(policy._distribution(th.zeros(1, 1), features).distribution.stddev)


def test_gsde_noise_of_a_wired_network_comes_from_its_observations() -> None:
    # the head's last layer is 0 wherever its one motor neuron is 0 (zero-initialised biases):
    # gSDE's noise computed from it vanishes there (std sqrt(1e-6), SB3's floor)
    assert _sde_std_where_the_motor_neuron_is_zero("head") == pytest.approx(1e-3, rel=1e-3)
    # the default computes it from the observation features: std = sqrt(sum f_i^2) with sigma 1
    assert _sde_std_where_the_motor_neuron_is_zero("auto") == pytest.approx((1 + 0.25 + 0.09 + 1e-6) ** 0.5, rel=1e-5)
    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=16, batch_size=16, seq_len=8, n_epochs=1, seed=0,
                      use_sde=True, sde_sample_freq=4, policy_kwargs={"units": 10})
    assert model.policy.sde_from_observations and model.policy.log_std.shape == (3, 1)
    model.learn(32)
    head = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, use_sde=True,
                     policy_kwargs={"units": 10, "sde_features": "head"})
    with pytest.raises(ValueError, match="sde_features='head'"):  # weights saved before the option
        model.policy.load_state_dict(head.policy.state_dict())
    lstm = LiquidPPO("LSTMPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, use_sde=True)
    assert not lstm.policy.sde_from_observations and lstm.policy.log_std.shape == (64, 1)  # SB3's: the head


@pytest.mark.parametrize(
    ("policy", "env", "kwargs", "message"),
    [
        ("CfCPolicy", "Pendulum-v1", {"sde_features": "motors"}, "sde_features must be one of"),
        ("CfCPolicy", "Pendulum-v1", {"features_extractor": "cnn"}, "image observation"),
        ("LSTMPolicy", "Pendulum-v1", {"wiring": "ncp"}, "wiring is for the liquid"),
        ("CfCPolicy", "Pendulum-v1", {"critic": "none"}, "critic must be one of"),
        ("CfCPolicy", "Pendulum-v1", {"features_extractor": "combined"}, "Dict observation"),
        ("CfCPolicy", "Pendulum-v1", {"wiring": "grid"}, "wiring must be one of"),
        ("CfCPolicy", "Pendulum-v1", {"cell_kwargs": {"no_such_option": 1}}, "cell_kwargs"),
        ("CfCPolicy", "Pendulum-v1", {"motor_logit_gain": 3.0}, "motor_logit_gain"),
        ("CfCPolicy", "CartPole-v1", {"motor_logit_gain": 3.0}, "set actor_head"),
        ("CfCPolicy", "Pendulum-v1", {"motor_neurons": 4, "actor_head": []}, "needs an actor head"),
        ("CfCPolicy", "CartPole-v1", {"motor_neurons": 1}, r"whole number >= 2"),
        ("CfCPolicy", "Pendulum-v1", {"motor_neurons": 4, "wiring": "none"}, "remove it"),
        ("LSTMPolicy", "Pendulum-v1", {"motor_neurons": 4}, "remove it"),
    ],
)
def test_policy_that_does_not_fit_fails_at_construction(policy: str, env: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LiquidPPO(policy, env, n_steps=8, batch_size=8, seq_len=8, policy_kwargs=kwargs)


def test_unsupported_action_space_and_wrong_wiring_raise() -> None:
    import ncp_control

    class MultiDiscreteEnv(gym.Env):
        observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        action_space = gym.spaces.MultiDiscrete([2, 3])

    with pytest.raises(ValueError, match="1-D Box and Discrete"):
        LiquidPPO("GRUPolicy", DummyVecEnv([MultiDiscreteEnv]), n_steps=8, batch_size=8, seq_len=8)
    wiring = ncp_control.AutoNCP(12, 3, input_size=3)
    with pytest.raises(ValueError, match="motor neurons"):
        LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8,
                  policy_kwargs={"wiring": wiring, "actor_head": []})
    with pytest.raises(ValueError, match="seq_len"):
        LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=10, batch_size=8, seq_len=4)


def test_observation_normalisation_is_saved_and_replays_exactly(masked_cartpole: Any, tmp_path: Path) -> None:
    env = make_vec_env(masked_cartpole, n_envs=2, seed=0)
    model = LiquidPPO("CfCPolicy", env, n_steps=16, batch_size=32, seq_len=8, n_epochs=1, seed=0,
                      policy_kwargs={"units": 8, "normalize_observations": True})
    model.learn(32)
    normalizer = model.policy.obs_normalizer
    assert normalizer is not None and float(normalizer.count) == pytest.approx(32, abs=1e-3)
    all_obs = model.rollout_buffer.observations.reshape(-1, 2)
    np.testing.assert_allclose(normalizer.mean.numpy(), all_obs.mean(0), rtol=1e-4, atol=1e-5)
    _collect(model)  # replay with fixed statistics equals the rollout
    for batch in model.rollout_buffer.get(32):
        with th.no_grad():
            _, log_prob, _ = model.policy.evaluate_actions(
                batch.observations, batch.actions.long().flatten(), batch.states, batch.episode_starts, batch.timespans
            )
        th.testing.assert_close(log_prob, batch.old_log_prob.flatten(), atol=1e-5, rtol=1e-5)
    obs = np.array([[0.5, 0.05]], np.float32)
    model.save(tmp_path / "m.zip")
    loaded = LiquidPPO.load(tmp_path / "m.zip")
    th.testing.assert_close(loaded.policy.obs_normalizer.mean, normalizer.mean)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    with pytest.raises(ValueError, match="normalize_observations"):
        LiquidPPO("CfCPolicy", DummyVecEnv([_dict_env_factory()]), n_steps=8, batch_size=8, seq_len=8,
                  policy_kwargs={"normalize_observations": True})


def test_observation_normaliser_keeps_the_policy_function_when_its_statistics_move() -> None:
    """With ``preserve_observation_function`` the normaliser absorbs each change of its
    statistics into its affine map: the features (so the actions and values) for an observation
    stay the same; the plain one (``preserve_observation_function=False``) moves them. The first ``warmup`` observations only set
    the statistics. A state dict saved without the affine map loads as the identity map."""
    from ncp_control.agents.normalize import PreservingNormalizer, RunningNormalizer

    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=16, batch_size=16, seq_len=8, n_epochs=1, seed=0,
                      policy_kwargs={"units": 8, "preserve_observation_function": True})
    normalizer = model.policy.obs_normalizer
    assert isinstance(normalizer, PreservingNormalizer)
    model.learn(16)
    generator = th.Generator().manual_seed(0)
    warming = PreservingNormalizer((3,), warmup=300)
    for _ in range(2):  # 256 and 512 observations: the second update starts below the warm-up
        warming.update(5 * th.randn(256, 3, generator=generator) + 2)
    assert th.equal(warming.weight.detach(), th.ones(3)) and th.equal(warming.bias.detach(), th.zeros(3))
    warming.update(th.randn(256, 3, generator=generator))
    assert not th.equal(warming.weight.detach(), th.ones(3))
    with pytest.raises(ValueError, match="warmup"):
        PreservingNormalizer((3,), warmup=-1)
    normalizer.warmup = 0  # the policy's normaliser has merged 16 of its 10,000 warm-up observations
    with th.no_grad():
        obs = normalizer.mean + normalizer.std() * th.randn(64, 3, generator=generator)  # inside the clip bounds
        normalizer.weight.mul_(1.5)
        normalizer.bias.add_(0.3)
        before = model.policy._features(obs, 64, 1, model.policy.features_extractor)
        normalizer.update(3 * th.randn(256, 3, generator=generator) + 1)
        after = model.policy._features(obs, 64, 1, model.policy.features_extractor)
    th.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
    plain = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=16, batch_size=16, seq_len=8, seed=0,
                      policy_kwargs={"units": 8, "preserve_observation_function": False}).policy.obs_normalizer
    assert type(plain) is RunningNormalizer
    plain.update(th.randn(256, 3, generator=generator))
    before = plain(obs)
    plain.update(3 * th.randn(256, 3, generator=generator) + 1)
    assert (plain(obs) - before).abs().max() > 0.1
    saved = {k: v for k, v in normalizer.state_dict().items() if k not in ("weight", "bias")}
    fresh = PreservingNormalizer((3,))
    fresh.load_state_dict(saved)
    th.testing.assert_close(fresh(obs).detach(), ((obs - normalizer.mean) / normalizer.std()).clamp(-10, 10))


def test_outer_vec_normalize_changes_are_absorbed_by_a_preserving_policy() -> None:
    """Under an outer ``VecNormalize`` the policy's actions and values for a raw observation
    move only with its weights: after each update LiquidPPO restates the policy's observation
    statistics in the ``VecNormalize``'s new coordinates, and its value normaliser in the new
    reward scale (the values, in normalised rewards, scale with it). A policy with the plain
    normaliser (``preserve_observation_function=False``) follows the observations' statistics
    as before."""
    from stable_baselines3.common.vec_env import VecNormalize

    def values_of_raw(model: LiquidPPO, raw: np.ndarray) -> th.Tensor:
        vec_normalize = model.get_vec_normalize_env()
        assert vec_normalize is not None
        obs = th.as_tensor(vec_normalize.normalize_obs(raw), dtype=th.float32)
        with th.no_grad():
            return model.policy.predict_values(obs, model.policy.initial_state(len(raw)), th.ones(len(raw)))

    generator = np.random.default_rng(0)
    for preserve in (True, False):
        env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0), gamma=0.9)
        model = LiquidPPO("CfCPolicy", env, n_steps=32, batch_size=32, seq_len=8, n_epochs=1, seed=0,
                          policy_kwargs={"units": 8, "preserve_observation_function": preserve})
        model.learn(64)
        raw = generator.normal(size=(16, 3)).astype(np.float32)
        before = values_of_raw(model, raw)
        env.obs_rms.mean += np.array([0.5, -0.3, 2.0])  # as if the rollouts had moved the statistics
        env.obs_rms.var *= np.array([4.0, 0.25, 9.0])
        model._follow_vec_normalize()
        after = values_of_raw(model, raw)
        if preserve:
            th.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)
        else:
            assert (after - before).abs().max() > 1e-3
        old_scale = np.sqrt(env.ret_rms.var + env.epsilon)
        env.ret_rms.var = env.ret_rms.var * 9.0 + 2.0  # rewards now divided by a larger number
        model._follow_vec_normalize()
        new_scale = np.sqrt(env.ret_rms.var + env.epsilon)
        th.testing.assert_close(values_of_raw(model, raw), after * float(old_scale / new_scale), atol=1e-5, rtol=1e-5)


def _dict_env_factory() -> Any:
    class DictObs(gym.Env):
        observation_space = gym.spaces.Dict({"a": gym.spaces.Box(-1, 1, (2,), np.float32)})
        action_space = gym.spaces.Discrete(2)

    return DictObs


def test_default_policy_has_heads_normalisers_and_sb3_initialisation() -> None:
    """The defaults: [64, 64] heads after the recurrent networks (none for MlpPolicy), the
    observation and value normalisers, Adam's eps 1e-5, orthogonal initialisation."""
    model = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, seed=0)
    policy = model.policy
    assert policy.actor_head == [64, 64] and policy.critic_head == [64, 64]
    assert [m.out_features for m in policy.pi_head if isinstance(m, th.nn.Linear)] == [64, 64]
    assert policy.obs_normalizer is not None and policy.value_normalizer is not None
    assert policy.optimizer.defaults["eps"] == 1e-5
    weight = policy.action_net.weight
    th.testing.assert_close(weight @ weight.T, 1e-4 * th.eye(weight.shape[0]), atol=1e-7, rtol=0)  # orthogonal, gain 0.01
    mlp = LiquidPPO("MlpPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8).policy
    assert mlp.actor_head == [] and mlp.critic_head == []
    image = LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8,
                      policy_kwargs={"normalize_observations": False, "normalize_values": False}).policy
    assert image.obs_normalizer is None and image.value_normalizer is None


def test_value_normalisation_learns_returns_of_any_scale() -> None:
    """Rewards scaled by 1000: the value normaliser's statistics follow the returns, the critic
    reports values in the returns' scale, and the value loss is computed on normalised targets."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecEnvWrapper

    class Scaled(VecEnvWrapper):
        def reset(self):  # type: ignore[no-untyped-def]
            return self.venv.reset()

        def step_wait(self):  # type: ignore[no-untyped-def]
            obs, rewards, dones, infos = self.venv.step_wait()
            return obs, rewards * 1000.0, dones, infos

    env = Scaled(make_vec_env("Pendulum-v1", n_envs=2, seed=0))
    model = LiquidPPO("CfCPolicy", env, n_steps=64, batch_size=64, seq_len=16, n_epochs=4, seed=0,
                      policy_kwargs={"units": 8})
    model.learn(512)
    normalizer = model.policy.value_normalizer
    returns = th.as_tensor(model.rollout_buffer.returns)
    assert float(normalizer.mean) < -1e4 and float(normalizer.var.sqrt()) > 1e3  # returns of Pendulum x 1000
    values = th.as_tensor(model.rollout_buffer.values)
    assert float(values.mean()) < -1e3  # reported in the returns' scale
    assert abs(float((returns.mean() - normalizer.mean) / normalizer.var.sqrt())) < 3.0


def test_value_normaliser_update_keeps_the_critics_values() -> None:
    """PopArt: moving the value statistics rescales the value layer so that the values the
    critic reports (in the returns' scale) stay the same, while its normalised outputs follow
    the new statistics."""
    from stable_baselines3.common.env_util import make_vec_env

    model = LiquidPPO("CfCPolicy", make_vec_env("Pendulum-v1", n_envs=2, seed=0), n_steps=32, seed=0,
                      policy_kwargs={"units": 8})
    policy = model.policy
    obs = th.randn(5, 3)
    state, starts = policy.initial_state(5), th.ones(5)
    normalizer = policy.value_normalizer
    assert normalizer is not None and normalizer.empty
    initial = policy.value_net.weight.clone()
    policy.update_value_normalizer(th.randn(1000) * 30.0 - 80.0)  # the first returns set the statistics
    assert not normalizer.empty and float(normalizer.mean) < -70.0
    assert th.equal(policy.value_net.weight, initial)  # placeholder statistics: nothing to preserve
    before = policy.predict_values(obs, state, starts)
    policy.update_value_normalizer(th.randn(5000) * 300.0 - 800.0)
    assert float(normalizer.mean) < -600.0 and float(normalizer.std()) > 200.0
    th.testing.assert_close(policy.predict_values(obs, state, starts), before, rtol=1e-5, atol=1e-3)
    assert not th.equal(policy.value_net.weight, initial)  # the layer moved, the values did not
    unnormalised = LiquidPPO("CfCPolicy", make_vec_env("Pendulum-v1", n_envs=2, seed=0), n_steps=32, seed=0,
                             policy_kwargs={"units": 8, "normalize_values": False}).policy
    weight = unnormalised.value_net.weight.clone()
    unnormalised.update_value_normalizer(th.randn(100))
    assert th.equal(unnormalised.value_net.weight, weight)


def test_advantage_scale_chooses_what_advantages_are_divided_by() -> None:
    """"auto" divides by the returns' running std when the policy normalises values, "batch" by
    the minibatch's std (SB3); a scale that cannot apply is refused naming the argument."""
    from ncp_control.agents.ppo import normalize_advantages
    from stable_baselines3.common.env_util import make_vec_env

    from ncp_control.errors import UserError

    advantages = th.tensor([0.01, 0.03, -0.02, 0.02])
    by_batch = normalize_advantages(advantages, None)
    assert abs(float(by_batch.mean())) < 1e-6 and abs(float(by_batch.std()) - 1.0) < 1e-5
    by_returns = normalize_advantages(advantages, th.tensor(5.0))
    th.testing.assert_close(by_returns, (advantages - advantages.mean()) / 5.0)  # small stays small

    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    kwargs = {"n_steps": 32, "seed": 0}
    auto = LiquidPPO("CfCPolicy", env, policy_kwargs={"units": 8}, **kwargs)
    assert auto.policy.value_normalizer is not None
    auto.policy.update_value_normalizer(th.randn(100) * 7.0)
    th.testing.assert_close(auto._returns_scale(), auto.policy.value_normalizer.std())
    assert LiquidPPO("CfCPolicy", env, advantage_scale="batch", policy_kwargs={"units": 8}, **kwargs)._returns_scale() is None
    unnormalised = {"units": 8, "normalize_values": False}
    assert LiquidPPO("CfCPolicy", env, policy_kwargs=unnormalised, **kwargs)._returns_scale() is None
    with pytest.raises(UserError, match="advantage_scale"):
        LiquidPPO("CfCPolicy", env, advantage_scale="returns", policy_kwargs=unnormalised, **kwargs)
    with pytest.raises(UserError, match="advantage_scale must be one of"):
        LiquidPPO("CfCPolicy", env, advantage_scale="minibatch", **kwargs)


@pytest.mark.parametrize(("env_id", "kwargs"), [
    ("CartPole-v1", {}),
    ("Pendulum-v1", {}),
    ("Pendulum-v1", {"use_sde": True}),
])
def test_deterministic_actions_are_the_modes_of_the_action_distribution(env_id: str, kwargs: dict) -> None:
    """The deterministic shortcut gives, bit for bit, the mode of the distribution that sampling builds."""
    model = LiquidPPO("CfCPolicy", make_vec_env(env_id, n_envs=3, seed=0), n_steps=16, batch_size=16, seq_len=8, seed=0,
                      policy_kwargs={"units": 8}, **kwargs)
    policy = model.policy
    obs = th.as_tensor(np.stack([policy.observation_space.sample() for _ in range(3)]), dtype=th.float32)
    with th.no_grad():
        state = policy.initial_state(3) + 0.3
        y, _, _, features = policy._unroll(obs, state, th.zeros(3, 1), None, with_critic=False)
        expected = policy._distribution(y[:, 0], features[:, 0]).get_actions(deterministic=True)
        actions, _ = policy._act(obs, state, th.zeros(3), None, deterministic=True)
    assert th.equal(actions.reshape(expected.shape), expected)
