"""Render the figures of the README and the documentation into ``docs/_static/``.

- ``envs.png``: the lane-keeping car (road map and camera) and the quadrotor flying to its
  target (top and side views, camera), each driven by the task's reference controller, drawn
  by the environments' own numpy renderers (``render_mode="rgb_array"``).
- ``retention.png``: return retention against perturbation level for the demo's policies
  (CfC with NCP wiring, MLP) and the reference controller on lane keeping, averaged over the
  perturbations of each family, from the demo's results table.
- ``watch.png``: a still of ``ncp-control evaluate --render --neurons`` (3 s in): the demo's
  CfC-NCP policy, its neurons beside it, and the reference controller on lane keeping, both
  on the same road with the tyre friction halved; below, the quadrotor's reference controller
  flying to its target in gusts. Needs the demo's run folders (``--runs DIR``, or those of
  ``--demo DIR``).

By default the retention plot reads ``docs/results/demo_lane_keeping.csv`` (the results table
of one ``ncp-control demo`` run). ``--demo DIR`` runs ``ncp-control demo --out DIR`` first
(about 2 minutes on two cores) and plots its table instead.

Usage: ``python docs/make_figures.py [--demo DIR] [--runs DIR] [--only NAME...]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import matplotlib
import ncp_control.envs  # noqa: F401  (registers NCPControl/)
import numpy as np
import pandas as pd
from ncp_control.agents.robustness import cell_summary
from ncp_control.envs.car.controller import LaneKeepingController
from ncp_control.envs.quadrotor import ReferenceController
from PIL import Image

DOCS = Path(__file__).resolve().parent
STATIC = DOCS / "_static"
DEMO_RESULTS = DOCS / "results" / "demo_lane_keeping.csv"
MODELS = {"CfC-NCP": "#1f77b4", "MLP": "#ff7f0e", "reference": "#555555"}


def car_frame(steps: int = 120) -> np.ndarray:
    """:return: ``[H, W, 3]`` uint8: the car after ``steps`` steps of its reference controller."""
    env = gym.make("NCPControl/LaneKeeping-v0", render_mode="rgb_array")
    obs, _ = env.reset(seed=3, options={"season": "autumn", "lighting": "dusk"})
    controller = LaneKeepingController()
    for _ in range(steps):
        obs, *_ = env.step(controller(obs))
    frame = env.render()
    env.close()
    return np.asarray(frame)


def drone_frame(steps: int = 50) -> np.ndarray:
    """:return: ``[H, W, 3]`` uint8: the drone flying to its target, with two distractors."""
    env = gym.make("NCPControl/QuadFlyToTarget-v0", render_mode="rgb_array")
    env.reset(seed=1, options={"distractors": 2})
    controller = ReferenceController(env)
    for _ in range(steps):
        *_, terminated, truncated, _ = env.step(controller.act())
        if terminated or truncated:
            break
    frame = env.render()
    env.close()
    return np.asarray(frame)


def save_png(image: np.ndarray, path: Path, colours: int = 128) -> None:
    """Write ``image`` as a palette PNG (small files; the renders use few colours)."""
    Image.fromarray(image).quantize(colours, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def environments_figure(path: Path) -> None:
    """Stack the car and the drone renders into one image."""
    car, drone = car_frame(), drone_frame()
    width = max(car.shape[1], drone.shape[1])
    gap = np.full((8, width, 3), 255, dtype=np.uint8)

    def pad(image: np.ndarray) -> np.ndarray:
        out = np.full((image.shape[0], width, 3), 255, dtype=np.uint8)
        left = (width - image.shape[1]) // 2
        out[:, left:left + image.shape[1]] = image
        return out

    save_png(np.concatenate([pad(car), gap, pad(drone)]), path)


def watch_figure(runs: Path, path: Path) -> None:
    """A still of the side-by-side video: car (the demo's CfC-NCP and the reference, neurons
    shown) above the drone (the reference)."""
    import tempfile

    from ncp_control.agents.common.env_util import make_env
    from ncp_control.agents.common.eval_policies import ModelPolicy, reference_policy
    from ncp_control.agents.runs import load_model
    from ncp_control.agents.watch import Panel, watch
    from ncp_control.agents.watch.neurons import neuron_probe
    from ncp_control.envs.perturbations import compose

    def maker(env_id: str, shift: list[tuple[str, float]]):  # type: ignore[no-untyped-def]
        return lambda: compose(make_env(env_id, {"render_mode": "rgb_array"}), shift)

    lane, hover = "NCPControl/LaneKeeping-v0", "NCPControl/QuadFlyToTarget-v0"
    model, _ = load_model(runs / "NCPControl-LaneKeeping-v0__CfC-NCP__seed0")
    make_lane = maker(lane, [("friction", 0.5)])
    env = make_lane()
    probe = neuron_probe(model, env)
    env.close()
    with tempfile.TemporaryDirectory() as folder:
        car = watch([Panel("CfC-NCP (ncp-control demo)", ModelPolicy(model), make_lane, probe),
                     Panel("reference controller", reference_policy(lane), make_lane)],
                    seed=3, target=Path(folder) / "car", max_steps=60, neurons=True, max_width=4000)
        frame = np.asarray(Image.open(Path(folder) / "car" / f"frame_{car.frames - 1:05d}.png").convert("RGB"))
        cell = (frame.shape[1] - 4) // 2  # two panels of the env's frame and the neuron panel, 4 pixels apart
        car_still = frame[:, : cell + 4 + 768]  # the reference has no neurons to show: its empty panel is left out
        drone = watch([Panel("reference controller", reference_policy(hover), maker(hover, [("gust", 1.0)]))],
                      seed=1, target=Path(folder) / "drone", max_steps=60)
        drone_still = np.asarray(Image.open(Path(folder) / "drone" / f"frame_{drone.frames - 1:05d}.png")
                                 .convert("RGB"))
    width = max(car_still.shape[1], drone_still.shape[1])
    rows = []
    for still in (car_still, drone_still):
        row = np.full((still.shape[0], width, 3), 24, dtype=np.uint8)
        row[:, : still.shape[1]] = still
        rows.append(row)
    save_png(np.concatenate([rows[0], np.full((6, width, 3), 24, dtype=np.uint8), rows[1]]), path, colours=192)


def retention_figure(results: Path, path: Path) -> None:
    """Retention against level, mean over each family's perturbations, one line per model."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    cells = cell_summary(pd.read_csv(results))
    cells = cells[cells["model"].isin(MODELS) & (cells["family"] != "none")]
    families = sorted(cells["family"].unique())
    fig, axes = plt.subplots(1, len(families), figsize=(3.6 * len(families), 2.9), sharey=True, dpi=100)
    for ax, family in zip(np.atleast_1d(axes), families):
        part = cells[cells["family"] == family]
        names = sorted(part["perturbation"].unique())
        for model, colour in MODELS.items():
            curve = part[part["model"] == model].groupby("level")["retention"].mean()
            levels = np.concatenate([[0.0], curve.index.to_numpy()])
            values = np.concatenate([[1.0], curve.to_numpy()])
            ax.plot(levels, values, marker="o", ms=3, color=colour, label=model)
        ax.set_title(f"{family} ({len(names)} perturbations)", fontsize=10)
        ax.set_xlabel("perturbation level")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("retention")
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Lane keeping: return retained under shift (ncp-control demo)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", type=Path, default=None, help="run ncp-control demo into this folder first")
    parser.add_argument("--runs", type=Path, default=None, help="the demo's run folders (for watch.png)")
    parser.add_argument("--only", nargs="+", choices=["envs", "retention", "watch"], default=None,
                        help="write only these figures")
    args = parser.parse_args(argv)
    results, runs = DEMO_RESULTS, args.runs
    if args.demo is not None:
        subprocess.run([sys.executable, "-m", "ncp_control.cli", "demo", "--out", str(args.demo), "--no-progress"],
                       check=True)
        results, runs = args.demo / "results_with_reference.csv", args.demo / "runs"
    wanted = args.only or ["envs", "retention"] + (["watch"] if runs is not None else [])
    if "watch" in wanted and runs is None:
        parser.error("watch.png needs the demo's run folders: --runs DIR or --demo DIR")
    STATIC.mkdir(exist_ok=True)
    if "envs" in wanted:
        environments_figure(STATIC / "envs.png")
    if "retention" in wanted:
        retention_figure(results, STATIC / "retention.png")
    if "watch" in wanted:
        assert runs is not None
        watch_figure(runs, STATIC / "watch.png")
    for name in wanted:
        print(f"{STATIC / name}.png: {(STATIC / f'{name}.png').stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
