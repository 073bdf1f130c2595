"""``ncp-control train``: every shipped recipe with every alias, failed starts, user errors and env_kwargs."""

from __future__ import annotations

import errno
import json

import pytest
import torch
from ncp_control.agents.recipes import shipped_tasks
from ncp_control.agents.runs import RunFolder
from ncp_control.cli.cli import main

ALIASES = ["CfCPolicy", "LTCPolicy", "CTRNNPolicy", "LSTMPolicy", "GRUPolicy", "MlpPolicy"]
QUIET = ["--eval-freq", "0", "--checkpoint-freq", "0", "--no-progress"]
TINY = "n_steps: 32\nbatch_size: 32\nn_epochs: 1\nseq_len: 16\n"


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("env_id", shipped_tasks())
def test_every_shipped_recipe_trains_from_the_command_line_with_every_alias(tmp_path, env_id):
    # a tiny budget: one rollout of the recipe's n_steps in one env, one update
    for alias in ALIASES:
        out = tmp_path / alias
        assert main(["train", env_id, "--policy", alias, "--timesteps", "1", "--n-envs", "1", "--out", str(out),
                     *QUIET]) == 0
        info = RunFolder.open(out).info()
        assert info["status"] == "done" and info["policy"] == alias


@pytest.mark.parametrize(("algo", "env_id"), [("LiquidSAC", env) for env in shipped_tasks("liquid_sac")]
                         + [("LiquidTD3", env) for env in shipped_tasks("liquid_td3")])
def test_every_shipped_off_policy_recipe_trains_from_the_command_line_with_every_alias(tmp_path, capsys, algo, env_id):
    # a tiny budget: a few random steps into the replay buffer, no update
    for alias in ALIASES:
        out = tmp_path / alias
        assert main(["train", env_id, "--algo", algo, "--policy", alias, "--timesteps", "4", "--out", str(out),
                     *QUIET]) == 0
        info = RunFolder.open(out).info()
        assert info["status"] == "done" and info["policy"] == alias and info["algo"] == algo
    file = {"LiquidSAC": "liquid_sac.yml", "LiquidTD3": "liquid_td3.yml"}[algo]
    assert file in capsys.readouterr().out  # the algorithm's tuned recipe, not LiquidPPO's


def test_n_envs_and_timesteps_of_the_command_line_win_over_the_config(tmp_path):
    config = tmp_path / "hp.yaml"
    config.write_text("Pendulum-v1:\n  n_envs: 4\n  n_timesteps: 100000\n  policy: MlpPolicy\n" +
                      "".join(f"  {line}\n" for line in TINY.splitlines()))
    out = tmp_path / "run"
    assert main(["train", "Pendulum-v1", "--config", str(config), "--n-envs", "2", "--timesteps", "64",
                 "--out", str(out), *QUIET]) == 0
    stored = RunFolder.open(out).config()
    assert (stored.n_envs, stored.timesteps, stored.policy) == (2, 64, "MlpPolicy")


@pytest.mark.parametrize("args, match", [
    (["--policy", "CfCPolicyy"], "policy 'CfCPolicyy' is not a policy of LiquidPPO (did you mean CfCPolicy?)"),
    (["--seed", "-1"], "seed must be in"),
    (["--env-kwargs", "{nope: 1}"], "does not accept env_kwargs"),
    (["--config", "BAD"], "not arguments of LiquidPPO (did you mean clip_rnage -> clip_range?)"),
])
def test_a_failed_start_leaves_no_run_folder_and_the_fix_starts_cleanly(tmp_path, capsys, args, match):
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY + "clip_rnage: 0.2\n")
    args = [str(bad) if a == "BAD" else a for a in args]
    out = tmp_path / "run"
    assert main(["train", "Pendulum-v1", "--timesteps", "32", "--out", str(out), *args, *QUIET]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ncp-control: error:") and match in err and "\n" not in err
    assert not out.exists()
    good = tmp_path / "good.yaml"
    good.write_text(TINY)
    assert main(["train", "Pendulum-v1", "--policy", "MlpPolicy", "--config", str(good), "--timesteps", "32",
                 "--out", str(out), *QUIET]) == 0
    assert RunFolder.open(out).is_done()


def test_debug_shows_the_traceback_and_internal_errors_are_not_user_errors(tmp_path, monkeypatch):
    from ncp_control.errors import UserError

    with pytest.raises(UserError, match="seed must be in"):
        main(["--debug", "train", "Pendulum-v1", "--seed", "-1", "--out", str(tmp_path / "r")])

    def bug(*_args, **_kwargs):
        raise ValueError("operands could not be broadcast together")  # a bug, not the user's mistake

    monkeypatch.setattr("ncp_control.cli.commands.train.train_run", bug)
    with pytest.raises(ValueError, match="broadcast"):
        main(["train", "Pendulum-v1", "--policy", "MlpPolicy", "--out", str(tmp_path / "r"), *QUIET])


def test_unwritable_folder_and_full_disk_give_one_line_and_leave_nothing(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    config = tmp_path / "hp.yaml"
    config.write_text(TINY)
    base = ["train", "Pendulum-v1", "--policy", "MlpPolicy", "--config", str(config), "--timesteps", "32", *QUIET]
    assert main([*base, "--out", str(blocker / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "cannot write the run folder" in err and "\n" not in err

    import ncp_control.agents.common.files as files

    real_replace = files.os.replace

    def full_disk(src, dst):
        if str(dst).endswith("run.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", full_disk)
    out = tmp_path / "run"
    assert main([*base, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "No space left on device" in err and "\n" not in err
    assert not out.exists()  # no half-made run folder, no .tmp files


def test_env_kwargs_travel_with_the_run(tmp_path, capsys):
    config = tmp_path / "hp.yaml"
    config.write_text(TINY + "policy_kwargs: {units: 8}\n")
    out = tmp_path / "run"
    kwargs = "{preview_distances: [0.0, 20.0], route_length: 60.0}"
    assert main(["train", "NCPControl/LaneKeeping-v0", "--policy", "CfCPolicy", "--config", str(config),
                 "--env-kwargs", kwargs, "--timesteps", "32", "--out", str(out), *QUIET]) == 0
    stored = RunFolder.open(out).config()
    assert stored.env_kwargs == {"preview_distances": [0.0, 20.0], "route_length": 60.0}
    assert json.loads((out / "weights" / "config.json").read_text())["extra"]["env_kwargs"] == stored.env_kwargs
    capsys.readouterr()
    assert main(["evaluate", str(out), "--episodes", "1"]) == 0
    assert "return" in capsys.readouterr().out
    assert main(["robustness", str(out), "--suite", "timing", "--levels", "0.5", "--episodes", "1",
                 "--out", str(tmp_path / "rob"), "--no-progress"]) == 0
    assert main(["inspect", str(out), "--steps", "20", "--out", str(tmp_path / "insp")]) == 0
    assert (tmp_path / "insp" / "traces.png").is_file()
