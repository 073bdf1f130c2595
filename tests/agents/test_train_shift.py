"""Training under shift: one option for the CLI, recipes, run configs and sweeps; draws per
reset from the env's seed; the run folder records it; the report marks seen levels."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from ncp_control.agents.recipes import parse_recipe, training_env
from ncp_control.agents.robustness.report import write_report
from ncp_control.agents.robustness.seen import SEEN, mark_seen
from ncp_control.agents.runs import RunConfig, RunFolder, load_model
from ncp_control.agents.sweep import parse_sweep
from ncp_control.cli.commands import train as train_command
from ncp_control.envs.perturbations import ShiftRandomization, parse_train_shift
from ncp_control.envs.perturbations.train_shift import seen_in_training

from ncp_control.errors import UserError

LANE = "NCPControl/LaneKeeping-v0"


@pytest.mark.parametrize("text, message", [("nosuch:2", "unknown suite or perturbation 'nosuch'"),
                                           ("timing:2", r"MAX_LEVEL must be in \(0, 1\]"),
                                           ("timing:x", "must be a number"), ("", "SUITE_OR_NAME")])
def test_bad_train_shift_names_the_option(text: str, message: str) -> None:
    with pytest.raises(UserError, match=f"--train-shift.*{message}"):
        parse_train_shift(text)


def test_draws_follow_the_env_seed_and_restore_the_env() -> None:
    import ncp_control.envs  # noqa: F401

    def episodes(seed: int) -> list[tuple[str, float, float]]:
        env = ShiftRandomization(gym.make(LANE), ["timing:0.5", "mass"])
        drawn = []
        for index in range(6):
            _, info = env.reset(seed=seed if index == 0 else None)
            _, _, _, _, step_info = env.step(np.zeros(1, np.float32))
            drawn.append((info["train_shift"]["perturbation"], info["train_shift"]["level"], step_info["dt"]))
        env.close()
        return drawn

    first = episodes(3)
    assert first == episodes(3) and first != episodes(4)
    assert {name for name, _, _ in first} <= {"control_rate", "dt_jitter", "mass"}
    assert all(0.0 <= level <= (0.5 if name != "mass" else 1.0) for name, level, _ in first)


def test_recipe_run_config_and_sweep_take_train_shift() -> None:
    recipe = parse_recipe({"n_steps": 64, "train_shift": ["timing:0.5"]}, None, "test")
    assert recipe.train_shift == ["timing:0.5"] and recipe.flat()["train_shift"] == ["timing:0.5"]
    config = RunConfig(env_id=LANE, train_shift=["dt_jitter"])
    config.validate()
    assert RunConfig.from_dict(json.loads(json.dumps(config.__dict__))).train_shift == ["dt_jitter:1"]
    with pytest.raises(UserError, match="--train-shift nosuch"):
        RunConfig(env_id=LANE, train_shift=["nosuch:2"]).validate()
    sweep = parse_sweep({"envs": [LANE], "policies": ["MlpPolicy", {"name": "dr", "policy": "MlpPolicy",
                                                                    "train_shift": "timing:0.5"}]})
    assert [job.config.train_shift for job in sweep.jobs] == [[], ["timing:0.5"]]
    venv = training_env(LANE, 2, 0, train_shift=["timing"])
    assert venv.env_is_wrapped(ShiftRandomization) == [True, True]


def test_cli_train_records_train_shift_in_the_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = argparse.Namespace(resume=None, env=LANE, config=None, policy="MlpPolicy", algo="LiquidPPO",
                              timesteps=64, seed=0, n_envs=1, env_kwargs=None, checkpoint_freq=0, eval_freq=0,
                              eval_episodes=1, out=str(out), no_progress=True, train_shift=["timing:0.5", "mass"],
                              trust_pickle=False)
    assert train_command.run(args) == 0
    assert RunFolder.open(out).config().train_shift == ["timing:0.5", "mass:1"]
    assert "timing:0.5" in (out / "config.yaml").read_text()
    _, info = load_model(out)
    assert info["train_shift"] == ["timing:0.5", "mass:1"]


def test_report_marks_levels_seen_in_training(tmp_path: Path) -> None:
    cells = pd.DataFrame({"model": ["dr", "dr", "dr", "nominal"], "perturbation": ["none", "dt_jitter", "dt_jitter",
                                                                                 "dt_jitter"],
                          "level": [0.0, 0.5, 1.0, 0.5]})
    assert mark_seen(cells, {"dr": ["timing:0.5"]})[SEEN].tolist() == [True, True, False, False]
    assert seen_in_training([], "none", 0.0) and not seen_in_training([parse_train_shift("mass")], "gust", 0.1)
    rows = []
    for model in ("dr", "random"):
        for perturbation, family, level in (("none", "none", 0.0), ("dt_jitter", "timing", 0.5),
                                            ("dt_jitter", "timing", 1.0)):
            if model == "random" and perturbation != "none":
                continue
            for seed in range(2):
                rows.append({"model": model, "train_seed": 0 if model == "dr" else None, "env_id": LANE,
                             "suite": "timing", "perturbation": perturbation, "family": family, "level": level,
                             "seed": seed, "return": 10.0 - level + seed if model == "dr" else 1.0, "success": 1.0,
                             "crash": 0.0, "length": 10, "action_smoothness": 0.1, "tracking_error": 0.1})
    written = write_report(pd.DataFrame(rows), tmp_path, reps=50, train_shifts={"dr": ["timing:0.5"]})
    table = pd.read_csv(tmp_path / "cells.csv")
    assert table.loc[table["model"] == "dr", SEEN].tolist() == [True, True, False]
    assert any(path.suffix == ".png" for path in written["plots"])
