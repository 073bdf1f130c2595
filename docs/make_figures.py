"""Render the figures of the README and the documentation into ``docs/_static/``.

- ``envs.png``: the lane-keeping car (road map and camera) and the quadrotor flying to its
  target (top and side views, camera), each driven by the task's reference controller, drawn
  by the environments' own numpy renderers (``render_mode="rgb_array"``).
- ``retention.png``: return retention against perturbation level for the demo's policies
  (CfC with NCP wiring, MLP) and the reference controller on lane keeping, averaged over the
  perturbations of each family, from the demo's results table.

By default the retention plot reads ``docs/results/demo_lane_keeping.csv`` (the results table
of one ``ncp-control demo`` run). ``--demo DIR`` runs ``ncp-control demo --out DIR`` first
(about 2 minutes on two cores) and plots its table instead.

Usage: ``python docs/make_figures.py [--demo DIR]``
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
    args = parser.parse_args(argv)
    results = DEMO_RESULTS
    if args.demo is not None:
        subprocess.run([sys.executable, "-m", "ncp_control.cli", "demo", "--out", str(args.demo), "--no-progress"],
                       check=True)
        results = args.demo / "results_with_reference.csv"
    STATIC.mkdir(exist_ok=True)
    environments_figure(STATIC / "envs.png")
    retention_figure(results, STATIC / "retention.png")
    for name in ("envs.png", "retention.png"):
        print(f"{STATIC / name}: {(STATIC / name).stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
