"""Watching from the command line: two runs and the reference side by side under a shift, with
neurons; camera lane keeping through train, evaluate, robustness, inspect and export."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pandas as pd
import pytest
from ncp_control.agents import load_policy
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.runs import RunFolder, load_model
from ncp_control.agents.watch.compose import GAP
from ncp_control.agents.watch.neurons import MIN_HEIGHT, PANEL_WIDTH
from ncp_control.agents.watch.overlay import header_height
from ncp_control.cli.cli import main
from PIL import Image

from ncp_control.export import OnnxPolicy

LANE = "NCPControl/LaneKeeping-v0"
PNG = b"\x89PNG\r\n\x1a\n"
#: short roads keep the episodes short
SHORT = "route_length=60"
QUIET = ["--no-progress", "--eval-freq", "0", "--checkpoint-freq", "0"]


def test_two_runs_and_the_reference_side_by_side_under_a_shift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for policy in ("CfCPolicy", "MlpPolicy"):
        out = tmp_path / policy
        assert main(["train", LANE, "--policy", policy, "--env-kwargs", SHORT, "--timesteps", "64", "--out", str(out),
                     *QUIET]) == 0
        runs.append(str(out))
    video = tmp_path / "compare.mp4"
    capsys.readouterr()
    assert main(["evaluate", *runs, "reference", "--episodes", "2", "--max-steps", "20", "--perturb", "friction:0.5",
                 "--render", str(video), "--neurons", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "perturbations: friction:0.5" in printed
    assert all(f"  {name}" in printed for name in ("CfCPolicy", "MlpPolicy", "reference"))
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    assert meta["fps"] == pytest.approx(20.0)  # lane keeping's control rate
    frames = sum(1 for _ in reader)
    assert frames >= 2 and f"{frames} frames at 20 fps" in printed
    # three 256 x 768 frames with overlays and neuron panels: one per row (a row is at most 1920 pixels)
    cell = (max(header_height() + 256, MIN_HEIGHT), 768 + PANEL_WIDTH)
    assert meta["size"] == (cell[1], 3 * cell[0] + 2 * GAP)
    # a perturbation the env does not take, and --neurons without a video, are one-line errors
    assert main(["evaluate", runs[0], "--perturb", "palette:1", "--episodes", "1"]) == 2
    assert main(["evaluate", runs[0], "--perturb", "nosuch:1"]) == 2
    assert main(["evaluate", runs[0], "--neurons"]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and "--perturb" in errors[0] and "palette" in errors[0]
    assert "unknown perturbation 'nosuch'" in errors[1] and "--render" in errors[2]


def test_camera_lane_keeping_through_every_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "camera"
    assert main(["train", LANE, "--env-kwargs", f"observation=camera,{SHORT}", "--n-envs", "1", "--timesteps", "128",
                 "--out", str(run), "--no-progress", "--eval-freq", "128", "--eval-episodes", "1",
                 "--checkpoint-freq", "128"]) == 0
    assert "lane_keeping_camera.yml" in capsys.readouterr().out  # the shipped camera recipe
    config = RunFolder.open(run).config()
    assert config.env_kwargs == {"observation": "camera", "route_length": 60}
    assert config.hyperparams["learning_rate"] == 3e-4 and config.policy == "CfCPolicy"
    assert (run / "checkpoints" / "step_000000000128" / "state.safetensors").is_file()

    # evaluate: the camera run beside the (privileged) reference, in winter at night, neurons shown
    gif = tmp_path / "night.gif"
    assert main(["evaluate", str(run), "reference", "--episodes", "1", "--max-steps", "8", "--perturb", "palette:1",
                 "--render", str(gif), "--neurons", "--no-progress"]) == 0
    with Image.open(gif) as image:
        assert image.info["duration"] == 50 and image.size[0] == 768 + PANEL_WIDTH
    # robustness: the visual suite, the reference included
    out = tmp_path / "robustness"
    assert main(["robustness", str(run), "--suite", "visual", "--levels", "1", "--episodes", "1", "--reference",
                 "--out", str(out), "--no-progress"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert set(table["model"]) == {"CfCPolicy", "reference", "random"}
    assert "palette" in set(table["perturbation"]) and "image_noise" in set(table["perturbation"])
    # inspect: summary, wiring, traces of a camera episode (the sensory side is the CNN's features)
    capsys.readouterr()
    assert main(["inspect", str(run), "--steps", "10", "--out", str(tmp_path / "inspect")]) == 0
    assert "features extractor" in capsys.readouterr().out
    for name in ("wiring.png", "traces.png"):
        assert (tmp_path / "inspect" / name).read_bytes()[:8] == PNG
    # export: ONNX and weights-only policies take the env's [H, W, 3] images and act as the model does
    env = make_env(LANE, config.env_kwargs)
    obs, _ = env.reset(seed=4)
    env.close()
    model, _ = load_model(run)
    expected, _ = model.predict(obs[None], episode_start=np.ones(1), deterministic=True, dt=np.full(1, 0.05))
    onnx = tmp_path / "policy.onnx"
    assert main(["export", str(run), "--format", "onnx", "--out", str(onnx), "--repeats", "3"]) == 0
    assert "obs [B, 48, 96, 3]" in capsys.readouterr().out
    state = np.zeros((1, load_policy(run).state_size), np.float32)
    action, _ = OnnxPolicy(onnx)(obs[None], state, np.full(1, 0.05, np.float32))
    np.testing.assert_allclose(action, expected, atol=1e-5)
    weights = tmp_path / "weights"
    assert main(["export", str(run / "model"), "--format", "safetensors", "--out", str(weights)]) == 0
    deployed = load_policy(weights)
    assert deployed.observation_space.shape == (48, 96, 3)
    np.testing.assert_allclose(deployed.predict(obs[None], dt=0.05)[0], expected, atol=1e-5)
    np.testing.assert_allclose(load_policy(run).predict(obs[None], dt=0.05)[0], expected, atol=1e-5)  # the run's own
    assert main(["inspect", str(weights), "--steps", "5", "--out", str(tmp_path / "inspect2")]) == 0  # env travels along
