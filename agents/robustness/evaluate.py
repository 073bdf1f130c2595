"""Robustness evaluation: policy x perturbation x level x paired evaluation seeds.

Every cell (model, perturbation, level) runs the same evaluation seeds ``seed, seed + 1,
...``, so cells are paired across models and levels. Level 0 of every perturbation is the
unwrapped environment, so it is evaluated once as the clean cell (perturbation ``"none"``)
and shared. Finished cells are appended to the results table atomically; a second call with
the same results file skips them, which is how a killed sweep resumes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from ncp_control.agents.robustness.metrics import action_smoothness
from ncp_control.agents.robustness.policies import (
    EvalPolicy,
    RandomPolicy,
    as_eval_policy,
    stack_observations,
)
from ncp_control.agents.robustness.suites import Suite, SuiteEntry, resolve_suite
from ncp_control.agents.robustness.table import COLUMNS, append_rows, cell_key, finished_cells, read_results
from tqdm.auto import tqdm

from ncp_control.errors import UserError

#: ``info`` keys read as the tracking error of a step, first match wins.
TRACKING_KEYS: tuple[str, ...] = ("tracking_error", "position_error", "lateral_error", "distance_to_target")
SUCCESS_KEYS: tuple[str, ...] = ("is_success", "success")
CRASH_KEYS: tuple[str, ...] = ("crash", "crashed")
CLEAN = "none"


def make_env(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> gym.Env:
    """Make an environment by id (our ``NCPControl/`` ids are registered first).

    :param env_id: a Gymnasium id.
    :param env_kwargs: constructor arguments.
    :return: the environment.
    :raises UserError: for an unknown id, or arguments the env refuses.
    """
    import ncp_control.envs  # noqa: F401  (registers the NCPControl namespace)

    if not isinstance(env_id, str) or (":" not in env_id and env_id not in gym.registry):
        ours = sorted(k for k in gym.registry if k.startswith("NCPControl/"))
        raise UserError(f"unknown env id {env_id!r}; ids of this package: {ours}")
    kwargs = dict(env_kwargs or {})
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.Error as error:
        raise UserError(f"cannot make {env_id!r}: {' '.join(str(error).split())}") from None
    except (TypeError, ValueError) as error:  # the env refused its arguments
        if not kwargs:
            raise
        raise UserError(f"{env_id} does not accept env_kwargs {kwargs}: {' '.join(str(error).split())}; "
                        "change --env-kwargs (or the config's env_kwargs)") from None


def nominal_dt(env: gym.Env) -> float:
    """The nominal control period of an environment in seconds (1.0 if it has none).

    :param env: the environment.
    :return: seconds per step.
    """
    unwrapped = env.unwrapped
    for name in ("nominal_dt", "dt"):
        value = getattr(unwrapped, name, None)
        if isinstance(value, (int, float)) and value > 0:
            return float(value)
    fps = env.metadata.get("render_fps")
    return 1.0 / float(fps) if fps else 1.0


def _first(info: Mapping[str, Any], keys: Sequence[str]) -> float:
    for key in keys:
        if key in info and info[key] is not None:
            return float(np.mean(np.abs(np.asarray(info[key], dtype=np.float64))))
    return float("nan")


def _slice(observations: Any, index: int) -> Any:
    if isinstance(observations, dict):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


def run_episodes(
    policy: EvalPolicy,
    make: Callable[[], gym.Env],
    seeds: Sequence[int],
    max_steps: int | None = None,
) -> list[dict[str, Any]]:
    """Run one episode per seed, all in lock-step, and measure each.

    :param policy: the batched policy.
    :param make: builds a fresh (possibly perturbed) environment.
    :param seeds: one reset seed per episode.
    :param max_steps: optional cap on episode length (the env's time limit applies anyway).
    :return: one dict per episode: ``seed``, ``return``, ``success``, ``crash``, ``length``,
        ``action_smoothness``, ``tracking_error``.
    """
    envs = [make() for _ in seeds]
    try:
        count = len(envs)
        observations, dt = [], np.empty(count)
        for index, (env, seed) in enumerate(zip(envs, seeds)):
            obs, info = env.reset(seed=int(seed))
            observations.append(obs)
            dt[index] = float(info.get("dt", nominal_dt(env)))
        policy.start(envs)
        active = np.ones(count, dtype=bool)
        episode_start = np.ones(count, dtype=bool)
        returns, lengths = np.zeros(count), np.zeros(count, dtype=int)
        actions: list[list[np.ndarray]] = [[] for _ in envs]
        tracking: list[list[float]] = [[] for _ in envs]
        final_info: list[dict[str, Any]] = [{} for _ in envs]
        while active.any():
            batch = policy.act(stack_observations(observations), episode_start, dt)
            episode_start[:] = False
            for index in np.flatnonzero(active).tolist():
                action = batch[index]
                obs, reward, terminated, truncated, info = envs[index].step(action)
                observations[index] = obs
                returns[index] += float(reward)
                lengths[index] += 1
                actions[index].append(np.asarray(action, dtype=np.float64).reshape(-1))
                value = _first(info, TRACKING_KEYS)
                if not np.isnan(value):
                    tracking[index].append(value)
                dt[index] = float(info.get("dt", dt[index]))
                if terminated or truncated or (max_steps is not None and lengths[index] >= max_steps):
                    active[index] = False
                    final_info[index] = dict(info)
        rows = []
        for index, env in enumerate(envs):
            space = env.action_space
            low = getattr(space, "low", None)
            high = getattr(space, "high", None)
            rows.append(
                {
                    "seed": int(seeds[index]),
                    "return": float(returns[index]),
                    "success": _first(final_info[index], SUCCESS_KEYS),
                    "crash": _first(final_info[index], CRASH_KEYS),
                    "length": int(lengths[index]),
                    "action_smoothness": action_smoothness(np.stack(actions[index]), low, high),
                    "tracking_error": float(np.mean(tracking[index])) if tracking[index] else float("nan"),
                }
            )
        return rows
    finally:
        for env in envs:
            env.close()


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
    bar = tqdm(cells, desc=f"{name} {suite.name if suite else 'clean'}", disable=not progress, leave=False)
    for entry, level in bar:
        perturbation = entry.perturbation if entry else CLEAN
        key = cell_key(name, train_seed, env_id, perturbation, level)
        if key in done:
            if done[key] != tuple(seeds):
                raise UserError(
                    f"{results} already holds {name} / {perturbation} / level {level} with evaluation seeds "
                    f"{list(done[key])}, not {seeds}: use the same --episodes and --seed, or another results file"
                )
            continue

        def make(entry: SuiteEntry | None = entry, level: float = level) -> gym.Env:
            env = make_env(env_id, env_kwargs)
            if entry is None or suite is None:
                return env
            return suite.wrap(env, entry.perturbation, level, **dict(entry.kwargs))

        episodes = run_episodes(policy, make, seeds)
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
        ``env -> controller``), or an :class:`~ncp_control.agents.robustness.policies.EvalPolicy`.
    :param env_id: Gymnasium id of the task.
    :param suite: a suite name (see :func:`~ncp_control.agents.robustness.suites.available_suites`) or a
        :class:`~ncp_control.agents.robustness.suites.Suite`.
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
    :param suites: suite names or :class:`~ncp_control.agents.robustness.suites.Suite` objects.
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
    for name, value in tqdm(models.items(), desc="models", disable=not progress):
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
