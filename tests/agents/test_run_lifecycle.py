"""A run's life after its start: extended with a new budget, its best model kept, rates in TensorBoard,
and its weights-only policy exported where the README says."""

from __future__ import annotations

import ncp_control.agents.runs.callbacks as run_callbacks
import numpy as np
import pytest
from ncp_control.agents.runs import RunConfig, RunFolder, extend_run, load_model, train_run
from ncp_control.cli.cli import main
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ncp_control.errors import UserError

PPO = {"n_steps": 64, "batch_size": 64, "n_epochs": 1}


def _config(timesteps: int, **extra) -> RunConfig:
    return RunConfig("Pendulum-v1", "MlpPolicy", "PPO", timesteps=timesteps, hyperparams=PPO, checkpoint_freq=0,
                     eval_freq=64, eval_episodes=1, **extra)


def test_resume_with_timesteps_extends_a_finished_run(tmp_path):
    run = tmp_path / "run"
    train_run(_config(128), run)
    assert main(["train", "--resume", str(run), "--timesteps", "256", "--no-progress"]) == 0
    folder = RunFolder.open(run)
    assert folder.is_done() and folder.info()["timesteps"] == 256 and folder.config().timesteps == 256
    assert load_model(run)[0].num_timesteps == 256  # continued from the final model, not from scratch
    assert np.loadtxt(run / "eval.csv", delimiter=",", skiprows=1, usecols=0).tolist() == [64, 128, 192, 256]
    with pytest.raises(UserError, match="less than the 256 steps"):
        extend_run(run, 100)


def test_best_model_is_kept_and_rates_reach_tensorboard(tmp_path, monkeypatch):
    scores = iter([1.0, 3.0, 2.0])

    def fake_episodes(policy, make, seeds):
        score = next(scores)
        return [{"return": score, "success": 1.0, "crash": 0.0, "length": 1} for _ in seeds]

    monkeypatch.setattr(run_callbacks, "run_episodes", fake_episodes)
    run = tmp_path / "run"
    train_run(_config(192), run)
    best, _ = load_model(run / "best_model")
    assert best.num_timesteps == 128  # the evaluation of return 3, not the last one
    events = EventAccumulator(str(next((run / "tb").iterdir()))).Reload()
    tags = set(events.Tags()["scalars"])
    assert {"eval/mean_return", "eval/success_rate", "eval/crash_rate"} <= tags
    assert [e.value for e in events.Scalars("eval/success_rate")][:2] == [1.0, 1.0]


def test_export_safetensors_of_a_run_writes_its_policy_where_the_readme_says(tmp_path):
    run = tmp_path / "run"
    train_run(RunConfig("Pendulum-v1", "MlpPolicy", "LiquidPPO", timesteps=64, hyperparams={
        "n_steps": 64, "batch_size": 64, "seq_len": 16, "n_epochs": 1}, checkpoint_freq=0, eval_freq=0), run)
    assert main(["export", str(run), "--format", "safetensors", "--repeats", "1"]) == 0
    from ncp_control.agents import load_policy

    exported, original = load_policy(run / "export" / "weights"), load_policy(run / "weights")
    obs = np.zeros((1, 3), dtype=np.float32)
    np.testing.assert_array_equal(exported.predict(obs)[0], original.predict(obs)[0])
