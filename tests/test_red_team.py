"""Red team (issue 16): every bad input found by a demanding user, as a test that failed before its fix.

Each test names the finding. Longer end-to-end versions live beside the code they test
(tests/scripts/test_train_cli.py, tests/agents/test_recipes.py, test_run_lifecycle.py, test_sweep.py).
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers NCPControl/ ids)
from agents.recipes import hyperparams_file
from agents.runs import RunConfig, load_hyperparams, new_model
from agents.sweep import parse_sweep
from envs.perturbations import make as make_perturbation
from ncp_control.errors import UserError
from scripts.cli import main

TINY = {"n_steps": 32, "batch_size": 32, "seq_len": 16, "n_epochs": 1}


# ---------------------------------------------------------------- the command line and recipes
def test_normalize_of_a_shipped_recipe_builds_on_the_run_path():
    params = load_hyperparams(hyperparams_file(), "NCPControl/PendulumNoVel-v1", "CfCPolicy")
    normalize = params.pop("normalize")
    for key in ("n_envs", "n_timesteps", "policy"):
        params.pop(key)
    model = new_model(RunConfig("NCPControl/PendulumNoVel-v1", hyperparams={**params, **TINY}, normalize=normalize))
    assert model.get_vec_normalize_env() is not None and model.get_vec_normalize_env().norm_obs


def test_rl_zoo_normalize_and_env_kwargs_are_understood(tmp_path):
    path = tmp_path / "hp.yml"
    path.write_text("Pendulum-v1:\n  normalize: true\n  env_kwargs: {g: 9.0}\n  n_envs: 2\n")
    params = load_hyperparams(path, "Pendulum-v1")
    assert params["normalize"] == {"norm_obs": True, "norm_reward": True} and params["env_kwargs"] == {"g": 9.0}


def test_shared_seq_len_does_not_reach_sb3_ppo():
    spec = {"envs": ["Pendulum-v1"], "policies": ["CfCPolicy", {"name": "ppo", "policy": "MlpPolicy", "algo": "PPO"}],
            "hyperparams": {"seq_len": 16, "n_steps": 64}}
    ppo = parse_sweep(spec).jobs[1]
    assert ppo.config.hyperparams == {"n_steps": 64}


def test_a_failed_start_writes_nothing(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "Pendulum-v1", "--policy", "CfCPolicyy", "--out", str(out), "--no-progress"]) == 2
    assert not out.exists()


def test_internal_value_errors_are_not_user_errors(monkeypatch, tmp_path):
    def bug(*_args, **_kwargs):
        raise ValueError("axes don't match array")

    monkeypatch.setattr("scripts.commands.train.train_run", bug)
    with pytest.raises(ValueError, match="axes"):
        main(["train", "Pendulum-v1", "--policy", "MlpPolicy", "--out", str(tmp_path / "r"), "--no-progress"])


def test_yaml_syntax_error_in_train_is_one_line(tmp_path, capsys):
    bad = tmp_path / "hp.yml"
    bad.write_text("n_steps: [64\n")
    assert main(["train", "Pendulum-v1", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not valid YAML" in err and "\n" not in err


def test_bad_env_kwarg_types_are_one_line(tmp_path, capsys):
    assert main(["train", "NCPControl/LaneKeeping-v0", "--env-kwargs", "{speed: fast}", "--out",
                 str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "env_kwargs" in err and "\n" not in err


@pytest.mark.parametrize("key, value", [("seeds", "zero"), ("episodes", 1.5), ("hyperparams", [1])])
def test_sweep_keys_of_the_wrong_type(key, value):
    with pytest.raises(UserError, match=f"'{key}'"):
        parse_sweep({"envs": ["Pendulum-v1"], "policies": ["CfCPolicy"], key: value})


# ---------------------------------------------------------------- silent wrong results: envs
@pytest.mark.parametrize("env_id, name, value", [
    ("NCPControl/QuadHover-v0", "mass", float("nan")),
    ("NCPControl/QuadHover-v0", "mass", 0.0),
    ("NCPControl/QuadHover-v0", "mass", -0.03),
    ("NCPControl/LaneKeeping-v0", "steering_gain", -1.0),
    ("NCPControl/LaneKeeping-v0", "tyre_friction", float("nan")),
])
def test_impossible_physical_parameters_are_refused(env_id, name, value):
    env = gym.make(env_id)
    nominal = env.unwrapped.physical_params()[name]
    with pytest.raises(ValueError, match=name):
        env.unwrapped.set_physical_params(**{name: np.full(nominal.shape, value)})
    np.testing.assert_array_equal(env.unwrapped.physical_params()[name], nominal)


@pytest.mark.parametrize("env_id", ["NCPControl/QuadHover-v0", "NCPControl/LaneKeeping-v0"])
def test_nan_and_wrong_length_actions_are_refused(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    size = env.action_space.shape[0]
    with pytest.raises(ValueError, match="finite"):
        env.step(np.full(size, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match=f"must have {size} values"):
        env.step(np.zeros(size + 1, dtype=np.float32))


def test_palette_on_a_state_observation_is_refused():
    env = gym.make("NCPControl/LaneKeeping-v0")
    with pytest.raises(ValueError, match="only camera images"):
        make_perturbation(env, "palette", level=1.0)


# ---------------------------------------------------------------- the device
def test_liquid_ppo_defaults_to_the_cpu_and_warns_on_cuda():
    from agents import LiquidPPO

    model = LiquidPPO("CfCPolicy", "Pendulum-v1", **TINY)
    assert model.device.type == "cpu"
    with pytest.warns(UserWarning, match="CUDA"):
        from agents.device import recurrent_device

        recurrent_device("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert recurrent_device("cpu") == "cpu"
