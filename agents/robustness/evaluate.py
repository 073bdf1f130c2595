"""Robustness evaluation: policy x perturbation x level x paired evaluation seeds.

Every cell (model, perturbation, level) runs the same evaluation seeds ``seed, seed + 1,
...``, so cells are paired across models and levels. Level 0 of every perturbation is the
unwrapped environment, so it is evaluated once as the clean cell (perturbation ``"none"``)
and shared. Finished cells are appended to the results table atomically; a second call with
the same results file skips them, which is how a killed sweep resumes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import pandas as pd
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import EvalPolicy, RandomPolicy, as_eval_policy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.progress import EpisodeProgress, Progress
from ncp_control.agents.robustness.table import COLUMNS, append_rows, cell_key, finished_cells, read_results
from ncp_control.envs.perturbations.suites import Suite, SuiteEntry, resolve_suite

from ncp_control.errors import UserError

CLEAN = "none"


def _cells(suite: Suite) -> list[tuple[SuiteEntry | None, float]]:
    cells: list[tuple[SuiteEntry | None, float]] = [(None, 0.0)]
    for entry in suite.entries:
        cells.extend((entry, level) for level in entry.levels if level > 0.0)
    return cells


def _resolve_for(
    suite: str | Suite, levels: Sequence[float] | None, env_id: str, env_kwargs: Mapping[str, Any] | None
) -> Suite:
    if isinstance(suite, Suite):
        return resolve_suite(suite, levels)
    env = make_env(env_id, env_kwargs)
    try:
        return resolve_suite(suite, levels, env)
    finally:
        env.close()


def _evaluate_cells(
    policy: EvalPolicy,
    name: str,
    train_seed: int | None,
    env_id: str,
    suite: Suite | None,
    n_episodes: int,
    seed: int,
    results: str | os.PathLike[str] | None,
    env_kwargs: Mapping[str, Any] | None,
    progress: bool,
) -> list[dict[str, Any]]:
    cells = _cells(suite) if suite is not None else [(None, 0.0)]
    done = finished_cells(results) if results is not None else {}
    seeds = [seed + i for i in range(n_episodes)]
    rows: list[dict[str, Any]] = []
    bar = Progress(len(cells), "cells", f"{name} {suite.name if suite else 'clean'}", enabled=progress, leave=False)
    for entry, level in cells:
        perturbation = entry.perturbation if entry else CLEAN
        bar.describe(f"{perturbation} {level:g}")
        key = cell_key(name, train_seed, env_id, perturbation, level)
        if key in done:
            if done[key] != tuple(seeds):
                raise UserError(
                    f"{results} already holds {name} / {perturbation} / level {level} with evaluation seeds "
                    f"{list(done[key])}, not {seeds}: use the same --episodes and --seed, or another results file"
                )
            bar.advance()
            continue

        def make(entry: SuiteEntry | None = entry, level: float = level) -> gym.Env:
            env = make_env(env_id, env_kwargs)
            if entry is None or suite is None:
                return env
            return suite.apply(env, entry, level)

        episodes = run_episodes(policy, make, seeds, watch=EpisodeProgress(bar) if progress else None)
        base = {
            "model": name,
            "train_seed": train_seed,
            "env_id": env_id,
            "suite": suite.name if (suite and entry) else "",
            "perturbation": perturbation,
            "family": entry.family if entry else CLEAN,
            "level": float(level),
        }
        cell_rows = [{**base, **episode} for episode in episodes]
        if results is not None:
            append_rows(results, cell_rows)
        done[key] = tuple(seeds)
        rows.extend(cell_rows)
        bar.advance()
    bar.close()
    return rows


def evaluate_robustness(
    model: Any,
    env_id: str,
    suite: str | Suite,
    levels: Sequence[float] | None = None,
    n_episodes: int = 10,
    seed: int = 0,
    *,
    name: str = "model",
    train_seed: int | None = None,
    results: str | os.PathLike[str] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    deterministic: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Evaluate one model on the clean env and on every (perturbation, level) of a suite.

    :param model: a model with SB3's ``predict``, a reference controller (or a factory
        ``env -> controller``), or an :class:`~ncp_control.agents.common.eval_policies.EvalPolicy`.
    :param env_id: Gymnasium id of the task.
    :param suite: a suite name (see :func:`~ncp_control.envs.perturbations.suites.available_suites`) or a
        :class:`~ncp_control.envs.perturbations.suites.Suite`.
    :param levels: levels for every perturbation instead of the suite's.
    :param n_episodes: episodes per cell, on seeds ``seed .. seed + n_episodes - 1``.
    :param seed: first evaluation seed.
    :param name: the model's name in the table.
    :param train_seed: the model's training seed, for aggregation across seeds.
    :param results: results file (``.csv``/``.parquet``); finished cells in it are skipped.
    :param env_kwargs: environment constructor arguments.
    :param deterministic: deterministic actions for models.
    :param progress: show a progress bar.
    :return: the rows of this model on this env and suite (read back from ``results`` when
        given, so cells finished earlier are included).
    """
    if n_episodes < 1:
        raise UserError(f"n_episodes must be at least 1, got {n_episodes}")
    resolved = _resolve_for(suite, levels, env_id, env_kwargs)
    rows = _evaluate_cells(
        as_eval_policy(model, deterministic), name, train_seed, env_id, resolved, n_episodes, seed, results,
        env_kwargs, progress,
    )
    if results is None:
        return pd.DataFrame(rows, columns=COLUMNS)
    frame = read_results(results)
    names = {CLEAN} | {e.perturbation for e in resolved.entries}
    seeds = frame["train_seed"].fillna(-1).astype(float)
    keep = (frame["model"] == name) & (frame["env_id"] == env_id) & frame["perturbation"].isin(names)
    keep &= seeds == (-1.0 if train_seed is None else float(train_seed))
    return frame[keep].reset_index(drop=True)


def evaluate_random(
    env_id: str,
    n_episodes: int = 10,
    seed: int = 0,
    *,
    results: str | os.PathLike[str] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The random-policy baseline ``R_random`` of retention, on the clean env.

    :param env_id: Gymnasium id.
    :param n_episodes: episodes, on the same paired seeds as the models.
    :param seed: first evaluation seed.
    :param results: results file to append to (skipped if already there).
    :param env_kwargs: environment constructor arguments.
    :return: the random policy's rows (model ``"random"``).
    """
    rows = _evaluate_cells(RandomPolicy(seed), "random", None, env_id, None, n_episodes, seed, results, env_kwargs, False)
    if results is None:
        return pd.DataFrame(rows, columns=COLUMNS)
    frame = read_results(results)
    return frame[(frame["model"] == "random") & (frame["env_id"] == env_id)].reset_index(drop=True)


def evaluate_robustness_sweep(
    models: Mapping[str, Any],
    env_id: str,
    suites: Sequence[str | Suite],
    levels: Sequence[float] | None = None,
    n_episodes: int = 10,
    seed: int = 0,
    *,
    results: str | os.PathLike[str] | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    include_random: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Evaluate several models on several suites with paired seeds, plus the random baseline.

    :param models: name -> model, or name -> ``{train_seed: model}`` for several training
        seeds of one configuration.
    :param env_id: Gymnasium id of the task.
    :param suites: suite names or :class:`~ncp_control.envs.perturbations.suites.Suite` objects.
    :param levels: levels for every perturbation instead of the suites'.
    :param n_episodes: episodes per cell.
    :param seed: first evaluation seed.
    :param results: results file; finished cells are skipped (resume after a kill).
    :param env_kwargs: environment constructor arguments.
    :param include_random: also evaluate the random baseline (model ``"random"``).
    :param progress: show a progress bar over models.
    :return: every row of the sweep.
    """
    resolved = [_resolve_for(suite, levels, env_id, env_kwargs) for suite in suites]
    frames = []
    if include_random:
        frames.append(evaluate_random(env_id, n_episodes, seed, results=results, env_kwargs=env_kwargs))
    for name, value in models.items():
        seeded = value if isinstance(value, Mapping) else {None: value}
        for train_seed, model in seeded.items():
            for suite in resolved:
                frames.append(
                    evaluate_robustness(
                        model, env_id, suite, None, n_episodes, seed, name=name, train_seed=train_seed,
                        results=results, env_kwargs=env_kwargs, progress=progress,
                    )
                )
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    return frame.drop_duplicates(subset=["model", "train_seed", "env_id", "perturbation", "level", "seed"])
