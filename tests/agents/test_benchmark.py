"""The learning benchmark: agent names, resumable results, the summary's statistics, a tiny run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ncp_control.agents.benchmark import (
    RunKey,
    append_result,
    at_budget,
    done_keys,
    parse_agent,
    read_results,
    summarize,
)
from ncp_control.agents.robustness.bootstrap import iqm
from ncp_control.cli.bench_learning import main

from ncp_control.errors import UserError


def test_parse_agent_names_algorithm_and_policy() -> None:
    assert parse_agent("LiquidPPO:CfCPolicy") == ("LiquidPPO", "CfCPolicy")
    assert parse_agent("RecurrentPPO:RecurrentCfCPolicy") == ("RecurrentPPO", "RecurrentCfCPolicy")
    with pytest.raises(ValueError, match="agent must be one of"):
        parse_agent("LiquidPPO:NoSuchPolicy")
    with pytest.raises(ValueError, match="agent must be one of"):
        parse_agent("CfCPolicy")


def _record(agent: str, seed: int, value: float, reached: float | None = None) -> dict:
    key = RunKey("NCPControl/CartPoleNoVel-v1", agent, "none", seed, 1000, "default")
    return {**key.as_dict(), "mean_return": value, "train_seconds": 10.0 + seed, "curve": [],
            "seconds_to_threshold": reached}


def test_summary_reports_every_seed_the_iqm_and_time_to_threshold() -> None:
    values = [100.0, 500.0, 480.0, 20.0, 490.0]
    records = [_record("LiquidPPO:CfCPolicy", seed, v, 30.0 + seed if v >= 475 else None) for seed, v in enumerate(values)]
    records.append(_record("LiquidPPO:LSTMPolicy", 0, 300.0))
    rows = summarize(records, reps=500)
    assert [row["agent"] for row in rows] == ["LiquidPPO:CfCPolicy", "LiquidPPO:LSTMPolicy"]
    cfc = rows[0]
    assert cfc["seeds"] == dict(enumerate(values))
    assert cfc["iqm"] == pytest.approx(iqm(np.array(values)))
    assert cfc["ci"][0] <= cfc["iqm"] <= cfc["ci"][1]
    assert cfc["solved"] == "3/5" and cfc["median_seconds_to_threshold"] == pytest.approx(32.0)
    assert cfc["train_seconds"] == pytest.approx(12.0)


def test_runs_of_other_budgets_compare_at_a_common_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``at_budget`` reads a run's curve at a number of steps; ``--at-steps`` summarises runs of
    several files and budgets there, and names the runs without an evaluation at it."""
    long = {**_record("LiquidPPO:CfCPolicy", 0, -300.0), "env_id": "NCPControl/PendulumNoVel-v1", "normalize": "zoo",
            "steps": 100, "curve": [[50, 5.0, -240.0], [100, 11.0, -300.0]]}
    assert at_budget(long, 50, threshold=-250.0) == {**long, "steps": 50, "mean_return": -240.0, "train_seconds": 5.0,
                                                      "seconds_to_threshold": 5.0}
    assert at_budget(long, 60) is None and at_budget(long, 100)["mean_return"] == -300.0  # type: ignore[index]
    short = {**long, "agent": "LiquidSAC:CfCPolicy", "steps": 50, "curve": [[25, 2.0, -900.0], [50, 4.0, -180.0]]}
    coarse = {**long, "seed": 1, "curve": [[100, 10.0, -200.0]]}
    first, second = tmp_path / "ppo.jsonl", tmp_path / "sac.jsonl"
    append_result(first, long)
    append_result(first, coarse)
    append_result(second, short)
    assert main(["--env", "NCPControl/PendulumNoVel-v1", "--agents", "LiquidPPO:CfCPolicy", "LiquidSAC:CfCPolicy",
                 "--normalize", "zoo", "--no-train", "--at-steps", "50", "--results", str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "LiquidPPO:CfCPolicy seed 1 (100 steps)" in out  # no evaluation at 50 steps
    assert "IQM -240.0" in out and "IQM -180.0" in out and "50 steps" in out
    with pytest.raises(UserError, match="--at-steps summarises runs already made"):
        main(["--at-steps", "50", "--results", str(first)])


def test_results_file_appends_and_knows_finished_runs(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    assert read_results(path) == []
    append_result(path, _record("LiquidPPO:CfCPolicy", 0, 1.0))
    append_result(path, _record("LiquidPPO:CfCPolicy", 1, 2.0))
    records = read_results(path)
    assert [r["seed"] for r in records] == [0, 1]
    key = RunKey("NCPControl/CartPoleNoVel-v1", "LiquidPPO:CfCPolicy", "none", 1, 1000, "default")
    assert key.as_tuple() in done_keys(records)


def test_bench_learning_runs_resumes_and_prints_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "r.jsonl"
    argv = ["--agents", "LiquidPPO:CfCPolicy", "RecurrentPPO:MlpLstmPolicy", "--seeds", "0", "--normalize", "zoo",
            "--steps", "256", "--eval-episodes", "1", "--eval-every", "128", "--results", str(results)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0 of 2 runs already" in out
    for agent in ("LiquidPPO:CfCPolicy", "RecurrentPPO:MlpLstmPolicy"):  # a line per evaluation: long runs show progress
        assert f"{agent} norm=zoo seed 0: 128 of 256 steps, return " in out
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(r["agent"] for r in lines) == ["LiquidPPO:CfCPolicy", "RecurrentPPO:MlpLstmPolicy"]
    assert all([point[0] for point in r["curve"]] == [128, 256] for r in lines)  # the end measured once
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 of 2 runs already" in out and "IQM" in out and "LiquidPPO:CfCPolicy" in out
    assert len(results.read_text().splitlines()) == 2
    assert main([*argv[:-2], "--seeds", "0", "1", "--results", str(results), "--no-train", "--markdown"]) == 0
    out, err = capsys.readouterr()
    assert "| LiquidPPO:CfCPolicy | zoo | 0: " in out and len(results.read_text().splitlines()) == 2
    assert "2 of 4 runs in " in out and "the other 2 not trained (--no-train)" in out
    assert "training" not in err  # no progress bar over nothing


def test_bench_learning_refuses_unknown_agents() -> None:
    with pytest.raises(ValueError, match="agent must be one of"):
        main(["--agents", "LiquidPPO:Nope", "--results", "/nonexistent/never-written.jsonl"])


def test_every_agent_gets_the_recipes_exploration_but_not_the_anchors_network() -> None:
    from ncp_control.agents.benchmark import build_agent

    liquid = build_agent("LiquidPPO:CfCPolicy", "HalfCheetah-v5", 0, "none")
    assert float(liquid.policy.log_std.detach().mean()) == -2.0 and liquid.policy.actor_head == [64, 64]  # not [256, 256]
    adapter = build_agent("RecurrentPPO:RecurrentCfCPolicy", "HalfCheetah-v5", 0, "none")
    assert float(adapter.policy.log_std.detach().mean()) == -2.0
    lstm = build_agent("LiquidPPO:LSTMPolicy", "HalfCheetah-v5", 0, "none")
    assert float(lstm.policy.log_std.detach().mean()) == -2.0
    anchor = build_agent("PPO:MlpPolicy", "HalfCheetah-v5", 0, "none")
    assert float(anchor.policy.log_std.detach().mean()) == -2.0
    cartpole = build_agent("LiquidPPO:CfCPolicy", "NCPControl/CartPoleNoVel-v1", 0, "none")
    assert cartpole.policy.log_std_init == 0.0


def test_off_policy_agents_train_on_the_zoos_sac_recipe_without_its_ppo_normalisation() -> None:
    from ncp_control.agents import LiquidSAC
    from ncp_control.agents.benchmark import build_agent, recipe_of
    from stable_baselines3 import SAC
    from stable_baselines3.common.vec_env import VecNormalize

    assert recipe_of("NCPControl/PendulumNoVel-v1", "LiquidSAC").n_timesteps == 50_000
    assert recipe_of("NCPControl/PendulumNoVel-v1", "LiquidPPO").n_timesteps == 100_000
    for agent, cls in (("LiquidSAC:CfCPolicy", LiquidSAC), ("SAC:MlpPolicy", SAC)):
        model = build_agent(agent, "NCPControl/PendulumNoVel-v1", 0, "zoo")
        assert isinstance(model, cls) and model.learning_rate == 1e-3
        assert not isinstance(model.get_env(), VecNormalize)  # the zoo's SAC recipe normalises nothing
    with pytest.raises(ValueError, match="no SAC recipe"):
        recipe_of("NCPControl/CartPoleNoVel-v1", "LiquidSAC")


def test_td3_agents_train_on_the_zoos_td3_recipe_with_its_exploration_noise() -> None:
    from ncp_control.agents import LiquidTD3
    from ncp_control.agents.benchmark import build_agent, recipe_of
    from stable_baselines3 import TD3
    from stable_baselines3.common.noise import NormalActionNoise

    assert recipe_of("Pendulum-v1", "TD3").n_timesteps == 20_000
    for agent, cls in (("LiquidTD3:CfCPolicy", LiquidTD3), ("TD3:MlpPolicy", TD3)):
        model = build_agent(agent, "NCPControl/PendulumNoVel-v1", 0, "zoo")
        assert isinstance(model, cls) and (model.gamma, model.learning_starts, model.buffer_size) == (0.98, 10_000, 200_000)
        assert isinstance(model.action_noise, NormalActionNoise)
        np.testing.assert_array_equal(model.action_noise._sigma, [0.1])
    with pytest.raises(ValueError, match="no TD3 recipe"):
        recipe_of("HalfCheetah-v5", "LiquidTD3")


class _Stopped(Exception):
    pass


@pytest.mark.parametrize(("env_id", "agent", "steps", "every"), [
    ("NCPControl/PendulumNoVel-v1", "LiquidSAC:CfCPolicy", 240, 160),
    ("NCPControl/PendulumNoVel-v1", "SAC:MlpPolicy", 240, 160),
    ("NCPControl/CartPoleNoVel-v1", "LiquidPPO:CfCPolicy", 768, 256),
    ("NCPControl/CartPoleNoVel-v1", "RecurrentPPO:MlpLstmPolicy", 768, 256),
])
def test_a_run_stopped_part_way_resumes_from_its_checkpoint_as_if_never_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env_id: str, agent: str, steps: int, every: int) -> None:
    from ncp_control.agents.benchmark import train_and_measure
    from ncp_control.agents.benchmark_resume import RunCheckpoints, checkpoint_folder

    key = RunKey(env_id, agent, "zoo", 0, steps, "default")
    lines: list[str] = []
    whole = train_and_measure(key, 1, every, checkpoints=tmp_path / "whole", checkpoint_every=every,
                              report=lines.append)
    label = f"  {agent} norm=zoo seed 0: "
    assert any(line.startswith(f"{label}checkpoint at ") for line in lines), lines  # progress of a long run
    assert any(line.startswith(f"{label}{every} of {steps} steps, return ") for line in lines), lines
    save = RunCheckpoints.save

    def save_then_stop(self: RunCheckpoints, *args: object) -> None:
        save(self, *args)  # type: ignore[arg-type]
        raise _Stopped

    monkeypatch.setattr(RunCheckpoints, "save", save_then_stop)
    with pytest.raises(_Stopped):
        train_and_measure(key, 1, every, checkpoints=tmp_path / "parts", checkpoint_every=every)
    monkeypatch.setattr(RunCheckpoints, "save", save)
    assert (checkpoint_folder(tmp_path / "parts", key.as_dict()) / "state.json").is_file()
    resumed_lines: list[str] = []
    resumed = train_and_measure(key, 1, every, checkpoints=tmp_path / "parts", checkpoint_every=every,
                                report=resumed_lines.append)
    assert resumed_lines[0].startswith(f"{label}resumed at step "), resumed_lines
    assert [point[0] for point in resumed["curve"]] == [point[0] for point in whole["curve"]]
    assert [point[2] for point in resumed["curve"]] == [point[2] for point in whole["curve"]]
    assert len(whole["curve"]) >= 2
    steps_measured = [point[0] for point in whole["curve"]]
    assert steps_measured == sorted(set(steps_measured)) and steps_measured[-1] == steps  # the end measured once
    assert resumed["mean_return"] == whole["mean_return"]


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    from ncp_control.agents.benchmark import build_agent
    from ncp_control.agents.benchmark_resume import RunCheckpoints, RunProgress, checkpoint_folder

    key = RunKey("NCPControl/PendulumNoVel-v1", "SAC:MlpPolicy", "zoo", 0, 1000, "default")
    model = build_agent(key.agent, key.env_id, 0, "zoo")
    RunCheckpoints(tmp_path, key.as_dict(), 100).save(model, RunProgress())
    other = {**key.as_dict(), "seed": 1}
    checkpoint_folder(tmp_path, key.as_dict()).rename(checkpoint_folder(tmp_path, other))
    with pytest.raises(UserError, match="is the checkpoint of .* delete"):
        RunCheckpoints(tmp_path, other, 100).resume(model)
    with pytest.raises(UserError, match="--checkpoint-every must be >= 0"):
        RunCheckpoints(tmp_path, key.as_dict(), -1)
