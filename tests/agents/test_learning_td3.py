"""A learning threshold for LiquidTD3 on PendulumNoVel-v1 with the zoo's TD3 recipe (slow).

The zoo's TD3 recipe for Pendulum (10k random steps first, Gaussian exploration noise 0.1,
gamma 0.98, learning rate 1e-3, ``[400, 300]`` Q heads), LiquidTD3's defaults, no
normalisation; 10 deterministic episodes on a separately seeded env
(``ncp_control.agents.benchmark``). About six minutes of one core. For scale: a random policy
scores about -1200 on the task, a swing-up policy about -150 to -200.
"""

from __future__ import annotations

import pytest
from ncp_control.agents.benchmark import RunKey, train_and_measure


@pytest.mark.slow
def test_liquid_td3_cfc_learns_pendulum_without_velocities() -> None:
    """Seed 0, 20k steps (10k of them learning): the CfC (NCP wiring) ends at -500 or more.

    Measured on the tuning seed 100 (docs/learning.md, *LiquidTD3*): -1118 before learning,
    -328 after 15k steps and -130 after 20k; seed 0 was at -570 after 15k. The threshold leaves
    room for another seed and another processor's rounding.
    """
    key = RunKey("NCPControl/PendulumNoVel-v1", "LiquidTD3:CfCPolicy", "zoo", 0, 20_000, "default")
    result = train_and_measure(key, eval_episodes=10)
    assert result["mean_return"] >= -500.0, result["curve"]
