"""Learning thresholds of the tuned LiquidPPO recipes (slow).

CI has about seven minutes of one core for this file. With the tuned CartPoleNoVel-v1 recipe
(100k steps; about 90 s of CPU per CfC run, 70 s per CT-RNN run; the file took 8.3 minutes of
wall time on the loaded 2-core development machine with another training beside it) it checks the full CfCPolicy + NCP target (median
over seeds 0, 1, 2 >= 475) and one CT-RNN seed against a threshold set below its measured
value. The other full checks (>= -250 within 200k steps on PendulumNoVel-v1, LTC and CT-RNN
medians on CartPoleNoVel-v1) run in ``scripts/learning_check.py``; their measured results,
passed or not, are in the README.
For scale: the memoryless MlpPolicy reached 42.3 with the earlier 10-epoch recipe and seed 0,
a random policy about 22.
"""

from __future__ import annotations

import pytest

from agents.learning import median_return, run_seeds

CARTPOLE = "NCPControl/CartPoleNoVel-v1"


@pytest.mark.slow
def test_cfc_ncp_learns_cartpole_without_velocities() -> None:
    """CfCPolicy (AutoNCP 48 units), seeds 0, 1, 2, 100k steps each: the median over seeds of
    the mean return over 20 deterministic episodes is >= 475 (the target).

    Measured 484.7, 495.8, 444.9 (median 484.7; the same figures on two machines). Seeds 3-6
    gave 462.5, 471.8, 472.2, 332.7, so the margin is small: the recipe meets the target on
    these three seeds, not on every seed. A random policy gets about 22.
    """
    results = run_seeds(CARTPOLE, "CfCPolicy", [0, 1, 2], budget=100_000, eval_episodes=20)
    assert median_return(results) >= 475.0, results


@pytest.mark.slow
def test_ctrnn_ncp_learns_cartpole_without_velocities() -> None:
    """CTRNNPolicy (AutoNCP 48 units), seed 0, 100k steps: mean return over 20 episodes >= 450
    (measured 495.5; seeds 1 and 2 gave 493.7 and 500.0, see README)."""
    (result,) = run_seeds(CARTPOLE, "CTRNNPolicy", [0], budget=100_000, eval_episodes=20)
    assert result.mean_return >= 450.0, result
