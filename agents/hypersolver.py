"""A trained liquid policy on a cheaper solver: the actor network's inputs along the policy's
own episodes, a hypersolver fitted on them, and the switch.

A :class:`~ncp_control.agents.LiquidPPO` policy acts through ``policy.actor_net``, an
:class:`~ncp_control.LTC` or :class:`~ncp_control.CTRNN` of ``ncp_control`` fed with the
policy's features (observations through its normaliser and features extractor), one step per
control period. :func:`record_actor_inputs` runs deterministic episodes with the episode runner
of the package and returns those features and timespans; :func:`fit_actor_hypersolver` fits a
hypersolver's correction on them (:func:`ncp_control.solvers.fit_hypersolver`), and
:func:`ncp_control.solvers.use_solver` on :func:`actor_network` switches the policy::

    inputs = record_actor_inputs(model, lambda: make_env(env_id), seeds=range(2000, 2016))
    fit_actor_hypersolver(model, inputs, "hyper_semi_implicit", unfolds=(1, 2))
    use_solver(actor_network(model), "hyper_semi_implicit", 1)   # acting: 1 unfold, not 6
    use_solver(actor_network(model), "semi_implicit", 6)         # back: the same actions as before

Only the actor changes: the critic (used in training, not in acting) keeps its solver. The
correction travels in the policy's ``state_dict`` with the actor's weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.common.eval_policies import ModelPolicy
from ncp_control.agents.common.evaluation import run_episodes
from torch import nn

from ncp_control.errors import UserError
from ncp_control.solvers import FitReport, fit_hypersolver
from ncp_control.solvers.fit import solver_cell
from ncp_control.timespans import to_timespans


def actor_network(model: Any) -> nn.Module:
    """The liquid network a policy acts through.

    :param model: a LiquidPPO model or its policy (``RecurrentSequencePolicy``).
    :return: ``policy.actor_net``, an LTC or CT-RNN without mixed memory.
    :raises UserError: for another policy or network.
    """
    policy = getattr(model, "policy", model)
    network = getattr(policy, "actor_net", None)
    if network is None:
        raise UserError(f"model must be a LiquidPPO model or policy with an actor_net, got {type(model).__name__}")
    solver_cell(network)  # an LTC or CT-RNN, or one clear error
    return network


@dataclass
class ActorInputs:
    """What the actor network saw along some episodes, cut to the shortest episode.

    :param features: ``[B, T, F]`` the actor's inputs (normalised, extracted observations).
    :param timespans: ``[B, T]`` each step's elapsed time in time units.
    :param returns: each episode's return.
    :param lengths: each episode's full length (before the cut).
    """

    features: th.Tensor
    timespans: th.Tensor
    returns: list[float]
    lengths: list[int]


class _Recorder(ModelPolicy):
    """A model policy that keeps every observation batch and elapsed time it acts on."""

    def __init__(self, model: Any) -> None:
        super().__init__(model, deterministic=True)
        self.observations: list[np.ndarray] = []
        self.seconds: list[np.ndarray] = []

    def act(self, observations: Any, episode_start: np.ndarray, dt: np.ndarray) -> np.ndarray:
        shown = observations if self.obs_transform is None else self.obs_transform(observations)
        self.observations.append(np.asarray(shown, dtype=np.float32))
        self.seconds.append(np.asarray(dt, dtype=np.float32))
        return super().act(observations, episode_start, dt)


def record_actor_inputs(model: Any, make: Callable[[], gym.Env], seeds: Sequence[int]) -> ActorInputs:
    """Run one deterministic episode per seed with the policy as it is and return the actor
    network's inputs along them (the states the policy itself visits).

    :param model: a LiquidPPO model with vector (Box) observations.
    :param make: builds the environment.
    :param seeds: reset seeds, one episode each.
    :return: the inputs, cut to the shortest episode's length so that they stack.
    :raises UserError: for another model or non-vector observations.
    """
    actor_network(model)
    policy = model.policy
    if not isinstance(policy.observation_space, spaces.Box):
        raise UserError(f"model must observe a vector Box space, got {policy.observation_space}")
    recorder = _Recorder(model)
    episodes = run_episodes(recorder, make, list(seeds))
    length = min(episode["length"] for episode in episodes)
    obs = np.stack(recorder.observations[:length], 1)  # [B, T, *obs]
    batch = obs.shape[0]
    with th.no_grad():
        flat = th.as_tensor(obs.reshape(batch * length, *obs.shape[2:]), device=policy.device)
        features = policy._features(flat, batch, length, policy.features_extractor)  # [B, T, F]
    seconds = np.stack(recorder.seconds[:length], 1)  # [B, T]
    if not getattr(model, "use_info_dt", True):  # predict then passes no dt: one time unit per step
        seconds = np.full_like(seconds, policy.time_unit)
    timespans = th.as_tensor(to_timespans(seconds, policy.time_unit), dtype=th.float32)
    return ActorInputs(features.cpu(), timespans, [e["return"] for e in episodes], [e["length"] for e in episodes])


def fit_actor_hypersolver(
    model: Any, inputs: ActorInputs, solver: str = "hyper_semi_implicit", unfolds: Sequence[int] = (1, 2), **fit_kwargs: Any
) -> FitReport:
    """Fit a hypersolver's correction to a policy's actor network on inputs it met
    (:func:`record_actor_inputs`); the policy keeps acting with its solver until
    :func:`~ncp_control.solvers.use_solver` switches :func:`actor_network`.

    :param model: a LiquidPPO model or its policy.
    :param inputs: the actor's inputs along the policy's episodes.
    :param solver: ``"hyper_semi_implicit"`` or ``"hyper_euler"``.
    :param unfolds: step counts per control step to fit for.
    :param fit_kwargs: further arguments of :func:`~ncp_control.solvers.fit_hypersolver`
        (``hidden``, ``iterations``, ``lr``, ``batch_size``, ``seed``).
    :return: the fit's report.
    """
    return fit_hypersolver(actor_network(model), inputs.features, inputs.timespans, solver, unfolds, **fit_kwargs)
