"""How stale are LiquidSAC's stored states, and how much of it a burn-in removes (R2D2's measurement).

The replay buffer stores the states the networks met in the rollout; the networks have learned
since, so a stored state is not the state the current networks would reach at that step. For
the whole episodes in a model's replay buffer, :func:`stale_state_errors` compares the state
the current actor and critic reach from each episode's start (the truth) with the stored state
``k`` steps earlier warmed up over those ``k`` steps (what a burn-in of ``k`` gives), and
reports the error of the states and of what they feed: the deterministic action and the Q value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th

from ncp_control.errors import UserError


def _episodes(model: Any, env: int) -> list[tuple[int, int]]:
    """:return: ``(first, end)`` rows of the whole episodes in ``env``'s stream that fit in it
    without wrapping (steps and last observation; all of the same length, the most common one)."""
    buffer = model.replay_buffer
    count = int(buffer.counts[env])
    if buffer.counts[env] == buffer.per_env:
        raise UserError("stale_state_errors reads a replay buffer that has not wrapped around: use a larger buffer_size")
    starts = np.flatnonzero(buffer.episode_starts[:count, env] > 0)
    spans = [(int(a), int(b)) for a, b in zip(starts, [*starts[1:], count]) if buffer.transitions[b - 1, env] == 0]
    if not spans:
        raise UserError("the replay buffer holds no whole episode yet: train longer")
    lengths = [b - a for a, b in spans]
    common = max(set(lengths), key=lengths.count)
    return [span for span in spans if span[1] - span[0] == common]


@th.no_grad()
def stale_state_errors(model: Any, burn_ins: tuple[int, ...] = (0, 1, 2, 4, 8, 16), first_step: int = 20,
                       env: int = 0) -> dict[int, dict[str, float]]:
    """Errors of the stored states after each burn-in length, against the current networks' own states.

    :param model: a trained :class:`~ncp_control.agents.LiquidSAC` (its replay buffer not wrapped).
    :param burn_ins: the burn-in lengths to measure (each at most ``first_step``).
    :param first_step: steps of each episode before the first one measured (every step from it
        to the episode's last is).
    :param env: the env whose stream is read.
    :return: burn-in -> ``actor_state`` and ``critic_state`` (mean relative error of the state
        vectors), ``action`` (mean absolute error of the deterministic action in [-1, 1]),
        ``q`` (mean absolute error of the smallest Q value of the true state's action) and
        ``q_scale`` (the mean absolute Q value).
    """
    if max(burn_ins) > first_step:
        raise UserError(f"burn-ins must be at most first_step ({first_step}), got {max(burn_ins)}")
    buffer, actor, critic = model.replay_buffer, model.actor, model.critic
    spans = _episodes(model, env)
    length = spans[0][1] - spans[0][0]

    def stack(array: np.ndarray) -> th.Tensor:
        return th.as_tensor(np.stack([array[a:b, env] for a, b in spans]))  # [E, length, ...]

    obs, timespans, stored = stack(buffer.observations), stack(buffer.timespans), stack(buffer.states)
    split = actor.state_size
    # the truth: the states before each entry, from rest at the episode's start
    true = th.zeros(len(spans), length, stored.shape[-1])
    h = th.zeros(len(spans), stored.shape[-1])
    for t in range(length):
        true[:, t] = h
        x, ts = obs[:, t : t + 1], timespans[:, t : t + 1]
        h = th.cat([actor(x, h[:, :split], ts, None)[2], critic.encode(x, h[:, split:], ts, None)[1]], dim=1)
    steps = th.arange(first_step, length - 1)  # every step from first_step (the last observation is not one)
    x, ts = obs[:, steps].flatten(0, 1)[:, None], timespans[:, steps].flatten(0, 1)[:, None]
    target = true[:, steps].flatten(0, 1)

    def read(state: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """:return: the deterministic action, the critic's latent, for states ``[N, S]`` at the measured steps."""
        action = th.tanh(actor(x, state[:, :split], ts, None)[0][:, 0])
        return action, critic.encode(x, state[:, split:], ts, None)[0]

    def relative(a: th.Tensor, b: th.Tensor) -> float:
        """:return: the mean relative error of the rows of ``a`` against those of ``b`` (0 for empty rows)."""
        return float(((a - b).norm(dim=1) / b.norm(dim=1).clamp(min=1e-6)).mean()) if a.shape[1] else 0.0

    true_action, true_latent = read(target)
    true_q = critic.q_values(true_latent, true_action[:, None]).min(dim=0).values
    results = {}
    for k in burn_ins:
        state = stored[:, steps - k].flatten(0, 1)
        for j in range(k):  # warm up over the k entries before each measured step
            xj, tj = obs[:, steps - k + j].flatten(0, 1)[:, None], timespans[:, steps - k + j].flatten(0, 1)[:, None]
            state = th.cat([actor(xj, state[:, :split], tj, None)[2], critic.encode(xj, state[:, split:], tj, None)[1]], dim=1)
        action, latent = read(state)
        q = critic.q_values(latent, true_action[:, None]).min(dim=0).values

        results[k] = {
            "actor_state": relative(state[:, :split], target[:, :split]),
            "critic_state": relative(state[:, split:], target[:, split:]),
            "action": float((action - true_action).abs().mean()),
            "q": float((q - true_q).abs().mean()),
            "q_scale": float(true_q.abs().mean()),
        }
    return results
