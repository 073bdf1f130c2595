"""Robustness evaluation: paired evaluation under perturbation suites, metrics, tables, plots.

The evaluation policies, :func:`make_env` and :func:`run_episodes` live in
:mod:`ncp_control.agents.common`, suites in :mod:`ncp_control.envs.perturbations.suites`; their
names stay importable from here.
"""

from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import (
    ControllerPolicy,
    EvalPolicy,
    ModelPolicy,
    RandomPolicy,
    as_eval_policy,
    reference_policy,
)
from ncp_control.agents.common.evaluation import action_smoothness, run_episodes
from ncp_control.agents.robustness.bootstrap import iqm, probability_of_improvement, stratified_bootstrap_ci
from ncp_control.agents.robustness.evaluate import (
    evaluate_random,
    evaluate_robustness,
    evaluate_robustness_sweep,
)
from ncp_control.agents.robustness.metrics import (
    area_under_curve,
    cvar,
    mean_return,
    rate,
    retention,
    worst_case,
)
from ncp_control.agents.robustness.plots import plot_auc, plot_retention
from ncp_control.agents.robustness.summary import (
    add_retention,
    cell_summary,
    family_summary,
    improvement_table,
    model_summary,
)
from ncp_control.agents.robustness.table import COLUMNS, append_rows, finished_cells, read_results
from ncp_control.envs.perturbations.suites import Suite, SuiteEntry, available_suites, resolve_suite

__all__ = [
    "COLUMNS",
    "ControllerPolicy",
    "EvalPolicy",
    "ModelPolicy",
    "RandomPolicy",
    "Suite",
    "SuiteEntry",
    "action_smoothness",
    "add_retention",
    "append_rows",
    "area_under_curve",
    "as_eval_policy",
    "available_suites",
    "cell_summary",
    "cvar",
    "evaluate_random",
    "evaluate_robustness",
    "evaluate_robustness_sweep",
    "family_summary",
    "finished_cells",
    "improvement_table",
    "iqm",
    "make_env",
    "mean_return",
    "model_summary",
    "plot_auc",
    "plot_retention",
    "probability_of_improvement",
    "rate",
    "read_results",
    "reference_policy",
    "resolve_suite",
    "retention",
    "run_episodes",
    "stratified_bootstrap_ci",
    "worst_case",
]
