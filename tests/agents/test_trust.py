"""Nothing loaded by default runs code from a file: poisoned SB3 zips, VecNormalize and
replay-buffer pickles are refused by every loader and command without ``--trust-pickle``
(and their code never runs); weights-only model states round-trip the whole trainable state."""

from __future__ import annotations

import base64
import json
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from ncp_control.agents.export import open_policy
from ncp_control.agents.model_state import restore_state, save_state
from ncp_control.agents.runs import RunConfig, RunFolder, load_model, train_run
from ncp_control.cli.cli import main
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

torch.set_num_threads(1)
ENV = "Pendulum-v1"


class Payload:
    """Creates its marker file when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def poison_zip(source: Path, target: Path, marker: Path) -> Path:
    """A copy of an SB3 zip whose ``data`` carries a pickle that creates ``marker`` when
    unpickled, and an extra pickled entry."""
    with zipfile.ZipFile(source) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(entries["data"])
    data["policy_class"][":serialized:"] = base64.b64encode(pickle.dumps(Payload(marker))).decode()
    entries["data"] = json.dumps(data).encode()
    entries["extra.pkl"] = pickle.dumps(Payload(marker))
    with zipfile.ZipFile(target, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return target


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished weights-only LiquidPPO run, the same with poisoned zips beside its weights-only
    files, an earlier version's run (only pickled zips and a replay-buffer pickle), a bare
    poisoned zip and a poisoned VecNormalize pickle; all poisons touch ``marker``."""
    root = tmp_path_factory.mktemp("trust")
    marker = root / "code-ran"
    config = RunConfig(ENV, policy="CfCPolicy", algo="LiquidPPO", timesteps=32, checkpoint_freq=16, eval_freq=0,
                       hyperparams={"n_steps": 16, "batch_size": 16, "seq_len": 8, "n_epochs": 1,
                                    "policy_kwargs": {"units": 6}})
    model = train_run(config, root / "run")
    clean_zip = root / "clean.zip"
    model.save(clean_zip)
    bare = poison_zip(clean_zip, root / "model.zip", marker)
    mixed = root / "mixed"
    shutil.copytree(root / "run", mixed)
    shutil.copy(bare, mixed / "model.zip")
    shutil.copy(bare, mixed / "checkpoints" / "step_000000000016.zip")
    legacy = root / "legacy"
    shutil.copytree(root / "run", legacy)
    for path in [legacy / "model", legacy / "weights", *legacy.glob("checkpoints/step_*")]:
        shutil.rmtree(path)
    shutil.copy(bare, legacy / "model.zip")
    shutil.copy(bare, legacy / "checkpoints" / "step_000000000016.zip")
    (legacy / "checkpoints" / "replay_buffer.pkl").write_bytes(pickle.dumps(Payload(marker)))
    unfinished = root / "unfinished"
    shutil.copytree(legacy, unfinished)
    (unfinished / "model.zip").unlink()
    RunFolder(unfinished).write_info(status="running")
    vecnormalize = root / "vecnormalize.pkl"
    vecnormalize.write_bytes(pickle.dumps(Payload(marker)))
    return {"root": root, "marker": marker, "run": root / "run", "mixed": mixed, "legacy": legacy,
            "unfinished": unfinished, "zip": bare, "vecnormalize": vecnormalize}


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    assert "--trust-pickle" in err and "arbitrary code" in err, err
    return err


def test_loaders_refuse_pickles_by_default(runs: dict[str, Path]) -> None:
    marker = runs["marker"]
    for target in (runs["zip"], runs["legacy"], runs["legacy"] / "model.zip", runs["unfinished"]):
        with pytest.raises(ValueError, match="--trust-pickle"):
            load_model(target, ENV)
        with pytest.raises(ValueError, match="--trust-pickle"):
            open_policy(target)
    with pytest.raises(ValueError, match="--trust-pickle"):  # resuming an earlier version's run
        train_run(RunFolder(runs["unfinished"]).config(), runs["unfinished"])
    with pytest.raises(ValueError, match="--trust-pickle"):  # a finished one is loaded, not trained
        train_run(RunFolder(runs["legacy"]).config(), runs["legacy"])
    # weights-only files win over poisoned zips beside them
    model, info = load_model(runs["mixed"], ENV)
    assert info["algo"] == "LiquidPPO" and model.num_timesteps == 32
    load_model(runs["mixed"] / "checkpoints" / "step_000000000032")
    open_policy(runs["mixed"])
    assert not marker.exists()


def test_commands_refuse_pickles_by_default(runs: dict[str, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    marker, bare = runs["marker"], str(runs["zip"])
    for target in (bare, str(runs["legacy"])):
        _refused(["evaluate", target, "--env", ENV, "--episodes", "1"], capsys)
        _refused(["robustness", target, "--env", ENV, "--suite", "timing", "--episodes", "1",
                  "--out", str(tmp_path / "rob"), "--no-progress"], capsys)
        _refused(["inspect", target, "--env", ENV, "--out", str(tmp_path / "inspect")], capsys)
        _refused(["export", target, "--format", "onnx", "--out", str(tmp_path / "p.onnx"), "--no-latency"], capsys)
    _refused(["train", "--resume", str(runs["unfinished"]), "--no-progress"], capsys)
    _refused(["export", str(runs["run"]), "--vecnormalize", str(runs["vecnormalize"]), "--format", "onnx",
              "--out", str(tmp_path / "p.onnx"), "--no-latency"], capsys)
    assert not marker.exists()
    # a weights-only run with poisoned zips beside it: every command reads the weights-only files
    mixed = str(runs["mixed"])
    assert main(["evaluate", mixed, "--episodes", "1"]) == 0
    assert main(["export", mixed, "--format", "torchscript", "--out", str(tmp_path / "p.pt"), "--no-latency"]) == 0
    assert main(["inspect", mixed, "--steps", "5", "--out", str(tmp_path / "inspect")]) == 0
    assert not marker.exists()


def test_the_poison_is_live_and_the_flag_opens_it(runs: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    bad = poison_zip(runs["root"] / "clean.zip", tmp_path / "model.zip", marker)
    main(["evaluate", str(bad), "--env", ENV, "--episodes", "1", "--trust-pickle"])
    assert marker.exists()  # the same file does run code once the user trusts it


def test_trust_flag_help_says_what_it_means(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("evaluate", "robustness", "inspect", "export", "train"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--trust-pickle" in text and "Unpickling can run arbitrary code" in text, command


def test_model_state_round_trips_optimizers_buffers_and_statistics(tmp_path: Path) -> None:
    venv = VecNormalize(make_vec_env(ENV, n_envs=2, seed=0))
    sac = SAC("MlpPolicy", venv, learning_starts=16, buffer_size=200, batch_size=8, seed=0)
    sac.learn(48)
    folder = save_state(sac, tmp_path / "sac", {"note": "test"}, replay_buffer=True)
    assert sorted(p.name for p in folder.iterdir()) == ["state.json", "state.safetensors"]
    fresh_env = VecNormalize(make_vec_env(ENV, n_envs=2, seed=1))
    fresh = restore_state(SAC("MlpPolicy", fresh_env, learning_starts=16, buffer_size=200, batch_size=8, seed=1),
                          folder)
    assert fresh.num_timesteps == sac.num_timesteps and fresh._n_updates == sac._n_updates
    for name in ("policy", "actor.optimizer", "critic.optimizer", "ent_coef_optimizer"):
        _assert_same(_get(sac, name).state_dict(), _get(fresh, name).state_dict())
    assert torch.equal(sac.log_ent_coef, fresh.log_ent_coef)
    end = sac.replay_buffer.pos
    for name in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        np.testing.assert_array_equal(getattr(fresh.replay_buffer, name)[:end], getattr(sac.replay_buffer, name)[:end])
    assert fresh.replay_buffer.pos == end
    np.testing.assert_array_equal(fresh_env.obs_rms.mean, venv.obs_rms.mean)
    np.testing.assert_array_equal(fresh_env.ret_rms.var, venv.ret_rms.var)
    with pytest.raises(ValueError, match="holds a SAC state, not PPO"):
        restore_state(PPO("MlpPolicy", ENV, n_steps=8, batch_size=8), folder)
    (folder / "state.safetensors").write_bytes(pickle.dumps(Payload(tmp_path / "ran")))
    with pytest.raises(ValueError, match="not a safetensors file"):
        restore_state(fresh, folder)
    assert not (tmp_path / "ran").exists()


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _assert_same(a: Any, b: Any) -> None:
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


def test_sac_run_resumes_with_its_replay_buffer_and_no_pickle(tmp_path: Path) -> None:
    run = tmp_path / "sac"
    config = RunConfig(ENV, policy="MlpPolicy", algo="SAC", timesteps=64, checkpoint_freq=32, eval_freq=0,
                       hyperparams={"learning_starts": 16, "buffer_size": 500, "batch_size": 8})
    train_run(config, run)
    folder = RunFolder.open(run)
    stored = folder.config()
    stored.timesteps = 96  # as if the run had been cut off after its checkpoint at step 64
    (run / "config.yaml").write_text(yaml.safe_dump(stored.__dict__))
    folder.write_info(status="running")
    shutil.rmtree(run / "model")
    model = train_run(config, run)
    assert model.num_timesteps == 96
    # the checkpoint at step 64 is taken between two rollouts and holds all 64 transitions; without
    # them the buffer would hold only the 32 new ones
    assert model.replay_buffer.pos == 64 + 32
    assert not list(run.rglob("*.pkl")) and not list(run.rglob("*.zip"))
