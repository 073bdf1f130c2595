"""What LiquidSAC and LiquidTD3 share: recurrent rollouts into a sequence replay buffer, and
replayed windows with a burn-in.

:class:`SequenceOffPolicyAlgorithm` is SB3's ``OffPolicyAlgorithm`` for the recurrent policies
of :mod:`ncp_control.agents.sac_policy`: it steps the actor's and the critic's states during
rollouts, stores them with every step's timespan in a
:class:`~ncp_control.agents.sequence_replay.SequenceReplayBuffer`, cuts sampled windows after
their burn-in (:meth:`SequenceOffPolicyAlgorithm._windows`, :meth:`SequenceOffPolicyAlgorithm._warm`),
and saves the buffer without pickles. The subclasses add their losses (``train``).
"""

from __future__ import annotations

import copy
import os
import shutil
import warnings
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.common.algorithm import RecurrentAlgorithmMixin
from ncp_control.agents.device import recurrent_device
from ncp_control.agents.sac_policy import RecurrentSACPolicy, SequenceActor, SequenceCritic
from ncp_control.agents.sequence_replay import SequenceReplayBuffer, SequenceSamples
from ncp_control.agents.timing import (
    default_time_unit,
    policy_kwargs_with_time_unit,
    time_unit_argument,
    timespans_from_infos,
)
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import obs_as_tensor
from torch import nn

from ncp_control.errors import UserError
from ncp_control.export.weights import read_json, read_tensors, write_json, write_tensors

#: Files of a replay buffer written by :meth:`SequenceOffPolicyAlgorithm.save_replay_buffer`.
REPLAY_TENSORS, REPLAY_META = "replay.safetensors", "replay.json"

SelfSequenceOffPolicy = TypeVar("SelfSequenceOffPolicy", bound="SequenceOffPolicyAlgorithm")


def soft_update(source: nn.Module, target: nn.Module, tau: float) -> None:
    """``target <- (1 - tau) target + tau source``, parameter by parameter.

    In-place torch operations, so that the target's version counters move: the liquid cells'
    no-grad paths keep packed weights until a version moves, and SB3's ``polyak_update``
    writes through ``.data``, which they cannot see (the target would stay at its first weights).

    :param source: the trained network.
    :param target: its slowly following copy (same architecture).
    :param tau: the step towards the source.
    """
    with th.no_grad():
        th._foreach_lerp_(list(target.parameters()), list(source.parameters()), tau)


def masked_mean(values: th.Tensor, mask: th.Tensor) -> th.Tensor:
    """:param values: ``[...]``. :param mask: ``[...]`` of 0 and 1 (at least one 1).
    :return: the mean of ``values`` where ``mask`` is 1."""
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def advance(module: SequenceActor | SequenceCritic, obs: th.Tensor, state: th.Tensor, timespans: th.Tensor | None,
            resets: th.Tensor) -> th.Tensor:
    """The state of an actor's or a critic's network after ``obs`` (its heads are not run).

    :param module: the actor or critic. :param obs: ``[B, T, ...]``. :param state: ``[B, S]``.
    :param timespans: ``[B, T]`` or None. :param resets: ``[B, T]`` bool.
    :return: ``[B, S]``.
    """
    return module.net(module.encoder(obs), state, timespans, resets)[1]


class ReplayWindows(NamedTuple):
    """Sampled windows from the first learned step on: ``L = seq_len`` steps and the entry after them."""

    observations: th.Tensor      # [B, L + 1, ...]
    resets: th.Tensor            # [B, L + 1] bool: the entry starts an episode
    timespans: th.Tensor | None  # [B, L + 1] in time units (None: one unit each)
    actions: th.Tensor           # [B, L, A] in [-1, 1]
    rewards: th.Tensor           # [B, L]
    terminations: th.Tensor      # [B, L]: 1 where the step ended its episode in a terminal state
    mask: th.Tensor              # [B, L]: 1 where the entry is a step taken (0: an episode's last observation)

    def steps(self, x: th.Tensor | None) -> th.Tensor | None:
        """:param x: ``[B, L + 1, ...]`` or None. :return: its first ``L`` entries."""
        return None if x is None else x[:, :-1]


class SequenceOffPolicyAlgorithm(RecurrentAlgorithmMixin, OffPolicyAlgorithm):  # type: ignore[misc]  # predict takes dt
    """SB3's ``OffPolicyAlgorithm`` with recurrent actor and critics trained on replayed sequences.

    See :class:`~ncp_control.agents.sac.LiquidSAC` for the arguments; a subclass builds its
    losses in ``train`` on :meth:`_sample_windows`, :meth:`_windows` and :meth:`_warm`.
    """

    policy: RecurrentSACPolicy  # type: ignore[assignment]
    replay_buffer: SequenceReplayBuffer  # type: ignore[assignment]
    actor: SequenceActor
    critic: SequenceCritic
    critic_target: SequenceCritic

    def __init__(
        self,
        policy: str | type[RecurrentSACPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule,
        buffer_size: int,
        learning_starts: int | None,
        batch_size: int,
        tau: float,
        gamma: float,
        train_freq: int | tuple[int, str],
        gradient_steps: int,
        action_noise: ActionNoise | None,
        seq_len: int,
        burn_in: int,
        use_info_dt: bool,
        time_unit: float | None,
        stats_window_size: int,
        tensorboard_log: str | None,
        policy_kwargs: dict[str, Any] | None,
        verbose: int,
        seed: int | None,
        device: th.device | str,
    ) -> None:
        super().__init__(
            policy,  # type: ignore[arg-type]
            env,
            learning_rate,
            buffer_size=buffer_size,
            learning_starts=100 if learning_starts is None else learning_starts,
            batch_size=batch_size,
            tau=tau,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            action_noise=action_noise,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=recurrent_device(device),
            support_multi_env=True,
            seed=seed,
            sde_support=False,
            supported_action_spaces=(spaces.Box,),
        )
        if seq_len < 1 or burn_in < 0:
            raise UserError(f"seq_len must be >= 1 and burn_in >= 0, got seq_len={seq_len}, burn_in={burn_in}")
        if batch_size < seq_len or batch_size % seq_len != 0:
            raise UserError(f"batch_size must be a multiple of seq_len ({seq_len}): whole sequences per gradient "
                            f"step, got {batch_size}")
        n_envs = getattr(self, "n_envs", 1)  # no env yet when SB3's load builds the model
        if learning_starts is None:
            learning_starts = max(100, n_envs * (burn_in + seq_len + 1))
            self.learning_starts = learning_starts
        if learning_starts < n_envs * (burn_in + seq_len + 1):
            raise UserError(f"learning_starts must be at least n_envs * (burn_in + seq_len + 1) = "
                            f"{n_envs * (burn_in + seq_len + 1)} steps, so that every env holds a sequence before "
                            f"learning, got {learning_starts}")
        name = type(self).__name__
        self.policy_kwargs = policy_kwargs_with_time_unit(self.policy_kwargs, time_unit_argument(time_unit, None), name)
        self.seq_len = seq_len
        self.burn_in = burn_in
        self.use_info_dt = use_info_dt
        self._warned_replay_short = False
        self._last_state: th.Tensor | None = None
        self._next_state: th.Tensor | None = None
        self._last_timespans: np.ndarray | None = None
        self._start_timespan = 1.0

    def _setup_networks(self) -> None:
        """The policy, the replay buffer and the train frequency (a subclass's ``_setup_model`` adds its own)."""
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        if "time_unit" not in self.policy_kwargs:
            self.policy_kwargs = {**self.policy_kwargs, "time_unit": default_time_unit(self.env)}
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space, self.action_space, self.lr_schedule, **self.policy_kwargs
        )
        self.policy = self.policy.to(self.device)
        self.replay_buffer = SequenceReplayBuffer(
            self.buffer_size, self.observation_space, self.action_space,
            state_size=self.policy.actor.state_size + self.policy.critic.state_size,
            n_envs=self.n_envs, device=self.device,
        )
        self._convert_train_freq()
        self.actor, self.critic, self.critic_target = self.policy.actor, self.policy.critic, self.policy.critic_target

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "actor", "critic", "critic_target", "_next_state", "_warned_replay_short"]

    # ------------------------------------------------------------------ rollout

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False) -> tuple[int, BaseCallback]:
        """As SB3's, except that a ``learn`` that goes on with the envs where they are keeps the
        exploration noise's state (an Ornstein-Uhlenbeck process; SB3 restarts it at every
        ``learn``), so that a run resumed from a checkpoint explores as the uninterrupted one."""
        going_on = not reset_num_timesteps and self._last_obs is not None and self.action_noise is not None
        noise = copy.deepcopy(self.action_noise) if going_on else None
        result = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if noise is not None and type(noise) is type(self.action_noise):
            self.action_noise = noise
        return result

    def _initial_rollout_state(self, n_envs: int) -> th.Tensor:
        """The envs were reset: the last steps stored have no next observation (cut there); actor
        and critic start at rest. :return: ``[n_envs, S_actor + S_critic]`` zeros."""
        self.replay_buffer.cut()
        return th.zeros(n_envs, self.replay_buffer.state_size, device=self.device)

    def _sample_action(self, learning_starts: int, action_noise: ActionNoise | None = None,
                       n_envs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Actions of the actor (uniformly random ones before ``learning_starts``), with
        ``action_noise`` added where given; the actor's and the critic's states move on either
        way, so that the stored states are the ones the networks meet in the rollout.

        :return: actions in the action space, and the same scaled to [-1, 1] for the buffer.
        """
        assert self._last_obs is not None and self._last_state is not None and self._last_timespans is not None
        obs = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
        starts = th.as_tensor(self._last_episode_starts, dtype=th.float32, device=self.device)
        timespans = self._timespans_tensor(self._last_timespans)
        split = self.policy.actor.state_size
        scaled, actor_state = self.policy.act(obs, self._last_state[:, :split], starts, timespans, deterministic=False)  # type: ignore[arg-type]
        critic_state = self.policy.critic_step(obs, self._last_state[:, split:], starts, timespans)  # type: ignore[arg-type]
        self._next_state = th.cat([actor_state, critic_state], dim=1)
        buffer_action = scaled.cpu().numpy()
        if self.num_timesteps < learning_starts:
            buffer_action = self.policy.scale_action(np.array([self.action_space.sample() for _ in range(n_envs)]))
        if action_noise is not None:
            buffer_action = np.clip(buffer_action + action_noise(), -1, 1)
        return self.policy.unscale_action(buffer_action), buffer_action.astype(np.float32)

    def _store_transition(self, replay_buffer: ReplayBuffer, buffer_action: np.ndarray, new_obs: np.ndarray | dict[str, np.ndarray],  # type: ignore[override]
                          reward: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """Store the step, and the last observation of every episode that ended with it."""
        assert self._next_state is not None and self._last_state is not None and self._last_timespans is not None
        vec = self._vec_normalize_env
        if vec is not None:
            new_obs_original, reward_original = vec.get_original_obs(), vec.get_original_reward()
        else:
            self._last_original_obs, new_obs_original, reward_original = self._last_obs, new_obs, reward
        next_timespans = timespans_from_infos(infos, self.policy.time_unit, self.use_info_dt)
        last_obs = np.array(new_obs_original, copy=True)
        truncated = np.zeros(len(dones), dtype=bool)
        for i, done in enumerate(dones):
            if done and infos[i].get("terminal_observation") is not None:
                terminal = infos[i]["terminal_observation"]
                last_obs[i] = vec.unnormalize_obs(terminal) if vec is not None else terminal
                truncated[i] = bool(infos[i].get("TimeLimit.truncated", False))
        terminations = (np.asarray(dones, dtype=bool) & ~truncated).astype(np.float32)
        assert isinstance(self._last_original_obs, np.ndarray)
        self.replay_buffer.add(
            self._last_original_obs, buffer_action, reward_original, terminations,
            np.asarray(self._last_episode_starts, dtype=np.float32), self._last_timespans,
            self._last_state.cpu().numpy(), dones, last_obs, next_timespans, self._next_state.cpu().numpy(),
        )
        self._last_obs = new_obs  # type: ignore[assignment]
        if vec is not None:
            self._last_original_obs = new_obs_original  # type: ignore[assignment]
        self._last_episode_starts = dones
        self._last_state = self._next_state
        self._last_timespans = np.where(dones, self._start_timespan, next_timespans).astype(np.float32)

    # ------------------------------------------------------------------ replay

    @property
    def _window_length(self) -> int:
        """Entries per sampled window: the burn-in, the ``seq_len`` learned steps and the next entry."""
        return self.burn_in + self.seq_len + 1

    def _replay_ready(self) -> bool:
        """True once some env's stream in the replay buffer holds a whole window. A model loaded
        without its replay buffer (SB3's ``save`` leaves it out) fills it again first: its
        updates wait until then, with one warning."""
        length = self._window_length
        if self.replay_buffer.holds(length):
            return True
        if not self._warned_replay_short:
            self._warned_replay_short = True
            warnings.warn(f"{type(self).__name__}: the replay buffer holds no sequence of burn_in + seq_len + 1 = "
                          f"{length} entries (a model loaded without its replay buffer: load_replay_buffer restores "
                          "one); updates start once it does", RuntimeWarning, stacklevel=3)
        return False

    def _sample_windows(self, batch_size: int) -> SequenceSamples:
        """:param batch_size: steps (``batch_size // seq_len`` windows of ``burn_in + seq_len + 1`` entries)."""
        return self.replay_buffer.sample(batch_size // self.seq_len, self._window_length, env=self._vec_normalize_env)

    def _windows(self, samples: SequenceSamples) -> ReplayWindows:
        """The sampled windows from the first learned step on (the burn-in cut off)."""
        k, length = self.burn_in, self.seq_len
        timespans = samples.timespans[:, k:] if self.use_info_dt else None
        return ReplayWindows(
            observations=samples.observations[:, k:], resets=samples.episode_starts[:, k:].bool(), timespans=timespans,
            actions=samples.actions[:, k:k + length], rewards=samples.rewards[:, k:k + length],
            terminations=samples.terminations[:, k:k + length], mask=samples.transitions[:, k:k + length],
        )

    def _warm(self, module: SequenceActor | SequenceCritic, samples: SequenceSamples, state: th.Tensor) -> th.Tensor:
        """A stored state warmed up on the burn-in entries, without gradients (R2D2).

        :param module: the actor, the critic or a target. :param samples: the windows.
        :param state: ``[B, S]`` the states stored with the windows' first entries.
        :return: ``[B, S]`` the states at the first learned step.
        """
        k = self.burn_in
        if k == 0 or state.shape[1] == 0:
            return state
        timespans = samples.timespans[:, :k] if self.use_info_dt else None
        with th.no_grad():
            return advance(module, samples.observations[:, :k], state, timespans, samples.episode_starts[:, :k].bool())

    def _stored_states(self, samples: SequenceSamples) -> tuple[th.Tensor, th.Tensor]:
        """:return: the actor's ``[B, S_actor]`` and the critic's ``[B, S_critic]`` stored states."""
        split = self.actor.state_size
        return samples.states[:, :split], samples.states[:, split:]

    def _record(self, logs: dict[str, list[float]], gradient_steps: int) -> None:
        """Log the mean of every loss of this round of updates."""
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        for name, values in logs.items():
            if values:
                self.logger.record(f"train/{name}", float(np.mean(values)))

    # ------------------------------------------------------------------ use

    def learn(self: SelfSequenceOffPolicy, total_timesteps: int, callback: MaybeCallback = None, log_interval: int = 4,
              tb_log_name: str | None = None, reset_num_timesteps: bool = True,
              progress_bar: bool = False) -> SelfSequenceOffPolicy:
        """Train for ``total_timesteps`` env steps (as SB3's ``learn``; logs under the algorithm's name)."""
        return super().learn(total_timesteps=total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name or type(self).__name__, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def save_replay_buffer(self, path: str | os.PathLike[str]) -> None:  # type: ignore[override]
        """Write the replay buffer into the folder ``path`` (``replay.safetensors`` with the
        arrays and ``replay.json`` with the sizes; nothing pickled), replaced as a whole.

        :param path: destination folder.
        """
        data = self.replay_buffer.to_arrays()
        target = Path(path)
        tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
        shutil.rmtree(tmp, ignore_errors=True)
        write_tensors(tmp / REPLAY_TENSORS, {name: th.from_numpy(np.ascontiguousarray(a)) for name, a in data["arrays"].items()})
        write_json(tmp / REPLAY_META, {key: value for key, value in data.items() if key != "arrays"})
        old = target.with_name(f".old-{os.getpid()}-{target.name}")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)

    def load_replay_buffer(self, path: str | os.PathLike[str], truncate_last_traj: bool = True) -> None:  # type: ignore[override]
        """Read a replay buffer written by :meth:`save_replay_buffer` (same ``buffer_size`` and envs).

        :param path: the folder.
        :param truncate_last_traj: unused (SB3's option for HER).
        :raises UserError: for a folder that holds no such buffer, or another size.
        """
        folder = Path(path)
        if not (folder / REPLAY_META).is_file() or not (folder / REPLAY_TENSORS).is_file():
            raise UserError(f"path: {str(folder)!r} holds no replay buffer ({REPLAY_META} and {REPLAY_TENSORS})")
        data = read_json(folder / REPLAY_META)
        data["arrays"] = {name: t.numpy() for name, t in read_tensors(folder / REPLAY_TENSORS).items()}
        self.replay_buffer.from_arrays(data)
