"""Aggregates across training seeds: IQM, stratified bootstrap intervals, probability of improvement.

Scores are matrices ``[runs, tasks]``: one row per training seed, one column per task (here a
perturbation cell or family). The stratified bootstrap resamples runs with replacement
independently within each task, as in Agarwal et al. (2021), and reports percentile intervals.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ncp_control.errors import UserError

#: A statistic over a batch of score matrices ``[reps, runs, tasks] -> [reps]``.
BatchStatistic = Callable[[np.ndarray], np.ndarray]


def _check_scores(scores: np.ndarray, name: str = "scores") -> np.ndarray:
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] == 0:
        raise UserError(f"{name} must be a non-empty matrix [runs, tasks], got shape {array.shape}")
    return array


def batched_iqm(samples: np.ndarray) -> np.ndarray:
    """Interquartile mean of each matrix in a batch (25% trimmed mean over all entries).

    :param samples: shape ``[reps, runs, tasks]``.
    :return: shape ``[reps]``.
    """
    flat = np.sort(samples.reshape(samples.shape[0], -1), axis=1)
    n = flat.shape[1]
    cut = int(0.25 * n)
    return flat[:, cut : n - cut].mean(axis=1)


def batched_mean(samples: np.ndarray) -> np.ndarray:
    """Mean of each matrix in a batch. :param samples: ``[reps, runs, tasks]``. :return: ``[reps]``."""
    return samples.reshape(samples.shape[0], -1).mean(axis=1)


def batched_median(samples: np.ndarray) -> np.ndarray:
    """Median of each matrix in a batch. :param samples: ``[reps, runs, tasks]``. :return: ``[reps]``."""
    return np.median(samples.reshape(samples.shape[0], -1), axis=1)


STATISTICS: dict[str, BatchStatistic] = {"iqm": batched_iqm, "mean": batched_mean, "median": batched_median}


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean of a score matrix (equal to ``scipy.stats.trim_mean(x, 0.25)``).

    :param scores: shape ``[runs, tasks]`` (or ``[runs]``).
    :return: the IQM over all entries.
    """
    return float(batched_iqm(_check_scores(scores)[None])[0])


def _resample(scores: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    runs, tasks = scores.shape
    index = rng.integers(0, runs, size=(reps, runs, tasks))
    return scores[index, np.arange(tasks)[None, None, :]]


def _percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def _statistic(statistic: str | BatchStatistic) -> BatchStatistic:
    if callable(statistic):
        return statistic
    if statistic not in STATISTICS:
        raise UserError(f"unknown statistic {statistic!r}; choose one of {sorted(STATISTICS)} or pass a callable")
    return STATISTICS[statistic]


def stratified_bootstrap_ci(
    scores: np.ndarray,
    statistic: str | BatchStatistic = "iqm",
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> tuple[float, float, float]:
    """Point estimate and stratified bootstrap percentile interval of an aggregate.

    :param scores: shape ``[runs, tasks]``.
    :param statistic: ``"iqm"``, ``"mean"``, ``"median"`` or a batched statistic
        ``[reps, runs, tasks] -> [reps]``.
    :param reps: bootstrap replications.
    :param confidence: interval size in ``(0, 1)``.
    :param seed: random seed of the resampling.
    :return: ``(point, low, high)``.
    """
    if not 0.0 < confidence < 1.0:
        raise UserError(f"confidence must be in (0, 1), got {confidence}")
    if reps < 1:
        raise UserError(f"reps must be positive, got {reps}")
    array = _check_scores(scores)
    func = _statistic(statistic)
    point = float(func(array[None])[0])
    samples = func(_resample(array, reps, np.random.default_rng(seed)))
    low, high = _percentile_interval(samples, confidence)
    return point, low, high


def _batched_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + 0.5 P(X = Y) per task, averaged over tasks, for batches ``[reps, runs, tasks]``."""
    greater = (x[:, :, None, :] > y[:, None, :, :]).mean(axis=(1, 2))
    equal = (x[:, :, None, :] == y[:, None, :, :]).mean(axis=(1, 2))
    return (greater + 0.5 * equal).mean(axis=1)


def probability_of_improvement(
    scores_x: np.ndarray,
    scores_y: np.ndarray,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> tuple[float, float, float]:
    """Probability that a run of X beats a run of Y on a random task, with a bootstrap interval.

    The point estimate is the Mann-Whitney statistic per task, averaged over tasks; the
    interval resamples the runs of X and of Y independently, stratified by task.

    :param scores_x: shape ``[runs_x, tasks]``.
    :param scores_y: shape ``[runs_y, tasks]``, same number of tasks.
    :param reps: bootstrap replications (0 for the point estimate alone, low = high = point).
    :param confidence: interval size in ``(0, 1)``.
    :param seed: random seed of the resampling.
    :return: ``(point, low, high)``.
    """
    x = _check_scores(scores_x, "scores_x")
    y = _check_scores(scores_y, "scores_y")
    if x.shape[1] != y.shape[1]:
        raise UserError(f"scores_x and scores_y must have the same tasks, got {x.shape[1]} and {y.shape[1]}")
    point = float(_batched_improvement(x[None], y[None])[0])
    if reps == 0:
        return point, point, point
    rng = np.random.default_rng(seed)
    values = np.empty(reps)
    chunk = 256
    for start in range(0, reps, chunk):
        count = min(chunk, reps - start)
        values[start : start + count] = _batched_improvement(_resample(x, count, rng), _resample(y, count, rng))
    low, high = _percentile_interval(values, confidence)
    return point, low, high
