"""Learning thresholds on CartPoleNoVel-v1 with the rl-baselines3-zoo recipe (slow).

The zoo's recurrent recipe for the task (8 envs, ``n_steps`` 32, batch 256, 20 epochs, gamma
0.98, GAE 0.8, learning rate and clip range decaying linearly from 1e-3 and 0.2), 100k steps,
WITHOUT any normalisation of the env (the harder case: the policies normalise what they need
themselves), each policy with its default ``policy_kwargs``; 20 deterministic episodes per
training seed on 20 separately seeded envs stepped together (``ncp_control.agents.benchmark``;
the benchmark plays them in turn on one env: other start states, the same distribution, a
tenth of the time). About 70-100 s of one core per seed. For scale: a policy without memory
reaches about 42, a random one about 22.

The thresholds sit below the measured results (docs/learning.md) by the spread that seeds
show, because another processor's rounding (MKL takes other code paths on AMD than on Intel)
changes a run as another seed would.
"""

from __future__ import annotations

import pytest
from ncp_control.agents.benchmark import RunKey, train_and_measure

CARTPOLE = "NCPControl/CartPoleNoVel-v1"


def _check(policy: str, seeds: list[int]) -> list[dict]:
    keys = [RunKey(CARTPOLE, f"LiquidPPO:{policy}", "none", seed, 100_000, "default") for seed in seeds]
    return [train_and_measure(key, eval_episodes=20, eval_every=10_000, eval_envs=20) for key in keys]


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["CfCPolicy", "LSTMPolicy"])
def test_policy_solves_cartpole_without_velocities(policy: str) -> None:
    """Seeds 0, 1, 2, 100k steps, evaluated every 10k steps: every seed reaches 475 (of 500) at
    an evaluation, and at least two of the three end at 450 or more (memoryless: about 42).

    Measured with the current defaults (docs/learning.md): CfC ended at 500.0 on each of the
    seeds 0-4 and at 493.2-500.0 on the tuning seeds 100-104; LSTM at 488.2-500.0 on 0-4 and
    447.1-500.0 on 100-104 (19 of 20 runs at 450 or more). One of three seeds is allowed below
    450 because another processor's rounding moves a run as another seed would.
    """
    results = _check(policy, [0, 1, 2])
    summary = [(r["seed"], round(r["mean_return"], 1), [round(c[2]) for c in r["curve"]]) for r in results]
    assert all(max(c[2] for c in r["curve"]) >= 475.0 for r in results), summary
    assert sum(r["mean_return"] >= 450.0 for r in results) >= 2, summary
