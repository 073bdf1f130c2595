"""A LiquidPPO policy on a hypersolver: the actor's recorded inputs, the switch, and back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from ncp_control.agents import LiquidPPO
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.hypersolver import actor_network, fit_actor_hypersolver, record_actor_inputs
from ncp_control.agents.timing import first_step_seconds

from ncp_control.errors import UserError
from ncp_control.solvers import solver_states, use_solver

ENV = "NCPControl/CartPoleNoVel-v1"


def make() -> Any:
    return make_env(ENV)


@pytest.fixture(scope="module")
def model() -> LiquidPPO:
    """An untrained LTC policy (its episodes are short and deterministic) with a fitted hypersolver."""
    th.manual_seed(0)
    agent = LiquidPPO("LTCPolicy", ENV, policy_kwargs={"units": 8}, n_steps=32, seed=0)
    inputs = record_actor_inputs(agent, make, [0, 1, 2])
    fit_actor_hypersolver(agent, inputs, "hyper_semi_implicit", (1, 2), hidden=16, iterations=200, lr=1e-2)
    return agent


def episode(agent: LiquidPPO, seed: int) -> tuple[list[int], th.Tensor]:
    """One deterministic episode through ``predict``: the actions and the actor's states ``[T, N]``."""
    env = make()
    obs, _ = env.reset(seed=seed)
    state, dt, actions, states = None, first_step_seconds(env), [], []
    done = False
    while not done:
        action, state = agent.predict(obs, state, episode_start=np.array([not actions]), deterministic=True, dt=dt)
        actions.append(int(action))
        states.append(th.as_tensor(state[0, : agent.policy.actor_state_size]))
        obs, _, terminated, truncated, info = env.step(action)
        dt, done = float(info.get("dt", dt)), terminated or truncated
    return actions, th.stack(states)


@pytest.mark.parametrize(("solver", "unfolds"), [("hyper_semi_implicit", 1), ("hyper_semi_implicit", 2), ("semi_implicit", 2)])
def test_switched_policy_acts_as_the_loop_on_its_recorded_inputs(model: LiquidPPO, solver: str, unfolds: int) -> None:
    actor = actor_network(model)
    use_solver(actor, solver, unfolds)
    try:
        inputs = record_actor_inputs(model, make, [5])
        actions, states = episode(model, 5)
        # the states predict carried (the fast path for semi-implicit, the loop for the hypersolver)
        # equal the per-step loop's on the inputs recorded from the same episode
        loop = solver_states(actor, inputs.features, inputs.timespans, solver, unfolds)[0, 1:]
        assert inputs.lengths == [len(actions)] and loop.shape == states.shape
        th.testing.assert_close(states, loop, rtol=1e-5, atol=1e-6)
        assert inputs.timespans.eq(1.0).all()  # CartPole steps at its nominal period
    finally:
        use_solver(actor, "semi_implicit", 6)


def test_switching_back_restores_the_policy_exactly(model: LiquidPPO) -> None:
    actor = actor_network(model)
    before = episode(model, 7)
    use_solver(actor, "hyper_semi_implicit", 1)
    switched = episode(model, 7)
    use_solver(actor, "semi_implicit", 6)
    after = episode(model, 7)
    assert not th.equal(switched[1][: len(before[1])], before[1][: len(switched[1])])  # the switch acted
    assert after[0] == before[0] and th.equal(after[1], before[1])
    assert actor.config()["solver"] == "semi_implicit" and actor.config()["ode_unfolds"] == 6


def test_fit_reduces_the_local_error_and_travels_with_the_policy(model: LiquidPPO) -> None:
    inputs = record_actor_inputs(model, make, [3, 4])
    report = fit_actor_hypersolver(model, inputs, "hyper_semi_implicit", (1,), hidden=16, iterations=200, lr=1e-2)
    assert report.local_error_fitted < 0.7 * report.local_error_base
    keys = [key for key in model.policy.state_dict() if key.startswith("actor_net.cell.hypersolver.")]
    assert "actor_net.cell.hypersolver.fitted" in keys


def test_non_liquid_policy_is_refused() -> None:
    agent = LiquidPPO("GRUPolicy", ENV, n_steps=32, seed=0)
    with pytest.raises(UserError, match="model must be an LTC or CTRNN"):
        actor_network(agent)
    with pytest.raises(UserError, match="model must be a LiquidPPO model or policy"):
        actor_network(object())
