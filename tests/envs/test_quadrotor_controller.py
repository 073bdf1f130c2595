"""The quadrotor reference controller: success on the nominal tasks and its recorded scores."""

from __future__ import annotations

import gymnasium as gym
import ncp_control.envs  # noqa: F401
import numpy as np
import pytest
from ncp_control.envs.quadrotor.controller import (
    RANDOM_SCORES,
    REFERENCE_SCORES,
    ReferenceController,
    evaluate,
)

TASKS = sorted(REFERENCE_SCORES)


@pytest.mark.parametrize("env_id", TASKS)
def test_reference_controller_succeeds_and_reproduces_its_recorded_score(env_id: str) -> None:
    scores = evaluate(env_id, policy="reference", episodes=20, seed=0)
    assert scores["success_rate"] >= 0.9  # hover: within 10 cm for the last second of the episode
    assert scores["crash_rate"] == 0.0
    recorded = REFERENCE_SCORES[env_id]
    assert scores["mean_return"] == pytest.approx(recorded["mean_return"], rel=1e-3)
    assert scores["success_rate"] == recorded["success_rate"]


@pytest.mark.parametrize("env_id", TASKS)
def test_random_scores_are_reproduced_and_far_below_the_reference(env_id: str) -> None:
    scores = evaluate(env_id, policy="random", episodes=20, seed=0)
    assert scores["mean_return"] == pytest.approx(RANDOM_SCORES[env_id]["mean_return"], rel=1e-3)
    assert scores["mean_return"] < REFERENCE_SCORES[env_id]["mean_return"] - 20


def test_reference_hover_ends_within_ten_centimetres() -> None:
    env = gym.make("NCPControl/QuadHover-v0", action_mode="motors")
    controller = ReferenceController(env)
    errors = []
    for seed in range(10):
        env.reset(seed=100 + seed)
        controller.reset()
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(controller.act())
            done = terminated or truncated
        errors.append(info["tracking_error"])
    assert np.mean(np.array(errors) < 0.1) >= 0.9


def test_reference_hover_rejects_steady_wind_with_its_integrator() -> None:
    env = gym.make("NCPControl/QuadHover-v0")
    controller = ReferenceController(env)
    successes = []
    for seed in range(5):
        env.reset(seed=seed)
        env.unwrapped.set_physical_params(wind=[1.5, -1.0, 0.0])
        controller.reset()
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(controller.act())
            done = terminated or truncated
        successes.append(info["success"])
    assert np.mean(successes) >= 0.8


def test_reference_reaches_far_targets() -> None:
    scores = evaluate("NCPControl/QuadFlyToTarget-v0", episodes=10, seed=0, split="far")
    assert scores["success_rate"] >= 0.9


def test_reference_controller_rejects_other_envs_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="quadrotor task"):
        ReferenceController(gym.make("Pendulum-v1"))
    with pytest.raises(ValueError, match="policy must be"):
        evaluate("NCPControl/QuadHover-v0", policy="lqr")
    with pytest.raises(ValueError, match="episodes"):
        evaluate("NCPControl/QuadHover-v0", episodes=0)
