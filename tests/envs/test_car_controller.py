"""The lane-keeping reference controller: solves the nominal task, and its recorded scores."""

from __future__ import annotations

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers the ids)
import numpy as np
import pytest
from ncp_control.envs.car.controller import RANDOM_RETURN, REFERENCE_RETURN, LaneKeepingController, evaluate


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_controller_drives_one_kilometre_without_crash(seed: int) -> None:
    env = gym.make("NCPControl/LaneKeeping-v0", route_length=1000.0, max_episode_steps=2000)
    controller = LaneKeepingController()
    obs, info = env.reset(seed=seed)
    worst = 0.0
    while True:
        obs, _, terminated, truncated, info = env.step(controller(obs))
        worst = max(worst, abs(info["lateral_error"]))
        if terminated or truncated:
            break
    assert not info["crash"] and info["success"]
    assert info["distance"] >= 1000.0
    assert worst < 0.6  # well inside the 1.75 m half lane


def test_recorded_reference_and_random_scores() -> None:
    reference = evaluate(LaneKeepingController())
    assert reference["return"] == pytest.approx(REFERENCE_RETURN, abs=0.5)
    assert reference["crash_rate"] == 0.0 and reference["success_rate"] == 1.0
    random = evaluate("random")
    assert random["return"] == pytest.approx(RANDOM_RETURN, abs=0.5)
    assert random["crash_rate"] == 1.0


def test_predict_matches_call_for_batches() -> None:
    controller = LaneKeepingController()
    env = gym.make("NCPControl/LaneKeeping-v0")
    batch = np.stack([env.reset(seed=s)[0] for s in range(4)])
    actions, state = controller.predict(batch, state="h")
    assert actions.shape == (4, 1) and actions.dtype == np.float32 and state == "h"
    for row, action in zip(batch, actions):
        np.testing.assert_array_equal(controller(row), action)
    assert controller.predict(batch[0])[0].shape == (1,)


def test_bad_preview_distances() -> None:
    with pytest.raises(ValueError, match="preview_distances must be increasing"):
        LaneKeepingController(preview_distances=(10.0, 0.0))
