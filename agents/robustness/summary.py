"""From the per-episode results table to per-cell, per-family and per-model summaries.

- :func:`add_retention`: retention of each episode against its model's clean mean return
  and the random baseline's clean mean return (same env).
- :func:`cell_summary`: per (model, training seed, perturbation, level): mean return,
  success and crash rates, CVaR at 0.1, action smoothness, tracking error, mean retention.
- :func:`family_summary`: per (model, training seed, family): area under the retention
  curve (mean over the family's perturbations, level 0 included with retention 1) and the
  worst retention over its cells.
- :func:`model_summary`: per model, across training seeds: IQM of the per-family AUCs with
  a stratified bootstrap 95% interval, mean AUC over families, worst case.
- :func:`improvement_table`: probability that each model beats each other one on the
  per-family AUCs, with its bootstrap interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ncp_control.agents.robustness.bootstrap import probability_of_improvement, stratified_bootstrap_ci
from ncp_control.agents.robustness.evaluate import CLEAN
from ncp_control.agents.robustness.metrics import area_under_curve, cvar, rate

from ncp_control.errors import UserError

_RUN = ["model", "train_seed", "env_id"]


def _runs(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["train_seed"] = frame["train_seed"].fillna(-1).astype(int)
    return frame


def add_retention(frame: pd.DataFrame) -> pd.DataFrame:
    """Add a ``retention`` column to the per-episode table.

    :param frame: the results table, with the random baseline's rows (model ``"random"``).
    :return: the table of the evaluated models (without the baseline rows) with retention.
    :raises ValueError: without baseline rows or clean rows for a model.
    """
    frame = _runs(frame)
    clean = frame[frame["perturbation"] == CLEAN]
    random_rows = clean[clean["model"] == "random"]
    if random_rows.empty:
        raise UserError("the results have no random-policy baseline rows (model 'random'); run evaluate_random")
    random_return = random_rows.groupby("env_id")["return"].mean()
    clean_return = clean[clean["model"] != "random"].groupby(_RUN)["return"].mean()
    models = frame[frame["model"] != "random"].copy()
    values = []
    for row in models[_RUN + ["return"]].itertuples(index=False):
        key = (row.model, row.train_seed, row.env_id)
        if key not in clean_return.index:
            raise UserError(f"model {row.model!r} (train seed {row.train_seed}) has no clean cell on {row.env_id}")
        span = clean_return[key] - random_return[row.env_id]
        values.append((row[3] - random_return[row.env_id]) / span if span != 0 else np.nan)
    models["retention"] = values
    return models


def cell_summary(frame: pd.DataFrame, alpha: float = 0.1) -> pd.DataFrame:
    """Per-cell metrics.

    :param frame: the results table (with baseline rows).
    :param alpha: CVaR tail fraction.
    :return: one row per (model, train_seed, env_id, family, perturbation, level).
    """
    rows = add_retention(frame)
    keys = _RUN + ["family", "perturbation", "level"]
    out = []
    for key, group in rows.groupby(keys, sort=True):
        out.append(
            dict(
                zip(keys, key),
                episodes=len(group),
                mean_return=group["return"].mean(),
                success_rate=rate(group["success"]),
                crash_rate=rate(group["crash"]),
                cvar_return=cvar(group["return"], alpha),
                action_smoothness=group["action_smoothness"].mean(),
                tracking_error=group["tracking_error"].mean(),
                retention=group["retention"].mean(),
            )
        )
    return pd.DataFrame(out)


def family_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """Area under the retention curve and worst case per family.

    :param cells: output of :func:`cell_summary`.
    :return: one row per (model, train_seed, env_id, family).
    """
    clean = cells[cells["perturbation"] == CLEAN].set_index(_RUN)["retention"]
    perturbed = cells[cells["perturbation"] != CLEAN]
    out = []
    for key, group in perturbed.groupby(_RUN + ["family"], sort=True):
        run = tuple(key[:3])
        clean_value = float(clean.get(run, 1.0))
        aucs = []
        for _, curve in group.groupby("perturbation"):
            levels = [0.0] + curve["level"].tolist()
            values = [clean_value] + curve["retention"].tolist()
            aucs.append(area_under_curve(levels, values))
        out.append(
            dict(
                zip(_RUN + ["family"], key),
                auc=float(np.mean(aucs)),
                worst_retention=float(group["retention"].min()),
                worst_return=float(group["mean_return"].min()),
            )
        )
    return pd.DataFrame(out)


def auc_matrix(families: pd.DataFrame, model: str) -> tuple[np.ndarray, list[str]]:
    """Per-family AUCs of one model as a matrix ``[training seeds, families]``.

    :param families: output of :func:`family_summary`.
    :param model: the model name.
    :return: the matrix and its family names (columns).
    """
    table = families[families["model"] == model].pivot_table(index="train_seed", columns="family", values="auc")
    return table.to_numpy(dtype=np.float64), [str(c) for c in table.columns]


def model_summary(families: pd.DataFrame, reps: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Across training seeds: IQM of the per-family AUC with a 95% stratified bootstrap interval.

    :param families: output of :func:`family_summary`.
    :param reps: bootstrap replications.
    :param seed: bootstrap seed.
    :return: one row per model: ``auc_iqm``, ``auc_low``, ``auc_high``, ``mean_auc`` (mean
        over families and seeds), ``worst_retention``, ``seeds``.
    """
    out = []
    for model in sorted(families["model"].unique()):
        matrix, _ = auc_matrix(families, model)
        point, low, high = stratified_bootstrap_ci(matrix, "iqm", reps=reps, seed=seed)
        subset = families[families["model"] == model]
        out.append(
            dict(
                model=model,
                seeds=matrix.shape[0],
                auc_iqm=point,
                auc_low=low,
                auc_high=high,
                mean_auc=float(np.nanmean(matrix)),
                worst_retention=float(subset["worst_retention"].min()),
            )
        )
    return pd.DataFrame(out)


def improvement_table(families: pd.DataFrame, reps: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Probability of improvement of each model over each other one on per-family AUCs.

    :param families: output of :func:`family_summary`.
    :param reps: bootstrap replications.
    :param seed: bootstrap seed.
    :return: one row per ordered pair: ``model_x``, ``model_y``, ``p``, ``low``, ``high``.
    """
    models = sorted(families["model"].unique())
    out = []
    for x in models:
        for y in models:
            if x == y:
                continue
            matrix_x, columns_x = auc_matrix(families, x)
            matrix_y, columns_y = auc_matrix(families, y)
            common = [c for c in columns_x if c in columns_y]
            if not common:
                continue
            sx = matrix_x[:, [columns_x.index(c) for c in common]]
            sy = matrix_y[:, [columns_y.index(c) for c in common]]
            point, low, high = probability_of_improvement(sx, sy, reps=reps, seed=seed)
            out.append(dict(model_x=x, model_y=y, p=point, low=low, high=high))
    return pd.DataFrame(out, columns=["model_x", "model_y", "p", "low", "high"])
