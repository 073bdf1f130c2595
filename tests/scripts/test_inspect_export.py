"""``ncp-control inspect`` and ``ncp-control export`` end to end, and the export benchmark."""

from __future__ import annotations

from pathlib import Path

import ncp_control.envs  # noqa: F401 - registers NCPControl/*
import numpy as np
import pytest
import torch
from ncp_control.agents import LiquidPPO, load_policy
from ncp_control.agents.export import model_onestep
from ncp_control.cli.cli import main

from ncp_control.export import OnnxPolicy

ENV = "NCPControl/PendulumNoVel-v1"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model_zip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LiquidPPO]:
    model = LiquidPPO("LTCPolicy", ENV, n_steps=16, batch_size=16, seq_len=8, seed=0,
                      policy_kwargs={"units": 10, "cell_kwargs": {"ode_unfolds": 2}})
    path = tmp_path_factory.mktemp("model") / "model.zip"
    model.save(path)
    return path, model


def test_export_formats_and_inspect(model_zip: tuple[Path, LiquidPPO], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path, model = model_zip
    assert main(["export", str(path), "--format", "onnx", "--out", str(tmp_path / "p.onnx"), "--repeats", "20"]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    assert main(["export", str(path), "--format", "onnx", "--out", str(tmp_path / "p.onnx"), "--repeats", "20",
                 "--trust-pickle"]) == 0
    out = capsys.readouterr().out
    assert "onnxruntime" in out and "eager" in out and "us" in out
    obs, h, dt = torch.randn(3, 2), torch.zeros(3, 10), torch.full((3,), 0.05)
    with torch.no_grad():
        expected = model_onestep(model)(obs, h, dt)[0].numpy()
    np.testing.assert_allclose(OnnxPolicy(tmp_path / "p.onnx")(obs.numpy(), h.numpy(), dt.numpy())[0], expected, atol=1e-5)

    assert main(["export", str(path), "--format", "torchscript", "--out", str(tmp_path / "p.pt"), "--no-latency",
                 "--trust-pickle"]) == 0
    assert (tmp_path / "p.pt").is_file()

    assert main(["export", str(path), "--format", "safetensors", "--out", str(tmp_path / "w"), "--trust-pickle"]) == 0
    action, _ = load_policy(tmp_path / "w").predict(obs.numpy(), dt=0.05)
    np.testing.assert_allclose(action, expected, atol=1e-6)
    capsys.readouterr()

    assert main(["inspect", str(tmp_path / "w"), "--env", ENV, "--steps", "30", "--out", str(tmp_path / "i")]) == 0
    out = capsys.readouterr().out
    wiring = model.policy.actor_net.wiring
    total = wiring.synapse_count + wiring.sensory_synapse_count
    assert f"synapses: {total} ({wiring.sensory_synapse_count} sensory, {wiring.synapse_count} between neurons)" in out
    assert "PC1 share" in out and "30 steps" in out
    for name in ("wiring.png", "traces.png", "pca.png"):
        assert (tmp_path / "i" / name).read_bytes()[:8] == PNG


def test_inspect_expressivity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["inspect", "expressivity", "--widths", "4", "8", "--depth", "2", "--seeds", "0", "--steps", "30",
            "--networks", "mlp", "ctrnn", "--out", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "w8 d2" in out and out.count("\nmlp") == 1 and "ctrnn" in out
    assert (tmp_path / "expressivity.png").read_bytes()[:8] == PNG


def test_user_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(tmp_path / "missing"), "--format", "onnx"]) == 2
    assert main(["inspect", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "no run folder" in err


def test_bench_export_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from ncp_control.cli.bench_export import main as bench

    assert bench(["--networks", "cfc", "--turns", "1", "--repeats", "3"]) == 0
    out = capsys.readouterr().out
    for name in ("sb3 predict", "eager", "torchscript", "onnxruntime"):
        assert name in out
