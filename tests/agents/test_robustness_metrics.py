import math

import numpy as np
import pandas as pd
import pytest
from ncp_control.agents.common.evaluation import action_smoothness
from ncp_control.agents.robustness import metrics
from ncp_control.agents.robustness.summary import cell_summary, family_summary


def test_retention_hand_values():
    np.testing.assert_allclose(metrics.retention([5.0, 0.0, 10.0], 10.0, 0.0), [0.5, 0.0, 1.0])
    np.testing.assert_allclose(metrics.retention(5.0, 10.0, -10.0), 0.75)
    with pytest.raises(ValueError, match="undefined"):
        metrics.retention(1.0, 3.0, 3.0)


def test_area_under_curve_hand_values():
    assert metrics.area_under_curve([0.0, 0.5, 1.0], [1.0, 0.5, 0.0]) == pytest.approx(0.5)
    assert metrics.area_under_curve([0.0, 0.25, 1.0], [1.0, 1.0, 0.0]) == pytest.approx(0.625)
    # order of levels does not matter; the span normalises
    assert metrics.area_under_curve([0.5, 0.0], [0.0, 1.0]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="at least two"):
        metrics.area_under_curve([0.0], [1.0])


def test_cvar_worst_case_rates_mean():
    returns = np.arange(1.0, 11.0)
    assert metrics.cvar(returns, 0.1) == 1.0
    assert metrics.cvar(returns, 0.2) == 1.5
    assert metrics.cvar(returns, 0.25) == 2.0  # ceil(2.5) = 3 worst
    assert metrics.cvar(returns, 1.0) == 5.5
    assert metrics.worst_case([3.0, -2.0, 7.0]) == -2.0
    assert metrics.mean_return([1.0, 2.0, 6.0]) == 3.0
    assert metrics.rate([1.0, 0.0, float("nan"), 1.0]) == pytest.approx(2 / 3)
    assert math.isnan(metrics.rate([float("nan")]))
    with pytest.raises(ValueError, match="alpha"):
        metrics.cvar(returns, 0.0)


def test_action_smoothness_scaled_by_bounds():
    actions = np.array([[0.0, 0.0], [1.0, 2.0], [0.0, 2.0]])
    # unscaled: |diffs| = [[1,2],[1,0]] -> mean 1.0
    assert action_smoothness(actions) == pytest.approx(1.0)
    # bounds [-2,2] and [-4,4] -> scales 2 and 4 -> [[.5,.5],[.5,0]] -> mean 0.375
    assert action_smoothness(actions, np.array([-2.0, -4.0]), np.array([2.0, 4.0])) == pytest.approx(0.375)
    assert action_smoothness(np.zeros((1, 2))) == 0.0


def _table() -> pd.DataFrame:
    rows = []

    def add(model, perturbation, family, level, returns):
        for seed, value in enumerate(returns):
            rows.append(
                dict(model=model, train_seed=None, env_id="E", suite="s", perturbation=perturbation, family=family,
                     level=level, seed=seed, success=float("nan"), crash=0.0, length=10,
                     action_smoothness=0.1, tracking_error=float("nan"), **{"return": value})
            )

    add("random", "none", "none", 0.0, [0.0, 0.0])
    add("m", "none", "none", 0.0, [9.0, 11.0])  # clean mean 10
    add("m", "noise", "observation", 0.5, [4.0, 6.0])  # retention 0.5
    add("m", "noise", "observation", 1.0, [0.0, 0.0])  # retention 0
    add("m", "bias", "observation", 1.0, [10.0, 10.0])  # retention 1
    return pd.DataFrame(rows)


def test_summaries_hand_values():
    cells = cell_summary(_table())
    noise = cells[(cells["perturbation"] == "noise")].set_index("level")
    assert noise.loc[0.5, "retention"] == pytest.approx(0.5)
    assert noise.loc[1.0, "cvar_return"] == 0.0
    families = family_summary(cells)
    row = families.iloc[0]
    # noise curve (0,1),(0.5,0.5),(1,0) -> AUC 0.5; bias curve (0,1),(1,1) -> AUC 1; mean 0.75
    assert row["auc"] == pytest.approx(0.75)
    assert row["worst_retention"] == pytest.approx(0.0)


def test_summary_needs_random_baseline():
    table = _table()
    with pytest.raises(ValueError, match="random"):
        cell_summary(table[table["model"] != "random"])


def _figures(monkeypatch, plot, *args):
    """The matplotlib figures a plot function saves (none written)."""
    from ncp_control.agents.robustness import plots

    saved = []
    monkeypatch.setattr(plots, "_save", lambda figure, stem: saved.append(figure) or [])
    monkeypatch.setattr(plots._pyplot(), "close", lambda figure: None)
    plot(*args)
    return saved


def test_plots_name_the_env_and_their_band_and_draw_no_interval_from_one_seed(monkeypatch):
    from matplotlib.container import ErrorbarContainer
    from ncp_control.agents.robustness.plots import plot_auc, plot_retention

    table = _table()
    (retention,) = _figures(monkeypatch, plot_retention, table, "unused")
    title = retention._suptitle.get_text()
    assert title.startswith("E: retention") and "95% bootstrap CI of the mean over the 2 episodes of one training seed" in title
    families = family_summary(cell_summary(table))
    (auc,) = _figures(monkeypatch, plot_auc, families, "unused")
    axis = auc.axes[0]
    assert axis.get_title().startswith("E: per-family AUC") and "one training seed: no interval" in axis.get_title()
    assert not any(isinstance(c, ErrorbarContainer) for c in axis.containers)  # no bars from a single seed
    # two training seeds: an interval, and the title says what it is
    second = table[table["model"] == "m"].assign(train_seed=1, **{"return": table["return"] * 0.9})
    seeded = pd.concat([table.assign(train_seed=table["train_seed"].where(table["model"] == "random", 0)), second])
    (auc,) = _figures(monkeypatch, plot_auc, family_summary(cell_summary(seeded)), "unused")
    axis = auc.axes[0]
    assert "bars: 95% stratified bootstrap CI" in axis.get_title()
    assert any(isinstance(c, ErrorbarContainer) for c in axis.containers)
