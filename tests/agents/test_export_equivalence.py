"""Every export acts exactly like ``model.predict``: the one-step module, its ONNX and
TorchScript files and the weights-only policy give the same actions and actor states (1e-5)
over whole episodes with resets and jittered dt, for every network and policy option,
observation normalisation (the policy's own and a VecNormalize) and actor heads included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from ncp_control.agents import LiquidPPO, load_policy, save_policy
from ncp_control.agents.export import model_onestep
from ncp_control.agents.normalize import PreservingNormalizer
from ncp_control.agents.sequence import LIQUID_NETWORKS, NETWORKS
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from ncp_control.export import OnnxPolicy, load_torchscript, to_onnx, to_torchscript

torch.set_num_threads(1)
STEPS, HORIZON = 60, 20  # three episodes and a part, so the state is reset mid-run
ALIASES = {"cfc": "CfCPolicy", "ltc": "LTCPolicy", "ctrnn": "CTRNNPolicy", "lstm": "LSTMPolicy", "gru": "GRUPolicy",
           "mlp": "MlpPolicy"}
HEADS = {"actor_head": [16], "normalize_observations": True, "critic_head": [8], "normalize_values": True,
         "ortho_init": True}


def _network_kwargs(network: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"units": 8} if network in LIQUID_NETWORKS else {"units": 8, "net_arch": [8]}
    if network == "ltc":
        kwargs["cell_kwargs"] = {"ode_unfolds": 2}
    return kwargs


#: id -> (network, env, policy_kwargs, VecNormalize around the env, algorithm arguments)
CASES: dict[str, tuple[str, str, dict[str, Any], bool, dict[str, Any]]] = {}
for _net in NETWORKS:
    CASES[f"{_net}-box-vecnormalize"] = (_net, "Pendulum-v1", {}, True, {})
    CASES[f"{_net}-box-head-obsnorm"] = (_net, "Pendulum-v1", HEADS, False, {})
    CASES[f"{_net}-discrete-head-obsnorm-shared-critic"] = (
        _net, "CartPole-v1", {"actor_head": [16], "normalize_observations": True, "critic": "shared"}, False, {})
CASES["cfc-unwired-head-obsnorm-vecnormalize"] = ("cfc", "Pendulum-v1", {**HEADS, "wiring": "none"}, True, {})
CASES["cfc-full-wiring-head"] = ("cfc", "Pendulum-v1", {"wiring": "full", "actor_head": [16]}, False, {})
CASES["ltc-unwired-head-mlp-critic"] = ("ltc", "Pendulum-v1", {**HEADS, "wiring": "none", "critic": "mlp"}, False, {})
CASES["cfc-sde-head-obsnorm"] = ("cfc", "Pendulum-v1", HEADS, False, {"use_sde": True})
CASES["cfc-no-dt-head-obsnorm"] = ("cfc", "Pendulum-v1", HEADS, False, {"use_info_dt": False})


def _model(case: str) -> tuple[LiquidPPO, Callable[[np.ndarray], np.ndarray], str]:
    """An untrained model whose weights and statistics are all far from their initial values."""
    network, env_id, options, vecnormalize, algo_kwargs = CASES[case]
    rng = np.random.default_rng(0)
    venv: Any = make_vec_env(env_id, n_envs=1, seed=0)
    if vecnormalize:
        venv = VecNormalize(venv, norm_reward=False, clip_obs=2.0)
        venv.obs_rms.mean = rng.normal(size=venv.observation_space.shape)
        venv.obs_rms.var = rng.uniform(0.2, 3.0, size=venv.observation_space.shape)
        venv.training = False
    model = LiquidPPO(ALIASES[network], venv, n_steps=16, batch_size=16, seq_len=8, seed=0,
                      policy_kwargs={**_network_kwargs(network), **options}, **algo_kwargs)
    policy = model.policy
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in policy.named_parameters():
            if "log_std" not in name and not name.startswith("obs_normalizer."):
                parameter.mul_(1 + 0.2 * torch.randn(parameter.shape, generator=generator))
        if isinstance(policy.action_net, torch.nn.Linear):
            torch.nn.init.orthogonal_(policy.action_net.weight, gain=8.0)  # the 0.01-gain init: actions near zero
        if policy.obs_normalizer is not None:
            shape = policy.obs_normalizer.mean.shape
            policy.obs_normalizer.mean.copy_(torch.randn(shape, generator=generator))
            policy.obs_normalizer.var.copy_(0.2 + 3 * torch.rand(shape, generator=generator))
            if isinstance(policy.obs_normalizer, PreservingNormalizer):  # its affine map travels too
                affine = torch.Generator().manual_seed(1)
                policy.obs_normalizer.weight.copy_(1 + 0.3 * torch.randn(shape, generator=affine))
                policy.obs_normalizer.bias.copy_(0.2 * torch.randn(shape, generator=affine))
    normalize = venv.normalize_obs if vecnormalize else (lambda obs: obs)
    return model, normalize, env_id


def _episodes(model: LiquidPPO, normalize: Callable[[np.ndarray], np.ndarray], env_id: str) -> dict[str, np.ndarray]:
    """``model.predict`` over whole episodes: resets set ``episode_start``, dt is jittered."""
    env = gym.make(env_id, max_episode_steps=HORIZON)
    rng = np.random.default_rng(1)
    nominal = model.policy.time_unit
    obs, _ = env.reset(seed=0)
    state, start = None, True
    rows: dict[str, list[Any]] = {"obs": [], "start": [], "dt": [], "action": [], "state": []}
    for _ in range(STEPS):
        dt = float(nominal * rng.uniform(0.3, 2.0))
        action, state = model.predict(normalize(obs[None]), state, np.array([float(start)]), deterministic=True, dt=dt)
        for key, value in (("obs", obs[None]), ("start", start), ("dt", dt), ("action", action[0]),
                           ("state", state[0, : model.policy.actor_state_size])):
            rows[key].append(value)
        obs, _, terminated, truncated, _ = env.step(action[0])
        start = terminated or truncated
        if start:
            obs, _ = env.reset()
    env.close()
    assert sum(rows["start"]) >= 3
    return {k: np.asarray(v) for k, v in rows.items()}


def _replay(step: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[Any, Any]], episodes: dict[str, np.ndarray],
            state_size: int) -> tuple[np.ndarray, np.ndarray]:
    h = np.zeros((1, state_size), np.float32)
    actions, states = [], []
    for obs, start, dt in zip(episodes["obs"], episodes["start"], episodes["dt"]):
        if start:
            h = np.zeros_like(h)
        a, h = step(obs, h, np.array([dt], np.float32))
        h = np.asarray(h, np.float32)
        actions.append(np.asarray(a)[0])
        states.append(h[0])
    return np.asarray(actions), np.asarray(states)


def _torch_step(module: Any) -> Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[Any, Any]]:
    def step(obs: np.ndarray, h: np.ndarray, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            a, h2 = module(torch.as_tensor(obs), torch.as_tensor(h), torch.as_tensor(dt))
        return a.numpy(), h2.numpy()

    return step


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_export_acts_like_predict(case: str, tmp_path: Path) -> None:
    model, normalize, env_id = _model(case)
    episodes = _episodes(model, normalize, env_id)
    if isinstance(model.action_space, gym.spaces.Box):
        assert np.ptp(episodes["action"]) > 0.05, "the policy must act, or the comparison proves little"
    module = model_onestep(model)
    size = module.state_size
    assert size == model.policy.actor_state_size
    deployed = load_policy(save_policy(model, tmp_path / "weights"))

    def weights_step(obs: np.ndarray, h: np.ndarray, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return deployed.predict(obs, h, np.zeros(1), dt=dt)

    runners = {
        "one-step module": _torch_step(module),
        "weights-only policy": weights_step,
        "ONNX": OnnxPolicy(to_onnx(module, tmp_path / "policy.onnx")),
        "TorchScript": _torch_step(load_torchscript(to_torchscript(module, tmp_path / "policy.pt"))),
    }
    for name, step in runners.items():
        actions, states = _replay(step, episodes, size)
        np.testing.assert_allclose(actions, episodes["action"], atol=1e-5, err_msg=f"{case}: {name} actions")
        np.testing.assert_allclose(states, episodes["state"], atol=1e-5, err_msg=f"{case}: {name} states")
