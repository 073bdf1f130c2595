"""A replay buffer of episodes in order, sampled as fixed-length sequences (recurrent off-policy learning).

Each env's experience is kept as one stream of *entries* in the order the policy met them: one
per step taken (the observation, the action, the reward, the policy state before the step and
the elapsed time before the observation), and one more at each episode end holding the
episode's last observation, on which no action was taken (``transitions`` is 0 there). So every
observation is stored once, and the observation after a step is always the next entry of its
stream, a time-limit's last observation included: a recurrent network run over a sampled
sequence meets the same observations, resets and timespans that it met in the rollout, and its
output at entry ``t + 1`` is the next state's value for the step at entry ``t``.

:meth:`SequenceReplayBuffer.sample` draws windows uniformly over every stored window of the
asked length, with the policy state stored before each window's first entry (stale as the
network learns: the caller warms it up on a burn-in prefix, as R2D2 does).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

from ncp_control.errors import UserError

#: The arrays a buffer is made of (each ``[per_env, n_envs, ...]``), in the order they are saved.
ENTRY_ARRAYS = ("observations", "actions", "rewards", "terminations", "transitions", "episode_starts", "timespans",
                "states")


class SequenceSamples(NamedTuple):
    """A batch of ``B`` windows of ``W`` consecutive entries of one env's stream each."""

    #: ``[B, W, *obs_shape]`` observations (normalised by the ``VecNormalize`` given to ``sample``).
    observations: th.Tensor
    #: ``[B, W, A]`` actions taken, scaled to [-1, 1] (zeros on an episode's last observation).
    actions: th.Tensor
    #: ``[B, W]`` rewards of the steps.
    rewards: th.Tensor
    #: ``[B, W]`` 1 where the episode terminated after the step (no bootstrap), else 0.
    terminations: th.Tensor
    #: ``[B, W]`` 1 where the entry is a step taken, 0 for an episode's last observation.
    transitions: th.Tensor
    #: ``[B, W]`` 1 where the entry starts an episode (the state resets before it).
    episode_starts: th.Tensor
    #: ``[B, W]`` elapsed time before the entry's observation, in time units.
    timespans: th.Tensor
    #: ``[B, S]`` the policy state met in the rollout before each window's first entry.
    states: th.Tensor


class SequenceReplayBuffer:
    """Streams of entries per env in ring buffers of ``buffer_size // n_envs`` entries each.

    :param buffer_size: entries kept in all (each env keeps an equal share, its newest).
    :param observation_space: a Box observation space (vector or image).
    :param action_space: a 1-D Box action space (actions are stored scaled to [-1, 1]).
    :param state_size: size of the policy state stored with each entry.
    :param n_envs: number of envs, one stream each.
    :param device: torch device of the sampled tensors.
    """

    def __init__(self, buffer_size: int, observation_space: spaces.Space, action_space: spaces.Space,
                 state_size: int, n_envs: int = 1, device: th.device | str = "cpu") -> None:
        if not isinstance(observation_space, spaces.Box):
            raise UserError(f"the sequence replay buffer stores Box observations, got {observation_space}")
        if not (isinstance(action_space, spaces.Box) and len(action_space.shape) == 1):
            raise UserError(f"the sequence replay buffer stores 1-D Box actions, got {action_space}")
        if buffer_size < n_envs:
            raise UserError(f"buffer_size must be at least the number of envs ({n_envs}), got {buffer_size}")
        self.buffer_size = int(buffer_size)
        self.n_envs = int(n_envs)
        self.per_env = self.buffer_size // self.n_envs
        self.state_size = int(state_size)
        self.device = th.device(device)
        shape = (self.per_env, self.n_envs)
        self.observations = np.zeros((*shape, *observation_space.shape), dtype=observation_space.dtype)
        self.actions = np.zeros((*shape, action_space.shape[0]), dtype=np.float32)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.terminations = np.zeros(shape, dtype=np.float32)
        self.transitions = np.zeros(shape, dtype=np.float32)
        self.episode_starts = np.zeros(shape, dtype=np.float32)
        self.timespans = np.zeros(shape, dtype=np.float32)
        self.states = np.zeros((*shape, self.state_size), dtype=np.float32)
        #: ``[n_envs]`` where each env's next entry goes.
        self.positions = np.zeros(self.n_envs, dtype=np.int64)
        #: ``[n_envs]`` entries each env holds (at most ``per_env``).
        self.counts = np.zeros(self.n_envs, dtype=np.int64)

    def size(self) -> int:
        """:return: the number of entries stored, over all envs."""
        return int(self.counts.sum())

    def _write(self, envs: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """Append one entry to each of ``envs``' streams. :param values: array name -> ``[len(envs), ...]``."""
        rows = self.positions[envs]
        for name, value in values.items():
            getattr(self, name)[rows, envs] = value
        self.positions[envs] = (rows + 1) % self.per_env
        self.counts[envs] = np.minimum(self.counts[envs] + 1, self.per_env)

    def add(self, observations: np.ndarray, actions: np.ndarray, rewards: np.ndarray, terminations: np.ndarray,
            episode_starts: np.ndarray, timespans: np.ndarray, states: np.ndarray, episode_ends: np.ndarray,
            last_observations: np.ndarray, last_timespans: np.ndarray, last_states: np.ndarray) -> None:
        """Store one step of every env, and the last observation of each episode that ended with it.

        :param observations: ``[n_envs, *obs_shape]`` the observations the actions were taken on.
        :param actions: ``[n_envs, A]`` actions scaled to [-1, 1].
        :param rewards: ``[n_envs]``.
        :param terminations: ``[n_envs]`` 1 where the episode terminated (not a time limit).
        :param episode_starts: ``[n_envs]`` 1 where ``observations`` starts an episode.
        :param timespans: ``[n_envs]`` elapsed time before ``observations``, in time units.
        :param states: ``[n_envs, S]`` the policy state before the step.
        :param episode_ends: ``[n_envs]`` 1 where the episode ended with this step (terminated or
            truncated).
        :param last_observations: ``[n_envs, *obs_shape]`` the observation after the step (read
            where ``episode_ends``: the episode's last observation).
        :param last_timespans: ``[n_envs]`` the step's elapsed time (read where ``episode_ends``).
        :param last_states: ``[n_envs, S]`` the state after the step (read where ``episode_ends``).
        """
        every = np.arange(self.n_envs)
        self._write(every, {
            "observations": observations, "actions": actions, "rewards": rewards, "terminations": terminations,
            "transitions": np.ones(self.n_envs, np.float32), "episode_starts": episode_starts,
            "timespans": timespans, "states": states,
        })
        ended = every[np.asarray(episode_ends, dtype=bool)]
        if ended.size:
            zeros = np.zeros(ended.size, np.float32)
            self._write(ended, {
                "observations": last_observations[ended], "actions": np.zeros_like(actions[ended]), "rewards": zeros,
                "terminations": zeros, "transitions": zeros, "episode_starts": zeros,
                "timespans": last_timespans[ended], "states": last_states[ended],
            })

    def cut(self) -> None:
        """End every stream here: the newest step of each env, whose next observation will not
        follow (a new ``learn`` resets the envs), is no longer learned from."""
        filled = self.counts > 0
        envs = np.flatnonzero(filled)
        self.transitions[(self.positions[envs] - 1) % self.per_env, envs] = 0.0

    def holds(self, length: int) -> bool:
        """:param length: entries per window. :return: True if some env holds a window of ``length`` entries."""
        return bool((self.counts >= length).any())

    def sample(self, n_sequences: int, length: int, env: VecNormalize | None = None) -> SequenceSamples:
        """Draw ``n_sequences`` windows of ``length`` consecutive entries, uniformly over all windows stored.

        :param n_sequences: B.
        :param length: W, entries per window.
        :param env: a ``VecNormalize`` whose statistics normalise the observations and rewards.
        :return: the windows (:class:`SequenceSamples`).
        :raises UserError: if no env holds ``length`` entries yet.
        """
        if not self.holds(length):
            raise UserError(f"the replay buffer holds {int(self.counts.max())} entries per env, fewer than a sequence "
                            f"({length}): raise learning_starts or shorten seq_len + burn_in")
        windows = np.maximum(self.counts - length + 1, 0)
        envs = np.random.choice(self.n_envs, size=n_sequences, p=windows / windows.sum())
        offsets = (np.random.random(n_sequences) * windows[envs]).astype(np.int64)
        oldest = (self.positions[envs] - self.counts[envs]) % self.per_env
        rows = (oldest[:, None] + offsets[:, None] + np.arange(length)) % self.per_env  # [B, W]
        cols = envs[:, None]
        observations = self.observations[rows, cols]
        rewards = self.rewards[rows, cols]
        if env is not None:
            observations = env.normalize_obs(observations)
            rewards = env.normalize_reward(rewards).astype(np.float32)
        tensor = lambda a: th.as_tensor(a, device=self.device)  # noqa: E731
        return SequenceSamples(
            observations=tensor(observations),
            actions=tensor(self.actions[rows, cols]),
            rewards=tensor(rewards),
            terminations=tensor(self.terminations[rows, cols]),
            transitions=tensor(self.transitions[rows, cols]),
            episode_starts=tensor(self.episode_starts[rows, cols]),
            timespans=tensor(self.timespans[rows, cols]),
            states=tensor(self.states[rows[:, 0], envs]),
        )

    # ------------------------------------------------------------------ weights-only files

    def to_arrays(self) -> dict[str, Any]:
        """:return: the buffer as plain values and arrays (for :func:`ncp_control.agents.model_state.save_state`):
        each stream's entries oldest first, so that nothing unfilled is written."""
        order = self._order()
        arrays = {f"{name}/{e}": getattr(self, name)[order[e], e] for name in ENTRY_ARRAYS for e in range(self.n_envs)}
        return {"buffer_size": self.buffer_size, "n_envs": self.n_envs, "counts": self.counts.tolist(), "arrays": arrays}

    def from_arrays(self, data: dict[str, Any]) -> None:
        """Restore what :meth:`to_arrays` returned (into a buffer of the same size and spaces).

        :raises UserError: if the sizes differ.
        """
        if int(data["buffer_size"]) != self.buffer_size or int(data["n_envs"]) != self.n_envs:
            raise UserError(f"the stored replay buffer holds {data['buffer_size']} entries of {data['n_envs']} envs, "
                            f"the model's {self.buffer_size} of {self.n_envs}: build the model with the same "
                            "buffer_size and number of envs")
        counts = np.asarray(data["counts"], dtype=np.int64)
        arrays = data["arrays"]
        for name in ENTRY_ARRAYS:
            for e in range(self.n_envs):
                getattr(self, name)[: counts[e], e] = arrays[f"{name}/{e}"]
        self.counts = counts
        self.positions = counts % self.per_env

    def _order(self) -> list[np.ndarray]:
        """:return: per env, the rows of its entries, oldest first."""
        oldest = (self.positions - self.counts) % self.per_env
        return [(oldest[e] + np.arange(self.counts[e])) % self.per_env for e in range(self.n_envs)]
