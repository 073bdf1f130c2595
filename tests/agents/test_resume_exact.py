"""A run killed at a checkpoint and resumed ends with the weights of the uninterrupted run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from ncp_control.agents.model_state import read_streams
from ncp_control.agents.runs import RunConfig, RunFolder, train_run
from ncp_control.agents.runs.callbacks import CheckpointCallback
from ncp_control.agents.runs.train import _stored_steps

LIQUID = {"n_steps": 32, "batch_size": 32, "seq_len": 16, "n_epochs": 2, "policy_kwargs": {"units": 8}}


class Killed(Exception):
    """Stands in for a SIGKILL right after a checkpoint."""


def _config(env_id: str, policy: str, algo: str, hyperparams: dict[str, Any], n_envs: int = 2) -> RunConfig:
    return RunConfig(env_id, policy=policy, algo=algo, timesteps=256, hyperparams=hyperparams, n_envs=n_envs,
                     checkpoint_freq=64, eval_freq=0, seed=3)


def _weights(model: Any) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.policy.state_dict().items()}


@pytest.mark.parametrize("env_id, policy, algo, hyperparams", [
    ("Pendulum-v1", "CfCPolicy", "LiquidPPO", LIQUID),
    ("NCPControl/QuadHover-v0", "LTCPolicy", "LiquidPPO", LIQUID),
    ("NCPControl/LaneKeeping-v0", "CTRNNPolicy", "LiquidPPO", LIQUID),
    ("CartPole-v1", "MlpPolicy", "PPO", {"n_steps": 32, "batch_size": 32, "n_epochs": 2}),
    ("NCPControl/PendulumNoVel-v1", "CfCPolicy", "LiquidSAC",
     {"learning_starts": 40, "batch_size": 16, "seq_len": 8, "burn_in": 4, "policy_kwargs": {"units": 8, "q_head": [16]}}),
    ("NCPControl/PendulumNoVel-v1", "CfCPolicy", "LiquidTD3",
     {"learning_starts": 40, "batch_size": 16, "seq_len": 8, "burn_in": 4, "noise_type": "ornstein-uhlenbeck", "noise_std": 0.1,
      "policy_kwargs": {"units": 8, "q_head": [16]}}),
    ("CartPole-v1", "MlpLstmPolicy", "RecurrentPPO",
     {"n_steps": 32, "batch_size": 32, "n_epochs": 2, "policy_kwargs": {"lstm_hidden_size": 8}}),
])
def test_resumed_run_ends_with_the_weights_of_the_uninterrupted_run(tmp_path, monkeypatch, env_id, policy, algo,
                                                                     hyperparams):
    torch.set_num_threads(1)
    config = _config(env_id, policy, algo, hyperparams)
    whole = _weights(train_run(config, tmp_path / "whole"))

    saved = CheckpointCallback._checkpoint_if_due

    def killed_after_the_second_checkpoint(self: CheckpointCallback) -> None:
        saved(self)
        if len(self.folder.checkpoint_paths()) == 2:
            raise Killed

    monkeypatch.setattr(CheckpointCallback, "_checkpoint_if_due", killed_after_the_second_checkpoint)
    with pytest.raises(Killed):
        train_run(config, tmp_path / "cut")
    monkeypatch.setattr(CheckpointCallback, "_checkpoint_if_due", saved)
    folder = RunFolder.open(tmp_path / "cut")
    newest = folder.checkpoint_paths()[-1]
    assert not folder.is_done() and newest.name == "step_000000000128"
    assert read_streams(newest) is not None
    assert [_stored_steps(path) for path in folder.checkpoint_paths()] == [64, 128]  # resumed from the newest
    torch.manual_seed(12345)  # the process that resumes is in another state: the checkpoint decides
    np.random.seed(12345)
    resumed = train_run(config, tmp_path / "cut")
    assert resumed.num_timesteps == 256
    cut = _weights(resumed)
    assert set(cut) == set(whole)
    for key in whole:
        np.testing.assert_array_equal(cut[key], whole[key], err_msg=key)


SAC_TINY = {"learning_starts": 40, "batch_size": 16, "seq_len": 8, "burn_in": 4, "policy_kwargs": {"units": 8, "q_head": [16]}}


@pytest.mark.parametrize("env_id, algo, hyperparams", [
    ("Pendulum-v1", "LiquidPPO", LIQUID),  # constant schedules
    ("NCPControl/PendulumNoVel-v1", "LiquidSAC", SAC_TINY),  # the final model keeps the replay buffer
    ("NCPControl/PendulumNoVel-v1", "LiquidTD3", SAC_TINY),
])
def test_an_extended_run_ends_with_the_weights_of_a_run_with_that_budget(tmp_path, env_id, algo, hyperparams):
    from ncp_control.agents.runs import extend_run

    torch.set_num_threads(1)
    config = _config(env_id, "CfCPolicy", algo, hyperparams)
    config.checkpoint_freq = 0  # the finished run's model/ is all there is to go on from
    whole = _weights(train_run(config, tmp_path / "whole"))
    config.timesteps = 128
    train_run(config, tmp_path / "short")
    extend_run(tmp_path / "short", 256)
    extended = train_run(config, tmp_path / "short")
    assert extended.num_timesteps == 256
    cut = _weights(extended)
    for key in whole:
        np.testing.assert_array_equal(cut[key], whole[key], err_msg=key)
