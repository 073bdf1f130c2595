"""Rollout buffer for recurrent policies: fixed chunks of ``seq_len`` steps, no padding.

The rollout of ``n_steps`` steps of ``n_envs`` envs is cut, per env, into
``n_steps // seq_len`` chunks of consecutive steps. The policy state at each chunk start
is stored during the rollout (one state tensor per env every ``seq_len`` steps), so
training replays every chunk from its true state. An episode start inside a chunk is a
reset mask for the network, not a cut, so every chunk has the same length and a
minibatch is a ``[chunks, seq_len]`` block. Chunk ``i`` is env ``i // n_chunks``, chunk
``i % n_chunks`` of that env.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_action_dim, get_obs_shape
from stable_baselines3.common.type_aliases import TensorDict

from ncp_control.errors import UserError


class RecurrentChunkSamples(NamedTuple):
    """One minibatch of ``B`` chunks of ``T = seq_len`` steps.

    Observations and actions are flattened batch-major to ``[B*T, ...]``; the per-step
    quantities are ``[B, T]``; ``states`` is ``[B, S]`` (the policy state before each chunk).
    """

    observations: th.Tensor | TensorDict
    actions: th.Tensor
    old_values: th.Tensor
    old_log_prob: th.Tensor
    advantages: th.Tensor
    returns: th.Tensor
    episode_starts: th.Tensor
    timespans: th.Tensor
    states: th.Tensor


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Generalised advantage estimation over ``[n_steps, n_envs]`` arrays.

    :param rewards: ``[N, E]`` (time-outs already bootstrapped).
    :param values: ``[N, E]``.
    :param episode_starts: ``[N, E]``: 1 where the observation of that step starts an episode.
    :param last_values: ``[E]`` values of the observation after the last step.
    :param dones: ``[E]`` whether the last step ended an episode.
    :param gamma: discount.
    :param gae_lambda: GAE lambda.
    :return: advantages and returns, ``[N, E]`` each.
    """
    n_steps = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    last_gae = np.zeros(rewards.shape[1], dtype=np.float32)
    for step in reversed(range(n_steps)):
        if step == n_steps - 1:
            non_terminal = 1.0 - dones.astype(np.float32)
            next_values = last_values
        else:
            non_terminal = 1.0 - episode_starts[step + 1]
            next_values = values[step + 1]
        delta = rewards[step] + gamma * next_values * non_terminal - values[step]
        last_gae = delta + gamma * gae_lambda * non_terminal * last_gae
        advantages[step] = last_gae
    return advantages, advantages + values


class ChunkedRolloutBuffer:
    """Stores one rollout and serves minibatches of whole chunks.

    :param buffer_size: steps per env (``n_steps``), a multiple of ``seq_len``.
    :param observation_space: observation space (Box, Discrete or Dict).
    :param action_space: action space.
    :param state_size: size of the policy state per env.
    :param seq_len: chunk length.
    :param n_envs: number of envs.
    :param gamma: discount.
    :param gae_lambda: GAE lambda.
    :param device: torch device of the samples.
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        state_size: int,
        seq_len: int,
        n_envs: int = 1,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        device: th.device | str = "cpu",
    ) -> None:
        if seq_len < 1 or buffer_size % seq_len != 0:
            raise UserError(f"seq_len must divide n_steps: n_steps={buffer_size}, seq_len={seq_len}")
        self.buffer_size = buffer_size
        self.observation_space = observation_space
        self.action_space = action_space
        self.state_size = state_size
        self.seq_len = seq_len
        self.n_envs = n_envs
        self.n_chunks = buffer_size // seq_len
        self.gamma = gamma
        self.gae_lambda = gae_lambda
        self.device = th.device(device)
        self.obs_shape = get_obs_shape(observation_space)
        self.action_dim = get_action_dim(action_space)
        self.reset()

    def reset(self) -> None:
        """Empty the buffer (arrays are reallocated)."""
        shape = (self.buffer_size, self.n_envs)
        if isinstance(self.obs_shape, dict):
            self.observations: np.ndarray | dict[str, np.ndarray] = {
                key: np.zeros((*shape, *obs_shape), dtype=self.observation_space[key].dtype)  # type: ignore[index,arg-type]
                for key, obs_shape in self.obs_shape.items()
            }
        else:
            self.observations = np.zeros((*shape, *self.obs_shape), dtype=self.observation_space.dtype)
        self.actions = np.zeros((*shape, self.action_dim), dtype=np.float32)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.episode_starts = np.zeros(shape, dtype=np.float32)
        self.values = np.zeros(shape, dtype=np.float32)
        self.log_probs = np.zeros(shape, dtype=np.float32)
        self.timespans = np.ones(shape, dtype=np.float32)
        self.advantages = np.zeros(shape, dtype=np.float32)
        self.returns = np.zeros(shape, dtype=np.float32)
        self.states = np.zeros((self.n_chunks, self.n_envs, self.state_size), dtype=np.float32)
        self.pos = 0
        self.full = False

    def add_state(self, state: th.Tensor | np.ndarray) -> None:
        """Store the policy state before the current step (called when ``pos % seq_len == 0``).

        :param state: ``[n_envs, state_size]``.
        """
        if self.pos % self.seq_len != 0:
            raise UserError(f"states are stored at chunk starts only (pos {self.pos}, seq_len {self.seq_len})")
        if isinstance(state, th.Tensor):
            state = state.detach().cpu().numpy()
        self.states[self.pos // self.seq_len] = state

    def add(
        self,
        obs: np.ndarray | dict[str, np.ndarray],
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: th.Tensor,
        log_prob: th.Tensor,
        timespan: np.ndarray,
    ) -> None:
        """Store one step of every env.

        :param obs: ``[n_envs, ...]`` observations the actions were taken on.
        :param action: ``[n_envs, action_dim]``.
        :param reward: ``[n_envs]``.
        :param episode_start: ``[n_envs]``: the observation starts an episode.
        :param value: ``[n_envs]`` critic values.
        :param log_prob: ``[n_envs]``.
        :param timespan: ``[n_envs]`` elapsed time before this observation, in nominal periods.
        """
        if self.full:
            raise UserError("the buffer is full; call reset() first")
        if isinstance(self.observations, dict):
            assert isinstance(obs, dict)
            for key in self.observations:
                self.observations[key][self.pos] = np.asarray(obs[key]).reshape(self.observations[key].shape[1:])
        else:
            self.observations[self.pos] = np.asarray(obs).reshape(self.observations.shape[1:])
        self.actions[self.pos] = np.asarray(action).reshape(self.n_envs, self.action_dim)
        self.rewards[self.pos] = np.asarray(reward)
        self.episode_starts[self.pos] = np.asarray(episode_start)
        self.values[self.pos] = value.detach().cpu().numpy().flatten()
        self.log_probs[self.pos] = log_prob.detach().cpu().numpy().flatten()
        self.timespans[self.pos] = np.asarray(timespan)
        self.pos += 1
        self.full = self.pos == self.buffer_size

    def compute_returns_and_advantage(self, last_values: th.Tensor, dones: np.ndarray) -> None:
        """GAE over the stored rollout.

        :param last_values: ``[n_envs]`` values of the observation after the last step.
        :param dones: ``[n_envs]`` whether the last step ended an episode.
        """
        self.advantages, self.returns = compute_gae(
            self.rewards,
            self.values,
            self.episode_starts,
            last_values.detach().cpu().numpy().flatten(),
            np.asarray(dones),
            self.gamma,
            self.gae_lambda,
        )

    def _chunked(self, array: np.ndarray) -> np.ndarray:
        """``[N, E, ...]`` -> ``[E * n_chunks, seq_len, ...]`` (env-major chunk order)."""
        swapped = np.swapaxes(array, 0, 1)
        return swapped.reshape(self.n_envs * self.n_chunks, self.seq_len, *array.shape[2:])

    def chunks(self) -> dict[str, np.ndarray | dict[str, np.ndarray]]:
        """:return: every stored array cut into chunks, ``[n_chunks_total, seq_len, ...]``;
        ``states`` is ``[n_chunks_total, state_size]``."""
        if isinstance(self.observations, dict):
            observations: np.ndarray | dict[str, np.ndarray] = {k: self._chunked(v) for k, v in self.observations.items()}
        else:
            observations = self._chunked(self.observations)
        return {
            "observations": observations,
            "actions": self._chunked(self.actions),
            "old_values": self._chunked(self.values),
            "old_log_prob": self._chunked(self.log_probs),
            "advantages": self._chunked(self.advantages),
            "returns": self._chunked(self.returns),
            "episode_starts": self._chunked(self.episode_starts),
            "timespans": self._chunked(self.timespans),
            "states": np.swapaxes(self.states, 0, 1).reshape(self.n_envs * self.n_chunks, self.state_size),
        }

    def get(self, batch_size: int | None = None) -> Generator[RecurrentChunkSamples, None, None]:
        """Minibatches of whole chunks, in random order.

        :param batch_size: steps per minibatch (rounded down to whole chunks, at least one);
            None: the whole rollout.
        :return: a generator of :class:`RecurrentChunkSamples`.
        """
        if not self.full:
            raise UserError("the rollout is not complete")
        data = self.chunks()
        total = self.n_envs * self.n_chunks
        per_batch = total if batch_size is None else max(1, batch_size // self.seq_len)
        order = np.random.permutation(total)
        for start in range(0, total, per_batch):
            yield self._samples(data, order[start : start + per_batch])

    def _to_tensor(self, array: np.ndarray, flat: bool) -> th.Tensor:
        if flat:
            array = array.reshape(-1, *array.shape[2:])
        return th.as_tensor(array, device=self.device)

    def _samples(self, data: dict, idx: np.ndarray) -> RecurrentChunkSamples:
        obs = data["observations"]
        if isinstance(obs, dict):
            observations: th.Tensor | TensorDict = {k: self._to_tensor(v[idx], flat=True) for k, v in obs.items()}
        else:
            observations = self._to_tensor(obs[idx], flat=True)
        return RecurrentChunkSamples(
            observations=observations,
            actions=self._to_tensor(data["actions"][idx], flat=True),
            old_values=self._to_tensor(data["old_values"][idx], flat=False),
            old_log_prob=self._to_tensor(data["old_log_prob"][idx], flat=False),
            advantages=self._to_tensor(data["advantages"][idx], flat=False),
            returns=self._to_tensor(data["returns"][idx], flat=False),
            episode_starts=self._to_tensor(data["episode_starts"][idx], flat=False),
            timespans=self._to_tensor(data["timespans"][idx], flat=False),
            states=self._to_tensor(data["states"][idx], flat=False),
        )
