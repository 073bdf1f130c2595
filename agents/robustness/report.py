"""Write the summaries and plots of a results table into a folder, and format them for a terminal."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
from ncp_control.agents.common.files import atomic_write_bytes
from ncp_control.agents.robustness.plots import plot_auc, plot_retention
from ncp_control.agents.robustness.seen import TrainShifts, any_shift, mark_seen
from ncp_control.agents.robustness.summary import (
    cell_summary,
    family_summary,
    improvement_table,
    model_summary,
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    atomic_write_bytes(path, frame.to_csv(index=False).encode())
    return path


def write_report(frame: pd.DataFrame, out_dir: str | os.PathLike[str], reps: int = 2000,
                 train_shifts: TrainShifts | None = None) -> dict[str, list[Path]]:
    """Summaries (CSV) and plots (PNG + SVG) of a results table, per environment.

    :param frame: the per-episode results, with the random baseline's rows.
    :param out_dir: destination folder.
    :param reps: bootstrap replications.
    :param train_shifts: model name -> its training shifts; where any model was trained under
        shift, ``cells.csv`` gets a ``seen_in_training`` column and the retention plots shade
        the levels each model saw in training.
    :return: ``{"tables": [...], "plots": [...]}`` of written files.
    """
    out = Path(out_dir)
    cells = cell_summary(frame)
    families = family_summary(cells)
    shifts = train_shifts if any_shift(train_shifts) else None
    written: dict[str, list[Path]] = {"tables": [], "plots": []}
    written["tables"].append(_write_csv(cells if shifts is None else mark_seen(cells, shifts), out / "cells.csv"))
    written["tables"].append(_write_csv(families, out / "families.csv"))
    if not families.empty:
        models = pd.concat(
            [model_summary(group, reps).assign(env_id=env) for env, group in families.groupby("env_id")],
            ignore_index=True,
        )
        written["tables"].append(_write_csv(models, out / "models.csv"))
        improvement = pd.concat(
            [improvement_table(group, reps).assign(env_id=env) for env, group in families.groupby("env_id")],
            ignore_index=True,
        )
        written["tables"].append(_write_csv(improvement, out / "improvement.csv"))
    for env_id, group in frame.groupby("env_id"):
        slug = _slug(str(env_id))
        if (group["perturbation"] != "none").any():
            written["plots"] += plot_retention(group, out / f"retention_{slug}", train_shifts=shifts)
            env_families = families[families["env_id"] == env_id]
            if not env_families.empty:
                written["plots"] += plot_auc(env_families, out / f"auc_{slug}")
    return written


def format_summary(frame: pd.DataFrame, reps: int = 2000) -> str:
    """A short text table: per model and family, clean return, AUC and worst retention.

    :param frame: the per-episode results, with the random baseline's rows.
    :param reps: bootstrap replications.
    :return: the text.
    """
    cells = cell_summary(frame)
    families = family_summary(cells)
    clean = cells[cells["perturbation"] == "none"].groupby(["env_id", "model"])[
        ["mean_return", "success_rate", "crash_rate"]
    ].mean()
    lines = [clean.rename(columns={"mean_return": "clean_return"}).to_string(float_format=lambda v: f"{v:.3g}")]
    if not families.empty:
        table = families.groupby(["env_id", "model", "family"])[["auc", "worst_retention"]].mean()
        lines += ["", table.to_string(float_format=lambda v: f"{v:.3f}")]
        models = pd.concat(
            [model_summary(group, reps).assign(env_id=env) for env, group in families.groupby("env_id")],
            ignore_index=True,
        )
        lines += ["", models.set_index(["env_id", "model"]).to_string(float_format=lambda v: f"{v:.3f}")]
    return "\n".join(lines)
