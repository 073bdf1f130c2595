import functools
import inspect

import numpy as np
import pytest
import scipy.stats
from ncp_control.agents.robustness.bootstrap import iqm, probability_of_improvement, stratified_bootstrap_ci


@pytest.fixture(scope="module")
def rliable():
    """rliable with its ``arch`` dependency importable under pandas 3 (keyword signature change)."""
    import pandas.util._decorators as decorators

    original = decorators.deprecate_kwarg
    if next(iter(inspect.signature(original).parameters)) == "klass":
        decorators.deprecate_kwarg = functools.partial(original, FutureWarning)
    try:
        from rliable import library, metrics
    finally:
        decorators.deprecate_kwarg = original
    return library, metrics


def _scores(seed: int, runs: int = 6, tasks: int = 4) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(runs, tasks)) + np.arange(tasks)[None, :]


def test_iqm_equals_trimmed_mean(rliable):
    _, metrics = rliable
    for seed in range(5):
        scores = _scores(seed, runs=7, tasks=3)
        assert iqm(scores) == pytest.approx(scipy.stats.trim_mean(scores, 0.25, axis=None))
        assert iqm(scores) == pytest.approx(metrics.aggregate_iqm(scores))


def test_probability_of_improvement_point_equals_rliable(rliable):
    _, metrics = rliable
    x, y = _scores(1), _scores(2) + 0.3
    assert probability_of_improvement(x, y, reps=0)[0] == pytest.approx(metrics.probability_of_improvement(x, y))
    assert probability_of_improvement(x, x, reps=0)[0] == pytest.approx(0.5)
    ties = np.array([[1.0], [2.0]])
    assert probability_of_improvement(ties, np.array([[1.0], [1.0]]), reps=0)[0] == pytest.approx(0.75)


@pytest.mark.parametrize("statistic", ["iqm", "mean"])
def test_stratified_bootstrap_matches_rliable(rliable, statistic):
    library, metrics = rliable
    scores = _scores(3)
    func = {"iqm": metrics.aggregate_iqm, "mean": metrics.aggregate_mean}[statistic]
    np.random.seed(0)
    points, intervals = library.get_interval_estimates({"a": scores}, func, reps=4000)
    point, low, high = stratified_bootstrap_ci(scores, statistic, reps=4000, seed=1)
    assert point == pytest.approx(points["a"])
    width = intervals["a"][1] - intervals["a"][0]
    # Same distribution, independent resamples: ends agree within a few percent of the width.
    assert abs(low - intervals["a"][0]) < 0.06 * width
    assert abs(high - intervals["a"][1]) < 0.06 * width


def test_probability_of_improvement_interval_matches_rliable(rliable):
    library, metrics = rliable
    x, y = _scores(4), _scores(5) + 0.2
    np.random.seed(0)
    _, intervals = library.get_interval_estimates({"xy": (x, y)}, metrics.probability_of_improvement, reps=800)
    _, low, high = probability_of_improvement(x, y, reps=4000, seed=1)
    width = intervals["xy"][1] - intervals["xy"][0]
    assert abs(low - intervals["xy"][0]) < 0.15 * width
    assert abs(high - intervals["xy"][1]) < 0.15 * width


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="confidence"):
        stratified_bootstrap_ci(np.ones((3, 2)), confidence=1.5)
    with pytest.raises(ValueError, match="statistic"):
        stratified_bootstrap_ci(np.ones((3, 2)), statistic="max")
    with pytest.raises(ValueError, match="same tasks"):
        probability_of_improvement(np.ones((3, 2)), np.ones((3, 3)))
