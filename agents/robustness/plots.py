"""Robustness plots (matplotlib, Agg backend), each saved as PNG and SVG.

- :func:`plot_retention`: retention against level, one panel per family, one line per model,
  with a 95% bootstrap band over the episodes (and training seeds) of each level.
- :func:`plot_auc`: bar chart of the area under the retention curve per family and model,
  with the stratified bootstrap interval across training seeds as error bars (none for a model
  of one training seed: an interval over one seed would say nothing of seed-to-seed spread).

Each figure is titled with its environment and says what its band or bars are.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from ncp_control.agents.robustness.bootstrap import stratified_bootstrap_ci
from ncp_control.agents.robustness.evaluate import CLEAN
from ncp_control.agents.robustness.seen import TrainShifts, seen_range
from ncp_control.agents.robustness.summary import add_retention, auc_matrix

from ncp_control.errors import UserError


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, stem: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix in (".png", ".svg"):
        path = stem.with_suffix(suffix)
        tmp = path.with_name(f".{path.name}.tmp{suffix}")
        figure.savefig(tmp, dpi=120, bbox_inches="tight")
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _band(values: np.ndarray, reps: int) -> tuple[float, float, float]:
    if values.size < 2:
        value = float(values.mean()) if values.size else float("nan")
        return value, value, value
    return stratified_bootstrap_ci(values[:, None], "mean", reps=reps, seed=0)


def _environment(frame: pd.DataFrame) -> str:
    """:return: the environment id(s) of a results table, for a title."""
    envs = sorted(str(e) for e in frame["env_id"].dropna().unique()) if "env_id" in frame else []
    return ", ".join(envs) or "unknown environment"


def _seeds(frame: pd.DataFrame) -> int:
    """:return: the largest number of training seeds of one model in a table."""
    if "train_seed" not in frame or frame.empty:
        return 1
    return int(frame.groupby("model")["train_seed"].nunique(dropna=False).max())


def plot_retention(frame: pd.DataFrame, out_stem: str | os.PathLike[str], reps: int = 1000,
                   train_shifts: TrainShifts | None = None) -> list[Path]:
    """Retention against level per family, one line per model, with confidence bands.

    :param frame: the results table (with the random baseline's rows).
    :param out_stem: output path without suffix; ``.png`` and ``.svg`` are written.
    :param reps: bootstrap replications of each band.
    :param train_shifts: model name -> its training shifts: the levels a model saw in training
        are shaded in its colour (in-distribution), the rest is out-of-distribution.
    :return: the written files.
    """
    plt = _pyplot()
    rows = add_retention(frame)
    families = sorted(f for f in rows["family"].unique() if f != CLEAN)
    if not families:
        raise UserError("the results have no perturbed cells to plot")
    clean = rows[rows["perturbation"] == CLEAN]
    figure, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.4), squeeze=False)
    for axis, family in zip(axes[0], families):
        subset = rows[rows["family"] == family]
        for model in sorted(rows["model"].unique()):
            mine = subset[subset["model"] == model]
            if mine.empty:
                continue
            levels = [0.0] + sorted(mine["level"].unique())
            stats = []
            for level in levels:
                source = clean[clean["model"] == model] if level == 0.0 else mine[mine["level"] == level]
                stats.append(_band(source["retention"].to_numpy(dtype=np.float64), reps))
            means, lows, highs = (np.array(v) for v in zip(*stats))
            (line,) = axis.plot(levels, means, marker="o", label=model)
            axis.fill_between(levels, lows, highs, color=line.get_color(), alpha=0.2)
            seen = seen_range((train_shifts or {}).get(model, ()), list(mine["perturbation"].unique()))
            if seen > 0:
                axis.axvspan(0.0, seen, color=line.get_color(), alpha=0.08, lw=0,
                             label=f"{model}: seen in training" if family == families[0] else None)
        axis.axhline(1.0, color="grey", lw=0.8, ls="--")
        axis.axhline(0.0, color="grey", lw=0.8, ls=":")
        axis.set_title(family)
        axis.set_xlabel("perturbation level")
        axis.set_ylabel("retention (1 = clean return, 0 = random)")
    axes[0][0].legend(loc="best", fontsize="small")
    models = rows[rows["model"] != "random"]
    episodes = int(models.groupby(["model", "train_seed", "perturbation", "level"], dropna=False).size().max())
    seeds = _seeds(models)
    over = f"{episodes} episodes" + (f" x {seeds} training seeds" if seeds > 1 else " of one training seed")
    figure.suptitle(f"{_environment(frame)}: retention against perturbation level\n"
                    f"band: 95% bootstrap CI of the mean over the {over} per level", fontsize="medium")
    figure.tight_layout()
    paths = _save(figure, Path(out_stem))
    plt.close(figure)
    return paths


def plot_auc(families: pd.DataFrame, out_stem: str | os.PathLike[str], reps: int = 2000) -> list[Path]:
    """Bar chart of the per-family area under the retention curve, one bar per model.

    :param families: output of :func:`~ncp_control.agents.robustness.summary.family_summary`.
    :param out_stem: output path without suffix; ``.png`` and ``.svg`` are written.
    :param reps: bootstrap replications of the error bars (across training seeds).
    :return: the written files.
    """
    plt = _pyplot()
    if families.empty:
        raise UserError("no per-family AUC to plot")
    models = sorted(families["model"].unique())
    names = sorted(families["family"].unique())
    width = 0.8 / len(models)
    figure, axis = plt.subplots(figsize=(max(4.0, 1.4 * len(names) * max(1, len(models)) / 2 + 2), 3.6))
    for index, model in enumerate(models):
        matrix, columns = auc_matrix(families, model)
        heights: list[float] = []
        errors: list[list[float]] = [[], []]
        for family in names:
            if family not in columns:
                heights.append(np.nan)
                errors[0].append(0.0)
                errors[1].append(0.0)
                continue
            column = matrix[:, columns.index(family)]
            column = column[np.isfinite(column)]
            if column.size < 2:  # one training seed: its value, no interval
                heights.append(float(column.mean()) if column.size else np.nan)
                errors[0].append(0.0)
                errors[1].append(0.0)
                continue
            point, low, high = stratified_bootstrap_ci(column[:, None], "iqm", reps=reps, seed=0)
            heights.append(point)
            errors[0].append(point - low)
            errors[1].append(high - point)
        positions = np.arange(len(names)) + (index - (len(models) - 1) / 2) * width
        single = matrix.shape[0] < 2
        axis.bar(positions, heights, width, yerr=None if single else errors, capsize=3,
                 label=f"{model} (one training seed)" if single else model)
    axis.set_xticks(np.arange(len(names)), names)
    axis.set_ylabel("area under retention curve")
    seeds = max(auc_matrix(families, model)[0].shape[0] for model in models)
    what = ("IQM over training seeds, bars: 95% stratified bootstrap CI" if seeds > 1
            else "one training seed: no interval (train more seeds for one)")
    axis.set_title(f"{_environment(families)}: per-family AUC\n{what}", fontsize="medium")
    axis.axhline(1.0, color="grey", lw=0.8, ls="--")
    axis.legend(loc="best", fontsize="small")
    figure.tight_layout()
    paths = _save(figure, Path(out_stem))
    plt.close(figure)
    return paths
