"""ncp_control.agents.export: the one-step actor of a trained LiquidPPO policy (VecNormalize, dt, action
clipping) reproduces ``model.predict`` over an episode, in PyTorch, in onnxruntime and as
TorchScript in a fresh process; the weights-only format reloads it without unpickling and
refuses SB3 zips carrying a malicious pickle."""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import ncp_control.envs  # noqa: F401 - registers NCPControl/*
import numpy as np
import pytest
import torch
from ncp_control.agents import LiquidPPO, load_policy, save_policy
from ncp_control.agents.export import model_onestep
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from ncp_control.export import OnnxPolicy, to_onnx, to_torchscript

ENV = "NCPControl/PendulumNoVel-v1"  # reports info["dt"]


@pytest.fixture(scope="module")
def trained() -> tuple[LiquidPPO, VecNormalize]:
    """CfC with NCP wiring, 256 steps of LiquidPPO behind VecNormalize (weights moved from init)."""
    venv = VecNormalize(make_vec_env(ENV, n_envs=2, seed=0))
    model = LiquidPPO("CfCPolicy", venv, n_steps=64, batch_size=64, seq_len=16, n_epochs=2, seed=0,
                      policy_kwargs={"units": 12, "ortho_init": False})  # actions far from 0 from the start
    model.learn(256)
    venv.training = False
    return model, venv


def _episode(model: LiquidPPO, venv: VecNormalize, seed: int = 3) -> dict[str, np.ndarray]:
    """Run ``model.predict`` over one whole episode (SB3's path: normalised observation, state,
    episode start, dt); PendulumNoVel episodes end by time limit after 200 steps."""
    env = gym.make(ENV)
    obs, _ = env.reset(seed=seed)
    state, start, dt = None, np.ones(1), 0.05
    rows: dict[str, list[Any]] = {"obs": [], "dt": [], "action": []}
    done = False
    while not done:
        action, state = model.predict(venv.normalize_obs(obs[None]), state, start, deterministic=True, dt=dt)
        rows["obs"].append(obs[None])
        rows["dt"].append(np.array([dt], np.float32))
        rows["action"].append(action)
        obs, _, terminated, truncated, info = env.step(action[0])
        start, dt, done = np.zeros(1), float(info["dt"]), terminated or truncated
    env.close()
    assert len(rows["action"]) == 200
    return {k: np.stack(v) for k, v in rows.items()}


def _replay(step: Any, episode: dict[str, np.ndarray], state_size: int) -> np.ndarray:
    h = np.zeros((1, state_size), np.float32)
    actions = []
    for obs, dt in zip(episode["obs"], episode["dt"]):
        a, h = step(obs, h, dt)
        actions.append(np.asarray(a))
    return np.stack(actions)


def test_one_step_policy_matches_predict_in_pytorch_onnx_and_fresh_torchscript(trained: Any, tmp_path: Path) -> None:
    model, venv = trained
    episode = _episode(model, venv)
    assert np.ptp(episode["action"]) > 0.05  # the policy does something
    module = model_onestep(model)
    assert module.normalizer is not None and module.time_unit == pytest.approx(0.05)

    def eager(o: np.ndarray, h: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            a, h2 = module(torch.as_tensor(o), torch.as_tensor(h), torch.as_tensor(d))
        return a.numpy(), h2.numpy()

    np.testing.assert_allclose(_replay(eager, episode, module.state_size), episode["action"], atol=1e-5)
    onnx = OnnxPolicy(to_onnx(module, tmp_path / "policy.onnx"))
    np.testing.assert_allclose(_replay(onnx, episode, module.state_size), episode["action"], atol=1e-5)
    to_torchscript(module, tmp_path / "policy.pt")
    np.savez(tmp_path / "episode.npz", obs=episode["obs"], dt=episode["dt"], state_size=module.state_size)
    script = textwrap.dedent(
        """
        import sys, numpy as np, torch
        data = np.load(sys.argv[1])
        policy = torch.jit.load(sys.argv[2])
        h = torch.zeros(1, int(data["state_size"]))
        out = []
        with torch.no_grad():
            for obs, dt in zip(data["obs"], data["dt"]):
                a, h = policy(torch.as_tensor(obs), h, torch.as_tensor(dt))
                out.append(a.numpy())
        np.save(sys.argv[3], np.stack(out))
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "episode.npz"), str(tmp_path / "policy.pt"),
                    str(tmp_path / "actions.npy")], check=True, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "actions.npy"), episode["action"], atol=1e-5)


def test_weights_only_policy_gives_the_same_actions(trained: Any, tmp_path: Path) -> None:
    model, venv = trained
    episode = _episode(model, venv, seed=4)
    folder = save_policy(model, tmp_path / "weights", extra={"note": "test", "schedule": print})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "policy.safetensors"]
    policy = load_policy(folder)
    state, start = None, np.ones(1)
    actions = []
    for obs, dt in zip(episode["obs"], episode["dt"]):
        action, state = policy.predict(obs, state, start, dt=float(dt[0]))
        actions.append(action)
        start = np.zeros(1)
    np.testing.assert_allclose(np.stack(actions), episode["action"], atol=1e-5)
    assert policy.config["extra"] == {"note": "test", "schedule": repr(print)}  # informational only
    # an unbatched observation gives an unbatched action, as in SB3
    assert policy.predict(episode["obs"][0][0])[0].shape == (1,)


def test_discrete_policy_without_dt_round_trips(tmp_path: Path) -> None:
    model = LiquidPPO("LTCPolicy", "CartPole-v1", n_steps=16, batch_size=16, seq_len=8, n_epochs=1, seed=0,
                      use_info_dt=False, policy_kwargs={"units": 8, "cell_kwargs": {"ode_unfolds": 3}})
    loaded = load_policy(save_policy(model, tmp_path / "w"))
    obs = np.random.default_rng(0).normal(size=(30, 3, 4)).astype(np.float32)
    state, loaded_state = None, None
    for t in range(30):
        expected, state = model.predict(obs[t], state, np.zeros(3), deterministic=True)
        got, loaded_state = loaded.predict(obs[t], loaded_state, np.zeros(3), dt=123.0)  # dt ignored
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="deterministic"):
        loaded.predict(obs[0], deterministic=False)


def test_deployed_policy_works_in_evaluate_policy(trained: Any, tmp_path: Path) -> None:
    from stable_baselines3.common.evaluation import evaluate_policy

    model, venv = trained
    policy = load_policy(save_policy(model, tmp_path / "w"))
    raw = make_vec_env(ENV, n_envs=2, seed=7)
    normalized = VecNormalize(make_vec_env(ENV, n_envs=2, seed=7), training=False, norm_reward=False)
    normalized.obs_rms = venv.obs_rms
    deployed, _ = evaluate_policy(policy, raw, n_eval_episodes=2)  # type: ignore[arg-type]
    original, _ = evaluate_policy(model, normalized, n_eval_episodes=2)
    assert deployed == pytest.approx(original, rel=1e-5)


@pytest.mark.parametrize("policy", ["LSTMPolicy", "MlpPolicy"])
def test_baseline_policies_export_too(policy: str, tmp_path: Path) -> None:
    model = LiquidPPO(policy, "Pendulum-v1", n_steps=8, batch_size=8, seq_len=8, seed=0)
    module = model_onestep(model)
    loaded = load_policy(save_policy(model, tmp_path / "w"))
    onnx = OnnxPolicy(to_onnx(module, tmp_path / "p.onnx"))
    obs = np.random.default_rng(0).normal(size=(15, 2, 3)).astype(np.float32)
    state = loaded_state = None
    onnx_state = np.zeros((2, module.state_size), np.float32)
    for t in range(15):
        expected, state = model.predict(obs[t], state, np.zeros(2), deterministic=True)
        got, loaded_state = loaded.predict(obs[t], loaded_state, np.zeros(2))
        onnx_action, onnx_state = onnx(obs[t], onnx_state, np.full(2, 0.05, np.float32))
        np.testing.assert_allclose(got, expected, atol=1e-6)
        np.testing.assert_allclose(onnx_action, expected, atol=1e-5)


def test_image_policy_with_cnn_extractor_exports(image_env: Any, tmp_path: Path) -> None:
    from stable_baselines3.common.vec_env import DummyVecEnv

    model = LiquidPPO("CfCPolicy", DummyVecEnv([image_env]), n_steps=8, batch_size=8, seq_len=4, n_epochs=1, seed=0,
                      policy_kwargs={"units": 8, "features_extractor_kwargs": {"features_dim": 6}})
    images = np.random.default_rng(1).integers(0, 256, size=(10, 2, 3, 32, 32), dtype=np.uint8)
    loaded = load_policy(save_policy(model, tmp_path / "w"))
    onnx = OnnxPolicy(to_onnx(model_onestep(model), tmp_path / "p.onnx"))
    state = loaded_state = None
    onnx_state = np.zeros((2, loaded.state_size), np.float32)
    for t in range(10):
        expected, state = model.predict(images[t], state, np.zeros(2), deterministic=True)
        got, loaded_state = loaded.predict(images[t], loaded_state, np.zeros(2))
        onnx_action, onnx_state = onnx(images[t], onnx_state, np.ones(2, np.float32))
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(onnx_action, expected)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - runs code when unpickled
        return (Path.touch, (self.marker,))


def _malicious_zip(model: LiquidPPO, path: Path, marker: Path) -> Path:
    """An SB3 model zip whose ``data`` carries a serialized object that runs code when unpickled."""
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(entries["data"])
    data["policy_class"][":serialized:"] = base64.b64encode(pickle.dumps(_Payload(marker))).decode()
    entries["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def test_malicious_zip_is_refused_and_its_code_never_runs(trained: Any, tmp_path: Path) -> None:
    model, _ = trained
    marker = tmp_path / "code-ran"
    bad = _malicious_zip(model, tmp_path / "model.zip", marker)
    with pytest.raises(ValueError, match="not a weights-only policy"):
        load_policy(bad)
    # the same bytes under the weights-only names: not safetensors, refused
    folder = save_policy(model, tmp_path / "w")
    (folder / "policy.safetensors").write_bytes(bad.read_bytes())
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_policy(folder)
    (folder / "policy.safetensors").write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_policy(folder)
    assert not marker.exists()
    # a config naming a class outside the loader's tables is refused
    save_policy(model, folder)
    config = json.loads((folder / "config.json").read_text())
    config["policy_kwargs"]["activation_fn"] = {"__class__": "os.system"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="not one the loader knows"):
        load_policy(folder)
    # the payload is live: SB3's own loader runs it
    with pytest.raises(Exception):  # noqa: B017 - whatever SB3 does after unpickling
        LiquidPPO.load(bad)
    assert marker.exists()


def test_save_policy_refuses_other_policies(tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    with pytest.raises(ValueError, match="LiquidPPO, LiquidSAC or LiquidTD3 policy"):
        save_policy(PPO("MlpPolicy", "Pendulum-v1", n_steps=8, batch_size=8), tmp_path / "w")
