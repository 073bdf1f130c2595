"""Chunked rollout buffer: chunking and GAE against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from ncp_control.agents.buffer import ChunkedRolloutBuffer, RecurrentChunkSamples, compute_gae


def _filled_buffer() -> ChunkedRolloutBuffer:
    """4 steps x 2 envs, seq_len 2: values 10 t + e, obs [t, e], states 100 e + chunk."""
    buf = ChunkedRolloutBuffer(
        4, spaces.Box(-np.inf, np.inf, (2,), np.float32), spaces.Discrete(3), state_size=1, seq_len=2, n_envs=2
    )
    for t in range(4):
        if t % 2 == 0:
            buf.add_state(np.array([[100.0 * 0 + t // 2], [100.0 * 1 + t // 2]], dtype=np.float32))
        buf.add(
            obs=np.array([[t, 0], [t, 1]], dtype=np.float32),
            action=np.array([t % 3, (t + 1) % 3]),
            reward=np.array([1.0, 2.0]),
            episode_start=np.array([t == 0, t == 3], dtype=np.float32),
            value=th.tensor([10.0 * t + 0, 10.0 * t + 1]),
            log_prob=th.tensor([-t, -t - 0.5]),
            timespan=np.array([1.0, 0.5 + t]),
        )
    return buf


def test_chunks_match_hand_computed_layout() -> None:
    buf = _filled_buffer()
    data = buf.chunks()
    # chunk order: (env 0, chunk 0), (env 0, chunk 1), (env 1, chunk 0), (env 1, chunk 1)
    np.testing.assert_array_equal(data["old_values"], [[0, 10], [20, 30], [1, 11], [21, 31]])
    np.testing.assert_array_equal(data["states"], [[0], [1], [100], [101]])
    np.testing.assert_array_equal(data["episode_starts"], [[1, 0], [0, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(data["timespans"], [[1, 1], [1, 1], [0.5, 1.5], [2.5, 3.5]])
    np.testing.assert_array_equal(data["observations"][3], [[2, 1], [3, 1]])
    np.testing.assert_array_equal(data["actions"][:, :, 0], [[0, 1], [2, 0], [1, 2], [0, 1]])


def test_minibatches_are_sets_of_whole_chunks() -> None:
    buf = _filled_buffer()
    buf.compute_returns_and_advantage(th.zeros(2), np.zeros(2))
    np.random.seed(0)
    batches = list(buf.get(batch_size=4))
    assert len(batches) == 2
    seen = []
    for batch in batches:
        assert isinstance(batch, RecurrentChunkSamples)
        assert batch.observations.shape == (4, 2)  # 2 chunks x 2 steps, flattened batch-major
        assert batch.episode_starts.shape == (2, 2) and batch.states.shape == (2, 1)
        for i in range(2):
            # the stored state belongs to the chunk whose values are served with it
            env, chunk = int(batch.states[i, 0]) // 100, int(batch.states[i, 0]) % 100
            np.testing.assert_array_equal(batch.old_values[i].numpy(), [20 * chunk + env, 20 * chunk + 10 + env])
            np.testing.assert_array_equal(batch.observations[2 * i : 2 * i + 2, 0].numpy(), [2 * chunk, 2 * chunk + 1])
            seen.append((env, chunk))
    assert sorted(seen) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_gae_matches_hand_computation() -> None:
    gamma, lam = 0.9, 0.5
    rewards = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    values = np.array([[0.5], [1.0], [1.5]], dtype=np.float32)
    starts = np.array([[1.0], [0.0], [1.0]], dtype=np.float32)  # a new episode at step 2
    last_values, dones = np.array([2.0], dtype=np.float32), np.array([False])
    adv, ret = compute_gae(rewards, values, starts, last_values, dones, gamma, lam)
    d2 = 3.0 + gamma * 2.0 - 1.5
    d1 = 2.0 - 1.0  # step 1 ends its episode: no bootstrap, no carry
    d0 = 1.0 + gamma * 1.0 - 0.5
    a1 = d1
    a0 = d0 + gamma * lam * a1
    np.testing.assert_allclose(adv[:, 0], [a0, a1, d2], rtol=1e-6)
    np.testing.assert_allclose(ret, adv + values)


def test_bad_sizes_and_misuse_raise() -> None:
    box = spaces.Box(-1, 1, (2,), np.float32)
    with pytest.raises(ValueError, match="seq_len"):
        ChunkedRolloutBuffer(10, box, box, state_size=3, seq_len=4)
    buf = ChunkedRolloutBuffer(4, box, box, state_size=3, seq_len=2)
    with pytest.raises(ValueError, match="not complete"):
        next(buf.get())
    buf.add(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1), np.zeros(1), th.zeros(1), th.zeros(1), np.ones(1))
    with pytest.raises(ValueError, match="chunk starts"):
        buf.add_state(np.zeros((1, 3)))
