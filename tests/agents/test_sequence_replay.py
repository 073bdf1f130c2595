"""Sequence replay buffer: the streams, the sampled windows and the saved arrays, against a hand-built example."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from ncp_control.agents.sequence_replay import ENTRY_ARRAYS, SequenceReplayBuffer

from ncp_control.errors import UserError

OBS = spaces.Box(-np.inf, np.inf, (2,), np.float32)
ACT = spaces.Box(-1.0, 1.0, (1,), np.float32)


def _fill(buffer: SequenceReplayBuffer, steps: int) -> None:
    """Env 0's episodes last 3 steps (the last one truncated), env 1's 2 steps (terminated).

    Step t of env e: observation ``[t, e]``, action ``t / 10``, reward ``t + e / 10``,
    timespan ``1 + t / 100``, state ``[t, -t]`` before the step and ``[t + 0.5, -t]`` after it;
    an episode's last observation is ``[t + 0.5, e]``, its timespan ``9``.
    """
    starts = np.ones(2, np.float32)
    for t in range(steps):
        ends = np.array([t % 3 == 2, t % 2 == 1])
        buffer.add(
            observations=np.array([[t, 0], [t, 1]], np.float32),
            actions=np.full((2, 1), t / 10, np.float32),
            rewards=np.array([t, t + 0.1], np.float32),
            terminations=np.array([0.0, float(ends[1])], np.float32),
            episode_starts=starts,
            timespans=np.full(2, 1 + t / 100, np.float32),
            states=np.array([[t, -t], [t, -t]], np.float32),
            episode_ends=ends,
            last_observations=np.array([[t + 0.5, 0], [t + 0.5, 1]], np.float32),
            last_timespans=np.full(2, 9.0, np.float32),
            last_states=np.array([[t + 0.5, -t], [t + 0.5, -t]], np.float32),
        )
        starts = ends.astype(np.float32)


def test_streams_hold_each_step_and_each_episode_end() -> None:
    buffer = SequenceReplayBuffer(40, OBS, ACT, state_size=2, n_envs=2)
    _fill(buffer, 4)
    # env 0: steps 0 1 2, the last observation of that episode, step 3
    np.testing.assert_array_equal(buffer.observations[:5, 0, 0], [0, 1, 2, 2.5, 3])
    np.testing.assert_array_equal(buffer.transitions[:5, 0], [1, 1, 1, 0, 1])
    np.testing.assert_array_equal(buffer.episode_starts[:5, 0], [1, 0, 0, 0, 1])
    np.testing.assert_array_equal(buffer.terminations[:5, 0], [0, 0, 0, 0, 0])
    np.testing.assert_allclose(buffer.timespans[:5, 0], [1.0, 1.01, 1.02, 9.0, 1.03])
    np.testing.assert_array_equal(buffer.states[:5, 0, 0], [0, 1, 2, 2.5, 3])
    np.testing.assert_array_equal(buffer.actions[:5, 0, 0], np.array([0, 0.1, 0.2, 0, 0.3], np.float32))
    # env 1: steps 0 1, last observation (terminated after step 1), steps 2 3, last observation
    np.testing.assert_array_equal(buffer.observations[:6, 1, 0], [0, 1, 1.5, 2, 3, 3.5])
    np.testing.assert_array_equal(buffer.transitions[:6, 1], [1, 1, 0, 1, 1, 0])
    np.testing.assert_array_equal(buffer.terminations[:6, 1], [0, 1, 0, 0, 1, 0])
    np.testing.assert_array_equal(buffer.episode_starts[:6, 1], [1, 0, 0, 1, 0, 0])
    assert buffer.counts.tolist() == [5, 6] and buffer.size() == 11


def test_samples_are_windows_of_one_stream_with_their_first_state() -> None:
    buffer = SequenceReplayBuffer(40, OBS, ACT, state_size=2, n_envs=2)
    _fill(buffer, 12)
    np.random.seed(0)
    samples = buffer.sample(64, 4)
    assert samples.observations.shape == (64, 4, 2) and samples.states.shape == (64, 2)
    for b in range(64):
        env = int(samples.observations[b, 0, 1])
        assert (samples.observations[b, :, 1] == env).all()
        rows = [int(np.flatnonzero((buffer.observations[:, env, 0] == samples.observations[b, 0, 0].item())
                                   & (buffer.counts[env] > np.arange(buffer.per_env)))[0])]
        rows += [rows[0] + i for i in range(1, 4)]
        for name in ENTRY_ARRAYS[:-1]:
            np.testing.assert_array_equal(getattr(samples, name)[b].numpy(), getattr(buffer, name)[rows, env])
        np.testing.assert_array_equal(samples.states[b].numpy(), buffer.states[rows[0], env])


def test_a_full_stream_keeps_its_newest_entries_and_windows_do_not_cross_the_write_position() -> None:
    buffer = SequenceReplayBuffer(10, OBS, ACT, state_size=2, n_envs=2)  # 5 entries per env
    _fill(buffer, 9)  # env 0: 12 entries, env 1: 13
    assert buffer.counts.tolist() == [5, 5]
    newest = {0: [5.5, 6, 7, 8, 8.5], 1: [5.5, 6, 7, 7.5, 8]}  # the last 5 entries of each stream
    np.random.seed(1)
    samples = buffer.sample(16, 5)  # one window per env: the whole stream, oldest first
    for b in range(16):
        env = int(samples.observations[b, 0, 1])
        np.testing.assert_array_equal(samples.observations[b, :, 0].numpy(), newest[env])
    assert {int(e) for e in samples.observations[:, 0, 1]} == {0, 1}


def test_too_short_a_buffer_for_a_window_is_refused() -> None:
    buffer = SequenceReplayBuffer(40, OBS, ACT, state_size=2, n_envs=2)
    _fill(buffer, 2)
    with pytest.raises(UserError, match="learning_starts"):
        buffer.sample(4, 10)


def test_arrays_round_trip_into_a_new_buffer() -> None:
    buffer = SequenceReplayBuffer(10, OBS, ACT, state_size=2, n_envs=2)
    _fill(buffer, 9)
    copy = SequenceReplayBuffer(10, OBS, ACT, state_size=2, n_envs=2)
    copy.from_arrays(buffer.to_arrays())
    np.random.seed(3)
    first = buffer.sample(16, 5)
    np.random.seed(3)
    second = copy.sample(16, 5)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(UserError, match="buffer_size"):
        SequenceReplayBuffer(12, OBS, ACT, state_size=2, n_envs=2).from_arrays(buffer.to_arrays())


def test_cut_streams_are_not_learned_from_at_their_last_step() -> None:
    buffer = SequenceReplayBuffer(40, OBS, ACT, state_size=2, n_envs=2)
    _fill(buffer, 4)  # env 0 ends with step 3 (an episode under way), env 1 with a last observation
    buffer.cut()
    np.testing.assert_array_equal(buffer.transitions[:5, 0], [1, 1, 1, 0, 0])  # step 3 has no next observation
    np.testing.assert_array_equal(buffer.transitions[:6, 1], [1, 1, 0, 1, 1, 0])  # already ended: unchanged
