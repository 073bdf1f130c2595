"""The time study: does the time input, and training under timing shift, make policies robust?

``python -m ncp_control.cli.study_time [--quick] [--out DIR]`` trains, on LaneKeeping-v0 and
QuadHover-v0 and over 5 seeds, ``CfCPolicy`` (NCP wiring) with and without the time input
(``use_info_dt``), ``MlpPolicy`` and ``LSTMPolicy``, each on the nominal env and under
control-rate + dt-jitter randomisation (``train_shift``); evaluates every run on the
``timing`` suite (and the randomised ones on ``dynamics`` too); and writes the per-family
AUC table (IQM over seeds with a 95% stratified bootstrap interval) and a plot per env.

Resumable: each finished run is one JSON line of ``runs.jsonl`` and is skipped when the study
runs again; training and evaluation of an unfinished run resume from their own files.
``--quick`` runs a tiny version (one env, two seeds, short episodes) in about a minute.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from ncp_control.agents.benchmark import append_result, read_results
from ncp_control.agents.common.files import atomic_write_bytes
from ncp_control.agents.robustness.bootstrap import stratified_bootstrap_ci
from ncp_control.agents.robustness.evaluate import evaluate_random, evaluate_robustness
from ncp_control.agents.robustness.plots import plot_auc
from ncp_control.agents.robustness.summary import cell_summary, family_summary
from ncp_control.agents.robustness.table import read_results as read_table
from ncp_control.agents.runs import RunConfig, train_run
from ncp_control.cli.commands.demo import RECIPE

ENVS = ("NCPControl/LaneKeeping-v0", "NCPControl/QuadHover-v0")
#: variant -> (policy alias, LiquidPPO arguments).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "CfC-NCP+time": ("CfCPolicy", {"use_info_dt": True}),
    "CfC-NCP": ("CfCPolicy", {"use_info_dt": False}),
    "MLP": ("MlpPolicy", {}),
    "LSTM": ("LSTMPolicy", {}),
}
#: training -> (train_shift, evaluation suites).
TRAININGS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "nominal": ([], ("timing",)),
    "randomised": (["control_rate", "dt_jitter"], ("timing", "dynamics")),
}


class StudyRecipe(NamedTuple):
    """How one task of the study is trained."""

    #: LiquidPPO arguments shared by every policy.
    hyperparams: dict[str, Any]
    #: parallel training envs.
    n_envs: int
    #: training steps per run.
    timesteps: int


#: task -> its recipe: lane keeping with the demo's; the quadrotor with SB3 PPO's defaults on
#: 4 envs (an MLP learns to hover with them in 300k steps, docs: Environments, *Learnable*) and
#: 500k steps (a CfC-NCP on tuning seed 100: 385 at 400k steps, 100% success; the reference
#: controller's return is 404).
RECIPES: dict[str, StudyRecipe] = {
    "NCPControl/LaneKeeping-v0": StudyRecipe(RECIPE, 8, 32_768),
    "NCPControl/QuadHover-v0": StudyRecipe(
        {"n_steps": 1024, "batch_size": 256, "n_epochs": 10, "learning_rate": 3e-4, "gamma": 0.99,
         "gae_lambda": 0.95, "ent_coef": 0.0}, 4, 500_000),
}
QUICK_ENV_KWARGS = {"NCPControl/LaneKeeping-v0": {"route_length": 20.0}}


def run_id(env_id: str, variant: str, training: str, seed: int) -> str:
    """:return: the run's folder name and key."""
    return f"{re.sub(r'[^A-Za-z0-9.-]+', '-', env_id).strip('-')}__{variant}__{training}__seed{seed}"


def run_one(out: Path, env_id: str, variant: str, training: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate one run (both resume from their files).

    :param out: the study folder.
    :param env_id: the task.
    :param variant: a key of :data:`VARIANTS`.
    :param training: a key of :data:`TRAININGS`.
    :param seed: the training seed.
    :param args: the study's arguments (budgets, episodes, levels).
    :return: the run's record: its key and the per-family AUC.
    """
    policy, options = VARIANTS[variant]
    shift, suites = TRAININGS[training]
    key = run_id(env_id, variant, training, seed)
    env_kwargs = QUICK_ENV_KWARGS.get(env_id, {}) if args.quick else {}
    recipe = RECIPES[env_id]
    hyperparams = {**recipe.hyperparams, **options, **({"n_steps": 32, "batch_size": 64} if args.quick else {})}
    config = RunConfig(env_id=env_id, policy=policy, timesteps=args.timesteps or recipe.timesteps, seed=seed,
                       n_envs=args.n_envs or recipe.n_envs, hyperparams=hyperparams, env_kwargs=env_kwargs, checkpoint_freq=0,
                       eval_freq=0, train_shift=list(shift))
    model = train_run(config, out / "runs" / key)
    results = out / "runs" / key / "robustness.csv"
    for suite in suites:
        evaluate_robustness(model, env_id, suite, args.levels, args.episodes, 0, name=f"{variant}/{training}",
                            train_seed=seed, results=results, env_kwargs=env_kwargs)
    baseline = out / "random.csv"
    evaluate_random(env_id, args.episodes, 0, results=baseline, env_kwargs=env_kwargs)
    rows = read_table(results)
    families = family_summary(cell_summary(pd.concat([read_table(baseline), rows], ignore_index=True)))
    return {"run": key, "env_id": env_id, "variant": variant, "training": training, "seed": seed,
            "auc": {str(row.family): float(row.auc) for row in families.itertuples()},
            "clean_return": clean_return(rows)}


def clean_return(rows: pd.DataFrame) -> float:
    """:param rows: a run's ``robustness.csv`` rows. :return: its mean return on the unperturbed
    task (the episodes every suite shares), to tell whether the policy learned the task at all."""
    return float(rows.loc[rows["perturbation"] == "none", "return"].mean())


def finished_runs(log: Path) -> set[str]:
    """:param log: the study's ``runs.jsonl``. :return: the keys of its finished runs."""
    return {record["run"] for record in read_results(log)}


def summarize(records: list[dict[str, Any]], reps: int = 2000) -> pd.DataFrame:
    """Per (env, variant, training, family): the AUC's and the clean return's IQM over seeds, each
    with a 95% bootstrap interval (NaN where a record has no clean return).

    :param records: the runs of ``runs.jsonl``.
    :param reps: bootstrap replications.
    :return: the table.
    """
    rows = [{"env_id": r["env_id"], "model": f"{r['variant']}/{r['training']}", "train_seed": r["seed"],
             "family": family, "auc": auc, "clean_return": r.get("clean_return", np.nan)}
            for r in records for family, auc in r["auc"].items()]
    long = pd.DataFrame(rows, columns=["env_id", "model", "train_seed", "family", "auc", "clean_return"])
    out = []
    for (env_id, model, family), group in long.groupby(["env_id", "model", "family"], sort=True):
        row = {"env_id": env_id, "model": model, "family": family, "seeds": len(group)}
        for column in ("auc", "clean_return"):
            values = group[column].to_numpy(dtype=np.float64)[:, None]
            if np.isnan(values).any():
                row.update({f"{column}_iqm": np.nan, f"{column}_low": np.nan, f"{column}_high": np.nan})
                continue
            point, low, high = stratified_bootstrap_ci(values, "iqm", reps=reps, seed=0)
            row.update({f"{column}_iqm": point, f"{column}_low": low, f"{column}_high": high})
        out.append(row)
    return pd.DataFrame(out)


def write_outputs(out: Path, records: list[dict[str, Any]], reps: int) -> list[Path]:
    """Write ``auc.csv`` and one AUC plot per env.

    :param out: the study folder.
    :param records: the finished runs.
    :param reps: bootstrap replications.
    :return: the written files.
    """
    table = summarize(records, reps)
    path = out / "auc.csv"
    atomic_write_bytes(path, table.to_csv(index=False).encode())
    written = [path]
    families = pd.DataFrame([{"env_id": r["env_id"], "model": f"{r['variant']}/{r['training']}",
                              "train_seed": r["seed"], "family": family, "auc": auc}
                             for r in records for family, auc in r["auc"].items()])
    for env_id, group in families.groupby("env_id"):
        written += plot_auc(group, out / f"auc_{re.sub(r'[^A-Za-z0-9.-]+', '-', str(env_id)).strip('-')}", reps)
    return written


def main(argv: list[str] | None = None) -> int:
    """Run (or resume) the study and write its table and plots.

    :param argv: command-line arguments (see ``--help``).
    :return: exit status 0.
    """
    parser = argparse.ArgumentParser(prog="python -m ncp_control.cli.study_time", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=None, help="study folder (default study-time, study-time-quick)")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: LaneKeeping only, 2 seeds, short roads")
    parser.add_argument("--envs", nargs="+", choices=ENVS, default=None,
                        help="tasks (default both; lane keeping only with --quick)")
    parser.add_argument("--variants", nargs="+", choices=tuple(VARIANTS), default=None,
                        help="policies (default all)")
    parser.add_argument("--trainings", nargs="+", choices=tuple(TRAININGS), default=None,
                        help="nominal and/or randomised (default both)")
    parser.add_argument("--seeds", type=int, default=None, help="training seeds (default 5, 2 with --quick)")
    parser.add_argument("--first-seed", type=int, default=0, help="first training seed (default 0)")
    parser.add_argument("--timesteps", type=int, default=None, help="training steps per run (default per env)")
    parser.add_argument("--n-envs", type=int, default=None, help="parallel training envs (default: the task's recipe)")
    parser.add_argument("--episodes", type=int, default=None, help="episodes per cell (default 10, 1 with --quick)")
    parser.add_argument("--levels", type=float, nargs="+", default=None, help="levels (default: the suites')")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap replications (default 2000)")
    args = parser.parse_args(argv)
    if args.quick:
        args.timesteps = args.timesteps or 128
        args.n_envs = 2
        args.levels = args.levels or [1.0]
    args.episodes = args.episodes or (1 if args.quick else 10)
    envs = args.envs or (ENVS[:1] if args.quick else ENVS)
    if args.first_seed < 0:
        parser.error(f"--first-seed must be >= 0, got {args.first_seed}")
    seeds = range(args.first_seed, args.first_seed + (args.seeds or (2 if args.quick else 5)))
    out = Path(args.out or ("study-time-quick" if args.quick else "study-time"))
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    for env_id in envs:
        for variant in args.variants or VARIANTS:
            for training in args.trainings or TRAININGS:
                for seed in seeds:
                    # read before every run: another process may share the folder
                    if run_id(env_id, variant, training, seed) in finished_runs(log):
                        continue
                    record = run_one(out, env_id, variant, training, seed, args)
                    append_result(log, record)
                    print(f"finished {record['run']}: AUC {record['auc']}", flush=True)
    for path in write_outputs(out, read_results(log), args.reps):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
