"""The one reader of the rl-zoo recipe format: keys, refusals, and one behaviour for every caller."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from ncp_control.agents.common.eval_policies import ModelPolicy
from ncp_control.agents.recipes import (
    hyperparams_file,
    read_recipe,
    shipped_recipe,
    shipped_tasks,
    training_env,
)
from ncp_control.agents.runs import RunConfig, load_hyperparams, load_model, train_run
from ncp_control.agents.zoo import make_tuned, tuned
from stable_baselines3.common.vec_env import VecNormalize

from ncp_control.errors import UserError

ALIASES = ["CfCPolicy", "LTCPolicy", "CTRNNPolicy", "LSTMPolicy", "GRUPolicy", "MlpPolicy"]


def _write(tmp_path, text: str):
    path = tmp_path / "hp.yml"
    path.write_text(text)
    return path


def test_rl_zoo_keys_are_understood(tmp_path):
    path = _write(tmp_path, "Pendulum-v1:\n  n_envs: 4\n  n_timesteps: !!float 2e4\n  policy: MlpPolicy\n"
                            "  gamma: 0.95\n  normalize: \"dict(norm_obs=True, norm_reward=False)\"\n"
                            "  env_kwargs: \"dict(g=9.0)\"\n  n_steps: 64\n")
    recipe = read_recipe(path, "Pendulum-v1")
    assert (recipe.n_envs, recipe.n_timesteps, recipe.policy) == (4, 20_000, "MlpPolicy")
    assert recipe.normalize == {"norm_obs": True, "norm_reward": False, "gamma": 0.95}
    assert recipe.env_kwargs == {"g": 9.0}
    assert recipe.hyperparams == {"gamma": 0.95, "n_steps": 64}
    path = _write(tmp_path, "normalize_reward: true\ngamma: 0.9\nenv_kwargs: {g: 9.0}\n")
    recipe = read_recipe(path, "Pendulum-v1")
    assert recipe.normalize == {"norm_obs": False, "norm_reward": True, "gamma": 0.9}
    assert recipe.env_kwargs == {"g": 9.0} and recipe.n_envs is None


@pytest.mark.parametrize("text, match", [
    ("frame_stack: 4\n", "frame_stack is not supported"),
    ("env_wrapper: gymnasium.wrappers.TimeLimit\n", "env_wrapper is not supported"),
    ("callback: x.Y\n", "callback is not supported"),
    ("normalize: 3\n", "normalize must be true/false"),
    ("normalize: {norm_obs: true, center: 1}\n", "unknown VecNormalize options"),
    ("normalize: true\nnormalize_reward: true\n", "not both"),
    ("normalize: \"dict(gamma=__import__('os'))\"\n", "not allowed"),
    ("env_kwargs: \"dict(g=__import__('os').system('true'))\"\n", "not allowed"),
    ("n_envs: two\n", "n_envs must be a positive whole number"),
    ("n_envs: 0\n", "n_envs must be a positive whole number"),
    ("policy: [CfCPolicy]\n", "policy must be a policy alias"),
    ("a: [1\n", "is not valid YAML"),
])
def test_bad_recipes_raise_one_user_error(tmp_path, text, match):
    with pytest.raises(UserError, match=match):
        read_recipe(_write(tmp_path, text), "Pendulum-v1")


def test_make_tuned_and_load_hyperparams_read_the_same_recipe():
    for env_id in shipped_tasks():
        for alias in ALIASES:
            recipe = shipped_recipe(env_id, alias)
            flat = load_hyperparams(hyperparams_file(), env_id, alias)
            table = tuned(env_id, policy=alias)
            assert {k: v for k, v in flat.items() if k not in ("n_envs", "n_timesteps", "policy", "normalize")} \
                == recipe.hyperparams
            assert flat.get("normalize") == table.get("normalize") == (recipe.normalize or None)
            assert table["n_envs"] == flat["n_envs"] == recipe.n_envs


def test_shipped_normalize_builds_the_zoo_vecnormalize():
    raw = yaml.safe_load(hyperparams_file().read_text())
    for env_id in shipped_tasks():
        model, _ = make_tuned(env_id)
        env = model.get_env()
        assert isinstance(env, VecNormalize) == bool(raw[env_id].get("normalize"))
        if isinstance(env, VecNormalize):
            assert env.norm_obs and env.norm_reward and env.gamma == pytest.approx(raw[env_id]["gamma"])
        env.close()


def test_training_env_and_run_config_validation():
    env = training_env("Pendulum-v1", 2, 3, {"g": 9.0}, {"norm_obs": True, "norm_reward": False, "clip_obs": 5.0})
    assert isinstance(env, VecNormalize) and env.num_envs == 2 and env.clip_obs == 5.0
    assert env.get_attr("g") == [9.0, 9.0]
    env.close()
    with pytest.raises(UserError, match=r"hyperparams \['seq_len'\] are not arguments of PPO"):
        RunConfig("Pendulum-v1", "MlpPolicy", "PPO", hyperparams={"seq_len": 16}).validate()
    with pytest.raises(UserError, match="normalize: unknown VecNormalize options"):
        RunConfig("Pendulum-v1", normalize={"nope": 1}).validate()
    with pytest.raises(UserError, match="env_kwargs"):
        RunConfig("Pendulum-v1", env_kwargs={"g": object()}).validate()


def test_a_run_with_observation_normalisation_is_evaluated_with_its_statistics(tmp_path):
    config = RunConfig("Pendulum-v1", "MlpPolicy", "PPO", timesteps=128, hyperparams={"n_steps": 128, "batch_size": 64,
                       "n_epochs": 1}, normalize={"norm_obs": True, "norm_reward": True}, checkpoint_freq=0,
                       eval_freq=128, eval_episodes=1)
    trained = train_run(config, tmp_path / "run")
    stats = trained.get_vec_normalize_env()
    assert stats is not None and stats.obs_rms.count > 100
    model, _ = load_model(tmp_path / "run", "Pendulum-v1")
    loaded = model.get_vec_normalize_env()
    assert loaded is not None
    np.testing.assert_array_equal(loaded.obs_rms.mean, stats.obs_rms.mean)
    obs = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    policy = ModelPolicy(model)
    expected = trained.predict(stats.normalize_obs(obs), deterministic=True)[0]
    np.testing.assert_array_equal(policy.act(obs, np.ones(4, bool), np.full(4, 0.05)), expected)
