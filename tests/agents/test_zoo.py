"""Shipped hyperparameters: every entry builds a model; schedules decay linearly."""

from __future__ import annotations

import ncp_control.envs  # noqa: F401  (registers NCPControl/ ids)
import pytest
import yaml
from ncp_control.agents import LiquidPPO
from ncp_control.agents.zoo import hyperparams_file, make_tuned, tuned


def test_every_shipped_entry_builds_a_model() -> None:
    table = yaml.safe_load(hyperparams_file().read_text())
    assert {"NCPControl/CartPoleNoVel-v1", "NCPControl/PendulumNoVel-v1", "HalfCheetah-v5"} <= set(table)
    for env_id in table:
        model, budget = make_tuned(env_id)
        assert isinstance(model, LiquidPPO) and budget == int(float(table[env_id]["n_timesteps"]))
        assert model.n_steps % model.seq_len == 0 and model.batch_size % model.seq_len == 0
        env = model.get_vec_normalize_env()
        assert env is not None and env.norm_obs and env.norm_reward  # the zoo's normalize: true
        assert env.gamma == pytest.approx(table[env_id]["gamma"])


def test_lin_schedules_decay_to_zero_and_tuned_model_has_budget() -> None:
    params = tuned("NCPControl/CartPoleNoVel-v1")
    assert params["learning_rate"](1.0) == pytest.approx(1e-3) and params["learning_rate"](0.0) == 0.0
    assert params["clip_range"](0.5) == pytest.approx(0.1)
    model, budget = make_tuned("NCPControl/CartPoleNoVel-v1", seed=3, policy="LSTMPolicy")
    assert budget == 100_000 and model.n_envs == params["n_envs"] and type(model.policy).__name__ == "LSTMPolicy"
    assert model.time_unit == pytest.approx(0.02)  # the env's own control period


def test_unknown_task_or_algo_raise() -> None:
    with pytest.raises(ValueError, match="no tuned hyperparameters"):
        tuned("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="no hyperparameters for algo"):
        hyperparams_file("dqn")


def test_shipped_recipes_are_the_zoo_recipes_without_per_policy_workarounds() -> None:
    """Each entry is the rl-baselines3-zoo recipe of the task (ncp_control.agents.benchmark.ZOO_RECIPES, the
    anchor's own), normalisation included, with no per-policy overrides; the one documented change
    (the learning page, PendulumNoVel-v1): PendulumNoVel explores with a diagonal Gaussian, not gSDE."""
    from ncp_control.agents.benchmark import ZOO_RECIPES

    documented = {"NCPControl/PendulumNoVel-v1": {"use_sde": False, "sde_sample_freq": None}}
    table = yaml.safe_load(hyperparams_file().read_text())
    for env_id, entry in table.items():
        zoo = ZOO_RECIPES[env_id]
        assert "policy_overrides" not in entry and entry["normalize"] is True
        assert entry["n_envs"] == zoo.n_envs and int(float(entry["n_timesteps"])) == zoo.n_timesteps
        changes = documented.get(env_id, {})
        for key, value in zoo.algo_kwargs.items():
            assert entry.get(key) == changes.get(key, value), (env_id, key)
