"""The stale-state measurement: zero where the networks have not learned, shrinking with the burn-in."""

from __future__ import annotations

import torch as th
from ncp_control.agents import LiquidSAC
from ncp_control.agents.burn_in import stale_state_errors


def _model(learning_starts: int) -> LiquidSAC:
    th.set_num_threads(1)
    return LiquidSAC("CfCPolicy", "NCPControl/PendulumNoVel-v1", seed=0, learning_rate=3e-3, batch_size=32, seq_len=8,
                     burn_in=4, learning_starts=learning_starts, policy_kwargs={"units": 8, "q_head": [16]})


def test_stored_states_are_the_truth_when_nothing_was_learned() -> None:
    model = _model(learning_starts=1000)
    model.learn(450)  # two whole episodes, no update
    errors = stale_state_errors(model, (0, 4))
    for row in errors.values():
        assert row["actor_state"] < 1e-5 and row["critic_state"] < 1e-5 and row["q"] < 1e-4


def test_a_burn_in_brings_stale_states_back_to_the_truth() -> None:
    model = _model(learning_starts=100)
    model.learn(450)
    errors = stale_state_errors(model, (0, 16))
    assert errors[0]["critic_state"] > 0.01 and errors[0]["q"] > 0.01  # the networks learned: stale
    for name in ("actor_state", "critic_state", "q"):
        assert errors[16][name] < errors[0][name] / 3
