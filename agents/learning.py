"""Learning checks: train with the tuned recipe of a task, evaluate, compare to a threshold."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from statistics import median
from typing import Any

#: (env id, policy) -> (mean evaluation return required of the median seed, budget in env steps).
#: CfC on CartPoleNoVel must solve it (475 of 500); LTC and CT-RNN must learn it: 300, far
#: above what a policy without memory reaches (about 42; random about 22).
THRESHOLDS: dict[tuple[str, str], tuple[float, int]] = {
    ("NCPControl/CartPoleNoVel-v1", "CfCPolicy"): (475.0, 100_000),
    ("NCPControl/CartPoleNoVel-v1", "LTCPolicy"): (300.0, 100_000),
    ("NCPControl/CartPoleNoVel-v1", "CTRNNPolicy"): (300.0, 100_000),
    ("NCPControl/PendulumNoVel-v1", "CfCPolicy"): (-250.0, 200_000),
}


@dataclass
class LearningResult:
    """One trained seed: its evaluation return and the wall time of training."""

    env_id: str
    policy: str
    seed: int
    budget: int
    mean_return: float
    std_return: float
    seconds: float


def train_and_evaluate(env_id: str, policy: str, seed: int, budget: int | None = None, eval_episodes: int = 20) -> LearningResult:
    """Train one seed with the task's tuned recipe and evaluate it deterministically.

    :param env_id: the task.
    :param policy: policy alias.
    :param seed: training seed (evaluation envs use ``1000 + seed``).
    :param budget: env steps (None: the tuned ``n_timesteps``).
    :param eval_episodes: evaluation episodes.
    :return: the result.
    """
    import torch
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    from agents.zoo import make_tuned

    torch.set_num_threads(1)
    model, tuned_budget = make_tuned(env_id, seed=seed, policy=policy)
    steps = tuned_budget if budget is None else budget
    start = time.perf_counter()
    model.learn(steps)
    seconds = time.perf_counter() - start
    eval_env = make_vec_env(env_id, n_envs=1, seed=1000 + seed)
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes, deterministic=True)  # type: ignore[arg-type]
    return LearningResult(env_id, policy, seed, steps, float(mean), float(std), seconds)  # type: ignore[arg-type]


def _run(args: tuple[str, str, int, int | None, int]) -> LearningResult:
    return train_and_evaluate(*args)


def run_seeds(
    env_id: str, policy: str, seeds: list[int], budget: int | None = None, eval_episodes: int = 20, jobs: int = 1
) -> list[LearningResult]:
    """Train and evaluate several seeds, ``jobs`` processes at a time.

    :return: one result per seed, in seed order.
    """
    tasks = [(env_id, policy, seed, budget, eval_episodes) for seed in seeds]
    if jobs <= 1:
        return [_run(task) for task in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_run, tasks))


def median_return(results: list[LearningResult]) -> float:
    """:return: the median over seeds of the mean evaluation return."""
    return float(median(r.mean_return for r in results))


def summary(results: list[LearningResult], threshold: float | None) -> dict[str, Any]:
    """:return: median, per-seed returns, total seconds and whether the threshold is met."""
    value = median_return(results)
    return {
        "median": value,
        "returns": [round(r.mean_return, 1) for r in results],
        "seconds": round(sum(r.seconds for r in results), 1),
        "passed": threshold is None or value >= threshold,
    }
