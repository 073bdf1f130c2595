"""The whole command-line path on a tiny budget, and the one-line errors a user can cause."""

import json
import zipfile

import pandas as pd
import pytest
from ncp_control.cli.cli import main

HYPERPARAMS = "n_steps: 64\nbatch_size: 64\nseq_len: 16\nn_epochs: 2\npolicy_kwargs: \"dict(units=8)\"\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    config = root / "hp.yaml"
    config.write_text(HYPERPARAMS)
    run = root / "run"
    status = main(["train", "Pendulum-v1", "--policy", "CfCPolicy", "--timesteps", "256", "--config", str(config),
                   "--checkpoint-freq", "128", "--eval-freq", "128", "--eval-episodes", "1", "--out", str(run),
                   "--no-progress"])
    assert status == 0
    return run


def test_train_writes_a_complete_run_folder(run_dir):
    for name in ("run.json", "config.yaml", "model/state.safetensors", "model/state.json", "eval.csv",
                 "weights/policy.safetensors", "weights/config.json"):
        assert (run_dir / name).is_file(), name
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    assert json.loads((run_dir / "progress.json").read_text()) == {"task": "training", "done": 256, "total": 256,
                                                                   "unit": "steps"}
    assert list((run_dir / "tb").rglob("events.out.tfevents*"))
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("step_*"))[-1] == "step_000000000256"
    assert not list(run_dir.rglob("*.zip")) and not list(run_dir.rglob("*.pkl"))  # nothing pickled
    log = pd.read_csv(run_dir / "eval.csv")
    assert log["timesteps"].tolist() == [128, 256]


def test_evaluate_robustness_plot(run_dir, tmp_path, capsys):
    assert main(["evaluate", str(run_dir), "--episodes", "2"]) == 0
    assert "return" in capsys.readouterr().out
    out = tmp_path / "rob"
    assert main(["robustness", str(run_dir), "--suite", "timing", "--suite", "actuation", "--levels", "1.0",
                 "--episodes", "2", "--out", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out / "results.csv")
    # random: 2 clean episodes; the model: clean + 2 timing + 8 actuation perturbations at level 1, 2 episodes each
    assert len(table) == 2 + 2 * (1 + 2 + 8)
    assert set(table.loc[table["model"] != "random", "family"]) == {"none", "timing", "action"}
    assert not table.duplicated(["model", "perturbation", "level", "seed"]).any()
    assert set(table["seed"]) == {0, 1}
    plots = tmp_path / "plots"
    assert main(["plot", str(out / "results.csv"), "--out", str(plots)]) == 0
    for stem in ("retention_Pendulum-v1", "auc_Pendulum-v1"):
        for suffix in (".png", ".svg"):
            assert (plots / f"{stem}{suffix}").stat().st_size > 1000
    families = pd.read_csv(plots / "families.csv")
    assert set(families["family"]) == {"timing", "action"}


def _error(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


def test_one_line_errors(run_dir, tmp_path, capsys):
    assert "unknown env id 'NoSuchEnv-v0'" in _error(["train", "NoSuchEnv-v0", "--out", str(tmp_path / "x")], capsys)
    assert "unknown suite 'nope'" in _error(["robustness", str(run_dir), "--suite", "nope"], capsys)
    assert "not a run folder" in _error(["evaluate", str(tmp_path)], capsys)
    assert "trained for Pendulum-v1, not for NCPControl/LaneKeeping-v0" in _error(
        ["evaluate", str(run_dir), "--env", "NCPControl/LaneKeeping-v0"], capsys)
    assert "exists" in _error(["train", "Pendulum-v1", "--out", str(run_dir)], capsys)
    # a checkpoint knows its environment
    assert "trained for Pendulum-v1, not for NCPControl/CartPoleNoVel-v1" in _error(
        ["evaluate", str(run_dir / "checkpoints" / "step_000000000256"), "--env", "NCPControl/CartPoleNoVel-v1"],
        capsys)
    # a run folder written by another version
    old = tmp_path / "old"
    old.mkdir()
    info = json.loads((run_dir / "run.json").read_text())
    (old / "run.json").write_text(json.dumps({**info, "version": "0.0.3"}))
    assert "written by ncp-control 0.0.3" in _error(["evaluate", str(old)], capsys)
    # a model file that SB3 cannot read
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("data", "{not json")
    assert "--trust-pickle" in _error(["evaluate", str(broken), "--env", "Pendulum-v1"], capsys)
    assert "not a model saved by Stable-Baselines3" in _error(
        ["evaluate", str(broken), "--env", "Pendulum-v1", "--trust-pickle"], capsys)


def test_robustness_aggregates_training_seeds(run_dir, tmp_path, monkeypatch):
    import ncp_control.envs.perturbations.suites as suites

    second = tmp_path / "run_seed1"
    config = run_dir.parent / "hp.yaml"
    assert main(["train", "Pendulum-v1", "--policy", "CfCPolicy", "--timesteps", "64", "--config", str(config),
                 "--seed", "1", "--checkpoint-freq", "0", "--eval-freq", "0", "--out", str(second),
                 "--no-progress"]) == 0
    out = tmp_path / "rob"
    resolved = []
    real_suite_for = suites.suite_for
    monkeypatch.setattr(suites, "suite_for", lambda env, name: resolved.append(name) or real_suite_for(env, name))
    assert main(["robustness", str(run_dir), str(second), "--suite", "timing", "--levels", "0.5", "1.0",
                 "--episodes", "2", "--out", str(out), "--no-progress"]) == 0
    assert resolved == ["timing"]  # once for the whole command, not once per model
    table = pd.read_csv(out / "results.csv")
    assert set(table.loc[table["model"] != "random", "model"]) == {"CfCPolicy"}
    assert sorted(table.loc[table["model"] != "random", "train_seed"].unique()) == [0, 1]
    models = pd.read_csv(out / "models.csv")
    row = models[models["model"] == "CfCPolicy"].iloc[0]
    assert row["seeds"] == 2 and row["auc_low"] <= row["auc_iqm"] <= row["auc_high"]
