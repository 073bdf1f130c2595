"""Sweeps: grid expansion, retry and failure reporting, SIGKILL resume, and the Ray backend."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from ncp_control.agents.runs import load_model
from ncp_control.agents.sweep import load_sweep, parse_sweep, run_sweep

GOOD = {"name": "ppo", "policy": "MlpPolicy", "algo": "PPO",
        "hyperparams": {"n_steps": 128, "batch_size": 64, "n_epochs": 1}}


def _spec(**extra):
    spec = {"envs": ["Pendulum-v1"], "policies": [GOOD], "seeds": [0], "timesteps": 128, "checkpoint_freq": 128,
            "suites": ["timing"], "levels": [1.0], "episodes": 1}
    spec.update(extra)
    return spec


def test_grid_expansion_and_validation(tmp_path):
    config = parse_sweep(_spec(policies=["CfCPolicy", GOOD], seeds=[0, 1, 2], hyperparams={"n_steps": 32}))
    assert len(config.jobs) == 6
    assert len({job.job_id for job in config.jobs}) == 6
    cfc = [job for job in config.jobs if job.model == "CfCPolicy"][0]
    assert cfc.config.algo == "LiquidPPO" and cfc.config.hyperparams == {"n_steps": 32}
    ppo = [job for job in config.jobs if job.model == "ppo"][0]
    assert ppo.config.hyperparams["n_steps"] == 128  # per-policy settings win
    with pytest.raises(ValueError, match="unknown sweep keys"):
        parse_sweep(_spec(worker_count=3))
    spec = _spec(budget=1e3)
    del spec["timesteps"]
    assert parse_sweep(spec).jobs[0].config.timesteps == 1000  # budget: alias of timesteps
    with pytest.raises(ValueError, match="not both"):
        parse_sweep(_spec(budget=1e3))
    with pytest.raises(ValueError, match="unique"):
        parse_sweep(_spec(policies=[GOOD, GOOD]))
    with pytest.raises(ValueError, match="unknown algorithm"):
        parse_sweep(_spec(policies=[{"policy": "MlpPolicy", "algo": "DQNN"}]))
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_spec()))
    assert [j.job_id for j in load_sweep(path).jobs] == ["Pendulum-v1__ppo__seed0"]


def test_failing_job_is_retried_once_and_reported(tmp_path, monkeypatch):
    import ncp_control.agents.sweep.backends as backends

    from ncp_control.errors import UserError

    real_run_job = backends.run_job

    def flaky(job, root, *args):  # one job fails for a reason that may pass, one on its configuration
        if job.model == "bad":
            raise RuntimeError("worker lost")
        if job.model == "wrong":
            raise UserError("a configuration error")
        return real_run_job(job, root, *args)

    monkeypatch.setattr(backends, "run_job", flaky)
    bad, wrong = {**GOOD, "name": "bad"}, {**GOOD, "name": "wrong"}
    report = run_sweep(parse_sweep(_spec(policies=[GOOD, bad, wrong])), tmp_path, workers=1, progress=False)
    assert report.done == ["Pendulum-v1__ppo__seed0"]
    assert sorted(report.failed) == ["Pendulum-v1__bad__seed0", "Pendulum-v1__wrong__seed0"]
    assert "worker lost" in report.failed["Pendulum-v1__bad__seed0"]
    state = json.loads((tmp_path / "sweep_state.json").read_text())
    assert state["Pendulum-v1__bad__seed0"]["attempts"] == 2
    assert state["Pendulum-v1__wrong__seed0"]["attempts"] == 1  # a configuration error is not retried
    monkeypatch.setattr(backends, "run_job", real_run_job)
    tmp_path = tmp_path / "first"
    run_sweep(parse_sweep(_spec()), tmp_path, workers=1, progress=False)
    report = run_sweep(parse_sweep(_spec()), tmp_path, workers=1, progress=False)
    table = pd.read_csv(report.results)
    assert set(table["model"]) == {"ppo", "random"}
    assert len(table) == 1 + 3  # random clean + ppo clean, control_rate, dt_jitter at level 1
    # each job says how far it is in its run folder; the sweep's bar shows it per job
    from ncp_control.agents.progress import Progress
    from ncp_control.agents.runs import RunFolder
    from ncp_control.agents.sweep.runner import JobPoller

    folder = RunFolder(tmp_path / "runs" / "Pendulum-v1__ppo__seed0")
    assert folder.progress() == {"task": "evaluated", "done": 1, "total": 1, "unit": "suites"}
    poller = JobPoller(Progress(1, "jobs", enabled=False), {"Pendulum-v1__ppo__seed0": folder})
    assert poller.line() == "Pendulum-v1__ppo__seed0 evaluated 1/1 suites"
    folder.write_progress("training", 128, 512, "steps")
    assert poller.line() == "Pendulum-v1__ppo__seed0 training 128/512 steps"
    poller.finished("Pendulum-v1__ppo__seed0")
    assert poller.line() == ""
    # a finished sweep run again does nothing new
    again = run_sweep(parse_sweep(_spec()), tmp_path, workers=1, progress=False)
    assert again.done == ["Pendulum-v1__ppo__seed0"]
    pd.testing.assert_frame_equal(pd.read_csv(again.results), table)
    with pytest.raises(ValueError, match="other settings"):  # a changed budget is not a resume
        run_sweep(parse_sweep(_spec(timesteps=256)), tmp_path, workers=1, progress=False)
    # mistakes in the file stop the sweep before any training
    with pytest.raises(ValueError, match="unknown suite 'timin'"):
        run_sweep(parse_sweep(_spec(suites=["timin"])), tmp_path / "b", workers=1, progress=False)
    with pytest.raises(ValueError, match="unknown env id"):
        run_sweep(parse_sweep(_spec(envs=["Pendulum-v9"])), tmp_path / "c", workers=1, progress=False)
    with pytest.raises(ValueError, match="policy entry 'typo': policy 'NoSuchPolicy' is not a policy of PPO"):
        typo = {"name": "typo", "policy": "NoSuchPolicy", "algo": "PPO"}
        run_sweep(parse_sweep(_spec(policies=[GOOD, typo])), tmp_path / "d", workers=1, progress=False)
    for name in "bcd":
        assert not (tmp_path / name / "runs").exists()


def test_shared_hyperparams_are_routed_to_the_algorithms_that_take_them():
    config = parse_sweep(_spec(policies=["CfCPolicy", GOOD], hyperparams={"seq_len": 16, "n_epochs": 2}))
    cfc, ppo = config.jobs
    assert cfc.config.hyperparams == {"seq_len": 16, "n_epochs": 2}
    assert ppo.config.hyperparams == {**GOOD["hyperparams"], "n_epochs": 1}  # PPO takes no seq_len
    with pytest.raises(ValueError, match=r"shared hyperparams \['seq_lenn'\] are arguments of none"):
        parse_sweep(_spec(hyperparams={"seq_lenn": 16}))
    with pytest.raises(ValueError, match=r"hyperparams \['seq_len'\] are not arguments of PPO"):
        parse_sweep(_spec(policies=[{**GOOD, "hyperparams": {"seq_len": 16}}]))


@pytest.mark.parametrize("key, value", [("seeds", "zero"), ("timesteps", [1]), ("episodes", 1.5),
                                        ("levels", ["high"]), ("hyperparams", [1]), ("envs", [3])])
def test_sweep_keys_of_the_wrong_type_name_the_key(key, value):
    with pytest.raises(ValueError, match=f"'{key}'"):
        parse_sweep(_spec(**{key: value}))


def _check_complete(out, seeds):
    table = pd.read_csv(out / "results.csv")
    models = table[table["model"] != "random"]
    assert sorted(models["train_seed"].unique().tolist()) == seeds
    # every (job, cell, episode) exactly once: clean + 2 timing perturbations at level 1, 2 episodes
    counts = models.groupby(["train_seed", "perturbation", "level", "seed"]).size()
    assert (counts == 1).all() and len(counts) == len(seeds) * 3 * 2
    for seed in seeds:
        run = out / "runs" / f"Pendulum-v1__ppo__seed{seed}"
        assert load_model(run)[0].num_timesteps == 256
        for checkpoint in (run / "checkpoints").glob("step_*"):
            load_model(checkpoint)


@pytest.mark.slow
def test_sweep_killed_with_sigkill_resumes_every_cell_once(tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text(yaml.safe_dump(_spec(seeds=[0, 1], timesteps=256, episodes=2)))
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "ncp_control.cli", "sweep", str(config), "--out", str(out), "--workers", "2",
            "--no-progress"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    first = out / "runs" / "Pendulum-v1__ppo__seed0" / "robustness.csv"
    while time.time() < deadline and not first.exists():
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # the driver only: its workers must notice and stop
    process.wait()
    assert not (out / "results.csv").exists(), "the sweep finished before it could be killed"
    time.sleep(1.5)
    resumed = subprocess.run(argv, capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _check_complete(out, [0, 1])


@pytest.mark.slow
def test_ray_backend_on_a_local_two_cpu_instance(tmp_path, ray_exclusive):
    config = parse_sweep(_spec(seeds=[0, 1], timesteps=256, episodes=2))
    report = run_sweep(config, tmp_path, workers=2, backend="ray", progress=False)
    assert not report.failed and len(report.done) == 2
    _check_complete(tmp_path, [0, 1])
