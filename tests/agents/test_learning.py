"""Learning thresholds of the tuned LiquidPPO recipes (slow).

CI has about ten minutes of one core for this file. With the tuned recipes (CartPoleNoVel-v1:
100k steps, about 70-90 s of CPU per CfC, LTC or CT-RNN run; PendulumNoVel-v1: 200k steps,
about 170-220 s) it checks the full CfCPolicy + NCP target on CartPoleNoVel (median over
seeds 0, 1, 2 >= 475) and one seed of each other check against a threshold set below its
measured value. The full checks of the others (LTC and CT-RNN medians >= 300 on
CartPoleNoVel, CfC median >= -250 within 200k steps on PendulumNoVel) run in
``scripts/learning_check.py``; their measured results are in the README.
For scale: a policy without memory reaches about 42 on CartPoleNoVel, a random one about 22;
a random policy scores about -1200 on PendulumNoVel.
"""

from __future__ import annotations

import pytest

from agents.learning import median_return, run_seeds

CARTPOLE = "NCPControl/CartPoleNoVel-v1"
PENDULUM = "NCPControl/PendulumNoVel-v1"


@pytest.mark.slow
def test_cfc_ncp_learns_cartpole_without_velocities() -> None:
    """CfCPolicy (AutoNCP 48 units), seeds 0, 1, 2, 100k steps each: the median over seeds of
    the mean return over 20 deterministic episodes is >= 475 (the target).

    Measured 347.8, 482.8, 500.0 (median 482.8). Seed 3 gave 415.4, so the margin is small:
    the recipe meets the target on these three seeds, not on every seed (see README).
    """
    results = run_seeds(CARTPOLE, "CfCPolicy", [0, 1, 2], budget=100_000, eval_episodes=20)
    assert median_return(results) >= 475.0, results


@pytest.mark.slow
def test_ctrnn_ncp_learns_cartpole_without_velocities() -> None:
    """CTRNNPolicy (AutoNCP 48 units), seed 0, 100k steps: mean return over 20 episodes >= 400
    (measured 455.9; seeds 1 and 2 gave 469.9 and 500.0)."""
    (result,) = run_seeds(CARTPOLE, "CTRNNPolicy", [0], budget=100_000, eval_episodes=20)
    assert result.mean_return >= 400.0, result


@pytest.mark.slow
def test_ltc_ncp_learns_cartpole_without_velocities() -> None:
    """LTCPolicy (AutoNCP 48 units, its recipe overrides), seed 0, 100k steps: mean return over
    20 episodes >= 250 (measured 333.1; seeds 1 and 2 gave 450.1 and 353.1)."""
    (result,) = run_seeds(CARTPOLE, "LTCPolicy", [0], budget=100_000, eval_episodes=20)
    assert result.mean_return >= 250.0, result


@pytest.mark.slow
def test_cfc_ncp_learns_pendulum_without_velocities() -> None:
    """CfCPolicy (AutoNCP 48 units), seed 0, 200k steps: mean return over 20 episodes >= -250,
    the target (measured -212.5; seeds 1 and 2 gave -275.6 and -217.2, median -217.2)."""
    (result,) = run_seeds(PENDULUM, "CfCPolicy", [0], budget=200_000, eval_episodes=20)
    assert result.mean_return >= -250.0, result
