"""Run folders: layout, resume from a checkpoint, and a training run killed with SIGKILL."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import yaml
from ncp_control.agents.runs import RunConfig, RunFolder, load_hyperparams, load_model, train_run

PPO_PARAMS = {"n_steps": 128, "batch_size": 64, "n_epochs": 1}


def _config(timesteps: int) -> RunConfig:
    return RunConfig("Pendulum-v1", policy="MlpPolicy", algo="PPO", timesteps=timesteps, hyperparams=PPO_PARAMS,
                     checkpoint_freq=128, eval_freq=128, eval_episodes=1)


def test_resume_continues_from_the_newest_checkpoint(tmp_path):
    run = tmp_path / "run"
    train_run(_config(256), run)
    folder = RunFolder.open(run)
    assert [p.name for p in folder.checkpoint_paths()] == ["step_000000000128", "step_000000000256"]
    # pretend the run was cut off after its second checkpoint, with a longer budget
    config = folder.config()
    config.timesteps = 384
    (run / "config.yaml").write_text(yaml.safe_dump(config.__dict__))
    folder.write_info(status="running")
    shutil.rmtree(run / "model")
    model = train_run(_config(999), run)  # the stored config wins over the argument
    assert model.num_timesteps == 384
    assert folder.is_done() and folder.info()["timesteps"] == 384
    assert [p.name for p in folder.checkpoint_paths()] == ["step_000000000256", "step_000000000384"]
    assert np.loadtxt(run / "eval.csv", delimiter=",", skiprows=1, usecols=0).tolist() == [128, 256, 384]


def test_load_model_round_trip_and_weights(tmp_path):
    run = tmp_path / "run"
    trained = train_run(_config(128), run)
    model, info = load_model(run, "Pendulum-v1")
    assert info["algo"] == "PPO" and info["env_id"] == "Pendulum-v1"
    obs = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], trained.predict(obs, deterministic=True)[0])
    from safetensors.torch import load_file

    tensors = load_file(str(run / "weights" / "policy.safetensors"))
    state = model.policy.state_dict()
    assert set(tensors) == set(state)
    for key, value in tensors.items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    state, state_info = load_model(run / "checkpoints" / "step_000000000128")
    assert state_info["algo"] == "PPO" and state.num_timesteps == 128
    trained.save(tmp_path / "model.zip")
    with pytest.raises(ValueError, match="--trust-pickle"):
        load_model(tmp_path / "model.zip")
    bare, bare_info = load_model(tmp_path / "model.zip", trust_pickle=True)
    assert bare_info["algo"] == "PPO"


def test_hyperparams_file_zoo_style(tmp_path):
    path = tmp_path / "hp.yml"
    path.write_text("Pendulum-v1:\n  n_envs: 4\n  policy_kwargs: \"dict(net_arch=[32, 32])\"\n  learning_rate: lin_1e-3\n")
    params = load_hyperparams(path, "Pendulum-v1")
    assert params["n_envs"] == 4 and params["policy_kwargs"] == {"net_arch": [32, 32]}
    with pytest.raises(ValueError, match="no entry for 'CartPole-v1'"):
        load_hyperparams(path, "CartPole-v1")
    path.write_text("n_steps: 64\ngamma: 0.9\nnormalize: true\n")  # rl-zoo: VecNormalize with the recipe's gamma
    assert load_hyperparams(path, "Pendulum-v1")["normalize"] == {"norm_obs": True, "norm_reward": True, "gamma": 0.9}
    path.write_text("n_steps: 64\nframe_stack: 4\n")
    with pytest.raises(ValueError, match="frame_stack is not supported"):
        load_hyperparams(path, "Pendulum-v1")


def test_policy_overrides_apply_to_their_policy_only(tmp_path):
    path = tmp_path / "hp.yml"
    path.write_text(
        "Pendulum-v1:\n  policy: CfCPolicy\n  n_epochs: 20\n  learning_rate: lin_1e-3\n"
        "  policy_kwargs: \"dict(units=48, normalize_observations=True)\"\n"
        "  policy_overrides:\n    LTCPolicy:\n      learning_rate: lin_3e-3\n      dt_nominal: 0.2\n"
        "      policy_kwargs: {units: 32}\n"
    )
    cfc = load_hyperparams(path, "Pendulum-v1")
    assert "policy_overrides" not in cfc and cfc["learning_rate"] == "lin_1e-3" and "dt_nominal" not in cfc
    assert cfc == load_hyperparams(path, "Pendulum-v1", "CfCPolicy")
    ltc = load_hyperparams(path, "Pendulum-v1", "LTCPolicy")
    assert ltc["learning_rate"] == "lin_3e-3" and ltc["dt_nominal"] == 0.2 and ltc["n_epochs"] == 20
    assert ltc["policy_kwargs"] == {"units": 32, "normalize_observations": True}
    path.write_text("Pendulum-v1:\n  policy_overrides: [LTCPolicy]\n")
    with pytest.raises(ValueError, match="policy_overrides must map"):
        load_hyperparams(path, "Pendulum-v1")


@pytest.mark.slow
def test_training_killed_with_sigkill_resumes_without_corrupt_checkpoints(tmp_path):
    run = tmp_path / "run"
    hp = tmp_path / "hp.yaml"
    hp.write_text(yaml.safe_dump(PPO_PARAMS))
    argv = [sys.executable, "-m", "ncp_control.cli", "train", "Pendulum-v1", "--algo", "PPO", "--policy", "MlpPolicy",
            "--timesteps", "512", "--config", str(hp), "--checkpoint-freq", "128", "--eval-freq", "128",
            "--eval-episodes", "1", "--out", str(run), "--no-progress"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((run / "checkpoints").glob("step_*[0-9]"))) < 2:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    folder = RunFolder.open(run)
    assert not folder.is_done(), "the run finished before it could be killed"
    for path in folder.checkpoint_paths():  # every checkpoint on disk is whole
        assert load_model(path)[0].num_timesteps == int(path.name.split("_")[1])
    resumed = subprocess.run([sys.executable, "-m", "ncp_control.cli", "train", "--resume", str(run), "--no-progress"],
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert folder.is_done() and folder.info()["timesteps"] == 512
    assert load_model(run)[0].num_timesteps == 512
    steps = np.loadtxt(run / "eval.csv", delimiter=",", skiprows=1, usecols=0).tolist()
    assert steps == list(range(128, 513, 128))  # every evaluation exactly once
    assert json.loads((run / "run.json").read_text())["status"] == "done"
    assert Path(run / "weights" / "policy.safetensors").stat().st_size > 0


@pytest.mark.parametrize(("algo", "policy"), [("RecurrentPPO", "RecurrentCfCPolicy"), ("PPO", "NCPActorCriticPolicy")])
def test_package_policies_of_sb3_algorithms_train_as_runs_with_timespans(tmp_path, algo, policy):
    """The package's policies for SB3 and sb3-contrib train from a run configuration by class name, on envs
    that carry each step's timespan; loading and evaluating the run on the bare env works."""
    from ncp_control.agents.common.eval_policies import ModelPolicy
    from ncp_control.agents.common.evaluation import run_episodes
    from ncp_control.agents.timespan_obs import TIMESPAN_KEY

    params = {"n_steps": 32, "batch_size": 32, "n_epochs": 1, "policy_kwargs": {"units": 8}}
    config = RunConfig("Pendulum-v1", policy=policy, algo=algo, timesteps=32, hyperparams=params,
                       checkpoint_freq=0, eval_freq=32, eval_episodes=1, normalize={"norm_reward": False})
    trained = train_run(config, tmp_path / "run")
    assert TIMESPAN_KEY in trained.observation_space.spaces
    assert trained.get_vec_normalize_env().norm_obs_keys == ["observation"]  # the timespan is not normalised
    model, info = load_model(tmp_path / "run", "Pendulum-v1")
    assert info["policy"] == policy
    rows = run_episodes(ModelPolicy(model), lambda: gym.make("Pendulum-v1", max_episode_steps=5), [0])
    assert len(rows) == 1 and np.isfinite(rows[0]["return"])


def test_unknown_policy_of_an_algorithm_is_one_clear_error():
    with pytest.raises(ValueError, match=r"policy 'RecurrentCfCPolicy' is not a policy of PPO; choose one of .*NCPActorCriticPolicy"):
        RunConfig("Pendulum-v1", policy="RecurrentCfCPolicy", algo="PPO").validate()
