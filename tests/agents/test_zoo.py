"""Shipped hyperparameters: every entry builds a model; schedules decay linearly."""

from __future__ import annotations

import pytest
import yaml
from stable_baselines3.common.vec_env import VecNormalize

import envs  # noqa: F401  (registers NCPControl/ ids)
from agents import LiquidPPO
from agents.zoo import hyperparams_file, make_tuned, tuned


def test_every_shipped_entry_builds_a_model() -> None:
    table = yaml.safe_load(hyperparams_file().read_text())
    assert {"NCPControl/CartPoleNoVel-v1", "NCPControl/PendulumNoVel-v1", "HalfCheetah-v5"} <= set(table)
    for env_id in table:
        model, budget = make_tuned(env_id)
        assert isinstance(model, LiquidPPO) and budget == int(float(table[env_id]["n_timesteps"]))
        assert model.n_steps % model.seq_len == 0 and model.batch_size % model.seq_len == 0
        assert isinstance(model.get_env(), VecNormalize) == bool(table[env_id].get("normalize_reward", False))


def test_lin_schedules_decay_to_zero_and_tuned_model_has_budget() -> None:
    params = tuned("NCPControl/CartPoleNoVel-v1")
    assert params["learning_rate"](1.0) == pytest.approx(1e-3) and params["learning_rate"](0.0) == 0.0
    assert params["clip_range"](0.5) == pytest.approx(0.1)
    model, budget = make_tuned("NCPControl/CartPoleNoVel-v1", seed=3, policy="LSTMPolicy")
    assert budget == 100_000 and model.n_envs == params["n_envs"] and type(model.policy).__name__ == "LSTMPolicy"
    assert model.dt_nominal == pytest.approx(0.2)  # the recipe's time unit (the env's period is 0.02 s)


def test_unknown_task_or_algo_raise() -> None:
    with pytest.raises(ValueError, match="no tuned hyperparameters"):
        tuned("NoSuchEnv-v0")
    with pytest.raises(ValueError, match="no hyperparameters for algo"):
        hyperparams_file("dqn")


def test_shipped_policy_overrides() -> None:
    cfc = tuned("NCPControl/CartPoleNoVel-v1")
    ltc = tuned("NCPControl/CartPoleNoVel-v1", policy="LTCPolicy")
    ctrnn = tuned("NCPControl/CartPoleNoVel-v1", policy="CTRNNPolicy")
    assert cfc["dt_nominal"] == ltc["dt_nominal"] == 0.2 and ctrnn["dt_nominal"] == 0.02
    assert ltc["learning_rate"](1.0) == pytest.approx(2e-3) and cfc["learning_rate"](1.0) == pytest.approx(1e-3)
    assert ltc["policy_kwargs"] == {**cfc["policy_kwargs"], "critic": "mlp"}
    assert "policy_overrides" not in cfc
    model, _ = make_tuned("NCPControl/CartPoleNoVel-v1", policy="LTCPolicy")
    assert model.policy.critic == "mlp" and model.dt_nominal == pytest.approx(0.2)
