"""One episode of a time-aware CfC policy under dt jitter, acted by every path of the package:
LiquidPPO ``predict(dt=...)`` (the reference), the robustness harness, the CLI's ``evaluate``,
the weights-only policy, the ONNX and TorchScript exports give the same actions (1e-6); and
RecurrentPPO with the timespan adapter feeds its liquid network the same timespans (its
actions equal a replay of its network with ``dt / time_unit``, 1e-6)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from ncp_control.agents import LiquidPPO, load_policy, save_policy
from ncp_control.agents.common.eval_policies import ModelPolicy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.export import model_onestep
from ncp_control.agents.recurrent_ppo import RecurrentCfCPolicy
from ncp_control.agents.robustness.evaluate import evaluate_robustness
from ncp_control.agents.timespan_obs import OBSERVATION_KEY, TIMESPAN_KEY, TimespanObservation
from ncp_control.agents.timing import first_step_seconds
from ncp_control.cli.commands import evaluate as evaluate_command
from ncp_control.envs.perturbations.timing import DtJitter
from stable_baselines3.common.env_util import make_vec_env

from ncp_control.export import OnnxPolicy, load_torchscript, to_onnx, to_torchscript

torch.set_num_threads(1)
ENV_ID = "TimeTest/JitterLane-v0"
HORIZON = 40
TOLERANCE = 1e-6


class Recorder(gym.Wrapper):
    """Keeps every action, observation and ``dt`` of the last episode (class-wide, for the test)."""

    episode: dict[str, list[Any]] = {}

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        Recorder.episode = {"obs": [obs], "action": [], "dt": [first_step_seconds(self.env)]}
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        Recorder.episode["action"].append(np.asarray(action, dtype=np.float64).copy())
        Recorder.episode["obs"].append(obs)
        Recorder.episode["dt"].append(float(info["dt"]))
        return obs, reward, terminated, truncated, info


def _jittered_lane() -> gym.Env:
    env = gym.make("NCPControl/LaneKeeping-v0", max_episode_steps=HORIZON)
    return Recorder(DtJitter(env, level=1.0))


if ENV_ID not in gym.registry:
    gym.register(ENV_ID, entry_point=_jittered_lane)


def _actions() -> np.ndarray:
    return np.asarray(Recorder.episode["action"])


@pytest.fixture(scope="module")
def model() -> LiquidPPO:
    """An untrained, time-aware CfC (NCP) policy whose weights are far from their init."""
    import ncp_control.envs  # noqa: F401

    model = LiquidPPO("CfCPolicy", make_vec_env(ENV_ID, n_envs=1, seed=0), n_steps=16, batch_size=16, seq_len=8,
                      seed=0, policy_kwargs={"units": 8, "actor_head": [], "normalize_observations": True})
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.policy.named_parameters():
            if "log_std" not in name:
                parameter.mul_(1 + 0.3 * torch.randn(parameter.shape, generator=generator))
        model.policy.obs_normalizer.var.fill_(0.05)
    return model


def _reference(model: LiquidPPO) -> dict[str, np.ndarray]:
    """``model.predict(dt=...)`` over one episode, stepping the jittered env by hand."""
    env = gym.make(ENV_ID)
    obs, _ = env.reset(seed=0)
    state, start, dt = None, True, first_step_seconds(env)
    while True:
        action, state = model.predict(obs[None], state, np.array([start]), deterministic=True, dt=dt)
        obs, _, terminated, truncated, info = env.step(action[0])
        start, dt = False, info["dt"]
        if terminated or truncated:
            break
    env.close()
    return {key: np.asarray(value) for key, value in Recorder.episode.items()}


def test_every_path_acts_alike_under_dt_jitter(model: LiquidPPO, tmp_path: Path) -> None:
    reference = _reference(model)
    spans = reference["dt"][1:] / model.policy.time_unit
    assert np.ptp(spans) > 0.5, "dt must jitter, or the test proves nothing"
    assert reference["dt"][0] == pytest.approx(model.policy.time_unit)  # the first step: one nominal period
    assert np.ptp(reference["action"]) > 0.05, "the policy must act"
    paths: dict[str, np.ndarray] = {}

    evaluate_robustness(model, ENV_ID, "timing", levels=[0.0], n_episodes=1, seed=0)
    paths["robustness harness"] = _actions()

    model.save(tmp_path / "model.zip")
    parser = argparse.ArgumentParser()
    evaluate_command.register(parser.add_subparsers())
    args = parser.parse_args(["evaluate", str(tmp_path / "model.zip"), "--env", ENV_ID, "--episodes", "1",
                              "--seed", "0", "--trust-pickle", "--no-progress"])
    assert evaluate_command.run(args) == 0
    paths["CLI evaluate"] = _actions()

    deployed = load_policy(save_policy(model, tmp_path / "weights"))
    run_episodes(ModelPolicy(deployed), lambda: gym.make(ENV_ID), [0])
    paths["weights-only policy"] = _actions()

    module = model_onestep(model)
    runtimes = {"ONNX": OnnxPolicy(to_onnx(module, tmp_path / "policy.onnx")),
                "TorchScript": load_torchscript(to_torchscript(module, tmp_path / "policy.pt"))}
    for name, runtime in runtimes.items():
        h: Any = np.zeros((1, module.state_size), np.float32)
        actions = []
        for obs, dt in zip(reference["obs"][:-1], reference["dt"][:-1]):
            inputs = (np.asarray(obs, np.float32)[None], h, np.array([dt], np.float32))
            if name == "TorchScript":
                with torch.no_grad():
                    action, h = (t.numpy() for t in runtime(*(torch.as_tensor(x) for x in inputs)))
            else:
                action, h = runtime(*inputs)
            actions.append(np.asarray(action)[0])
        paths[name] = np.asarray(actions)

    for name, actions in paths.items():
        np.testing.assert_allclose(actions, reference["action"], atol=TOLERANCE, rtol=0, err_msg=name)


def test_recurrent_ppo_adapter_feeds_the_same_timespans() -> None:
    from sb3_contrib import RecurrentPPO

    def make() -> gym.Env:
        return TimespanObservation(gym.make(ENV_ID))

    model = RecurrentPPO(RecurrentCfCPolicy, make_vec_env(make, n_envs=1, seed=0), n_steps=16, batch_size=16, seed=0,
                         policy_kwargs={"units": 8})
    model.learn(16)
    unit = make().time_unit
    run_episodes(ModelPolicy(model), make, [0])
    actions = _actions()
    episode = Recorder.episode
    policy: Any = model.policy
    obs = torch.as_tensor(np.stack(episode["obs"][:-1]), dtype=torch.float32)
    spans = torch.as_tensor(np.asarray(episode["dt"][:-1]) / unit, dtype=torch.float32)
    assert float(spans.max() - spans.min()) > 0.5 and float(spans[0]) == 1.0
    with torch.no_grad():
        features = policy.pi_features_extractor.inner(obs)
        y, _ = policy.lstm_actor.model(features[None], None, spans[None])
        mean = policy.action_net(policy.mlp_extractor.forward_actor(y[0]))
        replay = np.clip(mean.numpy(), -1.0, 1.0)
        flat, _ = policy.lstm_actor.model(features[None], None, None)
        untimed = np.clip(policy.action_net(policy.mlp_extractor.forward_actor(flat[0])).numpy(), -1.0, 1.0)
    np.testing.assert_allclose(actions, replay, atol=TOLERANCE, rtol=0)
    assert np.abs(actions - untimed).max() > 1e-4, "the timespans must matter"
    # on the bare env (evaluate, robustness and watch of a run) the evaluation adds the timespans itself
    run_episodes(ModelPolicy(model), lambda: gym.make(ENV_ID), [0])
    np.testing.assert_allclose(_actions(), actions, atol=TOLERANCE, rtol=0)
    assert set(policy.observation_space.spaces) == {OBSERVATION_KEY, TIMESPAN_KEY}
