"""Learning thresholds of the tuned LiquidPPO recipes (slow).

CI has about seven minutes of one core for this file, so it trains one seed per policy
with the tuned CartPoleNoVel-v1 recipe (100k steps, about 2.5 minutes per run) and checks a
threshold set below the value measured for that seed. The issue's full checks (median over
3 seeds of CfCPolicy + NCP >= 475 within 100k steps on CartPoleNoVel-v1, >= -250 within 200k
steps on PendulumNoVel-v1, LTC and CT-RNN on CartPoleNoVel-v1) run in
``scripts/learning_check.py``; their measured results, passed or not, are in the README.
For scale: the memoryless MlpPolicy with the same recipe and seed reaches 42.3 (measured),
a random policy about 22.
"""

from __future__ import annotations

import pytest

from agents.learning import run_seeds

CARTPOLE = "NCPControl/CartPoleNoVel-v1"


@pytest.mark.slow
def test_cfc_ncp_learns_cartpole_without_velocities() -> None:
    """CfCPolicy (AutoNCP 32 units), seed 0, 100k steps: mean return over 20 episodes >= 300
    (measured 390.6 and 411.7 in two runs; a random policy gets about 22)."""
    (result,) = run_seeds(CARTPOLE, "CfCPolicy", [0], budget=100_000, eval_episodes=20)
    assert result.mean_return >= 300.0, result


@pytest.mark.slow
def test_ctrnn_ncp_learns_cartpole_without_velocities() -> None:
    """CTRNNPolicy (AutoNCP 32 units), seed 0, 100k steps: mean return over 20 episodes >= 100
    (measured 171.0; below the 475 of the full check, see README)."""
    (result,) = run_seeds(CARTPOLE, "CTRNNPolicy", [0], budget=100_000, eval_episodes=20)
    assert result.mean_return >= 100.0, result
