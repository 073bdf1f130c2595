"""LiquidSAC: soft actor-critic for recurrent policies, trained on replayed sequences."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.device import recurrent_device
from ncp_control.agents.sac_policy import (
    SAC_POLICY_ALIASES,
    RecurrentSACPolicy,
    SequenceActor,
    SequenceCritic,
)
from ncp_control.agents.sequence_replay import SequenceReplayBuffer, SequenceSamples
from ncp_control.agents.timing import (
    default_time_unit,
    first_step_seconds,
    policy_kwargs_with_time_unit,
    time_unit_argument,
    timespans_from_infos,
)
from ncp_control.agents.zips import liquid_zip
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import obs_as_tensor
from torch import nn

from ncp_control.errors import UserError
from ncp_control.export.weights import read_json, read_tensors, write_json, write_tensors
from ncp_control.timespans import to_timespans

#: Files of a replay buffer written by :meth:`LiquidSAC.save_replay_buffer`.
REPLAY_TENSORS, REPLAY_META = "replay.safetensors", "replay.json"

SelfLiquidSAC = TypeVar("SelfLiquidSAC", bound="LiquidSAC")


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


class LiquidSAC(OffPolicyAlgorithm):
    """Soft actor-critic with a recurrent actor and recurrent critics, trained on replayed sequences.

    The replay buffer keeps every env's episodes in order with the policy states met in the
    rollout and the elapsed time of every step (:class:`~ncp_control.agents.sequence_replay.SequenceReplayBuffer`).
    Each gradient step samples windows of ``burn_in + seq_len + 1`` entries: the networks start
    from the stored states, run over the first ``burn_in`` entries without gradients to warm the
    state up (the R2D2 approach: the stored states go stale as the networks learn), and learn on
    the next ``seq_len`` steps; the last entry gives the value of the last step's next state.
    Episode starts inside a window reset the states; a time-limit's last observation is an
    entry of its own, so truncated episodes bootstrap from it with the state the episode ended
    in. Time as LiquidPPO: ``info["dt"] / time_unit`` is the networks' timespan for the next
    observation, and the first step of an episode lasts one nominal control period.

    :param policy: ``"CfCPolicy"``, ``"LTCPolicy"``, ``"CTRNNPolicy"``, ``"LSTMPolicy"``,
        ``"GRUPolicy"``, ``"MlpPolicy"`` or a :class:`~ncp_control.agents.sac_policy.RecurrentSACPolicy` class.
    :param env: env, env id or VecEnv (1-D Box actions, Box observations).
    :param learning_rate: learning rate of actor, critic and entropy coefficient, or a schedule.
    :param buffer_size: replay buffer entries, over all envs.
    :param learning_starts: env steps of uniformly random actions before learning (None: SB3's
        100, or ``n_envs * (burn_in + seq_len + 1)`` where that is more, so that every env holds
        a window).
    :param batch_size: steps per gradient step (``batch_size // seq_len`` sequences; a multiple of ``seq_len``).
    :param tau: target critic's soft update coefficient.
    :param gamma: discount.
    :param train_freq: update every ``train_freq`` steps (or ``(n, "episode")``).
    :param gradient_steps: gradient steps per update (-1: as many as env steps collected).
    :param ent_coef: entropy coefficient, ``"auto"`` (learned, starting at 1) or ``"auto_X"`` (starting at X).
    :param target_update_interval: gradient steps between target updates.
    :param target_entropy: target of the learned entropy coefficient (``"auto"``: ``-A``).
    :param seq_len: steps per sequence that the losses are computed on (truncated backpropagation through time).
    :param burn_in: entries before each sequence that only warm the states up (no loss, no
        gradient). The default, 16, is measured: after 10k steps on PendulumNoVel-v1 the stored
        states of a CfC differ from the trained networks' own by 64% (actor) and 45% (critic),
        and the Q values by 22% of their scale; 8 entries of burn-in leave 1.3%, 16 leave 0.15%
        (:mod:`ncp_control.agents.burn_in`; the learning page, *LiquidSAC*).
    :param use_info_dt: feed ``info["dt"] / time_unit`` to the networks as timespans.
    :param time_unit: seconds per unit of timespan (None: the env's nominal control period).
    :param stats_window_size: episodes averaged in the logs.
    :param tensorboard_log: TensorBoard log folder.
    :param policy_kwargs: policy options (``units``, ``wiring``, ``q_head``...).
    :param verbose: verbosity.
    :param seed: random seed.
    :param device: torch device ("auto": the CPU).
    :param _init_setup_model: build the networks now.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = SAC_POLICY_ALIASES
    policy: RecurrentSACPolicy  # type: ignore[assignment]
    replay_buffer: SequenceReplayBuffer  # type: ignore[assignment]
    actor: SequenceActor
    critic: SequenceCritic
    critic_target: SequenceCritic

    def __init__(
        self,
        policy: str | type[RecurrentSACPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int | None = None,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        ent_coef: str | float = "auto",
        target_update_interval: int = 1,
        target_entropy: str | float = "auto",
        seq_len: int = 32,
        burn_in: int = 16,
        use_info_dt: bool = True,
        time_unit: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
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
        self.policy_kwargs = policy_kwargs_with_time_unit(self.policy_kwargs, time_unit_argument(time_unit, None), "LiquidSAC")
        self.ent_coef = ent_coef
        self.target_update_interval = target_update_interval
        self.target_entropy = target_entropy
        self.seq_len = seq_len
        self.burn_in = burn_in
        self.use_info_dt = use_info_dt
        self.log_ent_coef: th.Tensor | None = None
        self.ent_coef_optimizer: th.optim.Optimizer | None = None
        self._last_state: th.Tensor | None = None
        self._next_state: th.Tensor | None = None
        self._last_timespans: np.ndarray | None = None
        self._start_timespan = 1.0
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
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
        action_dim = int(np.prod(self.action_space.shape))  # type: ignore[arg-type]
        self.target_entropy = float(-action_dim if self.target_entropy == "auto" else self.target_entropy)
        if isinstance(self.ent_coef, str) and self.ent_coef.startswith("auto"):
            start = float(self.ent_coef.split("_")[1]) if "_" in self.ent_coef else 1.0
            if start <= 0:
                raise UserError(f"the initial entropy coefficient must be > 0, got ent_coef={self.ent_coef!r}")
            self.log_ent_coef = th.log(th.ones(1, device=self.device) * start).requires_grad_(True)
            self.ent_coef_optimizer = th.optim.Adam([self.log_ent_coef], lr=self.lr_schedule(1))
        else:
            self.ent_coef_tensor = th.tensor(float(self.ent_coef), device=self.device)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "actor", "critic", "critic_target", "_last_state", "_next_state",
                "_last_timespans", "_start_timespan"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts = ["policy", "actor.optimizer", "critic.optimizer"]
        if self.ent_coef_optimizer is not None:
            return [*state_dicts, "ent_coef_optimizer"], ["log_ent_coef"]
        return state_dicts, ["ent_coef_tensor"]

    @property
    def time_unit(self) -> float:
        """Seconds per unit of timespan (the policy's: ``policy.time_unit``)."""
        return self.policy.time_unit

    # ------------------------------------------------------------------ rollout

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False) -> tuple[int, BaseCallback]:
        fresh = reset_num_timesteps or self._last_obs is None
        result = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        n_envs = self.env.num_envs if self.env is not None else self.n_envs
        self._start_timespan = float(to_timespans(first_step_seconds(self.env), self.policy.time_unit))
        if fresh or self._last_state is None or self._last_state.shape[0] != n_envs:
            self.replay_buffer.cut()  # the envs were reset: the last steps stored have no next observation
            self._last_state = th.zeros(n_envs, self.replay_buffer.state_size, device=self.device)
            self._last_timespans = np.full(n_envs, self._start_timespan, dtype=np.float32)
        return result

    def _timespans_tensor(self, timespans: np.ndarray) -> th.Tensor | None:
        return th.as_tensor(timespans, device=self.device) if self.use_info_dt else None

    def _sample_action(self, learning_starts: int, action_noise: ActionNoise | None = None,
                       n_envs: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """Actions of the stochastic actor (uniformly random ones before ``learning_starts``);
        the actor's and the critic's states move on either way, so that the stored states are
        the ones the networks meet in the rollout.

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

    # ------------------------------------------------------------------ training

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """``gradient_steps`` updates of critic, actor and entropy coefficient on replayed sequences.

        :param gradient_steps: updates.
        :param batch_size: steps per update (``batch_size // seq_len`` sequences).
        """
        self.policy.set_training_mode(True)
        optimizers: list[th.optim.Optimizer] = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        logs: dict[str, list[float]] = {"ent_coef": [], "ent_coef_loss": [], "actor_loss": [], "critic_loss": []}
        for step in range(gradient_steps):
            samples = self.replay_buffer.sample(batch_size // self.seq_len, self.burn_in + self.seq_len + 1,
                                                env=self._vec_normalize_env)
            for name, value in self._gradient_step(samples).items():
                logs[name].append(value)
            if step % self.target_update_interval == 0:
                soft_update(self.critic, self.critic_target, self.tau)
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        for name, values in logs.items():
            if values:
                self.logger.record(f"train/{name}", float(np.mean(values)))

    def _gradient_step(self, samples: SequenceSamples) -> dict[str, float]:
        """One update on a batch of windows.

        Shapes: B windows of ``W = burn_in + L + 1`` entries, ``L = seq_len``; the losses are
        taken on entries ``[burn_in, burn_in + L)`` where they are steps taken.

        :return: the logged numbers.
        """
        k, length = self.burn_in, self.seq_len
        obs = samples.observations                                   # [B, W, ...]
        resets = samples.episode_starts.bool()                       # [B, W]
        timespans = samples.timespans if self.use_info_dt else None  # [B, W]
        split = self.actor.state_size
        h_actor, h_critic = samples.states[:, :split], samples.states[:, split:]
        h_target = h_critic

        def part(x: th.Tensor | None, start: int, end: int) -> th.Tensor | None:
            return None if x is None else x[:, start:end]

        if k > 0 and samples.states.shape[1] > 0:  # warm the stored states up on the burn-in entries
            with th.no_grad():
                h_actor = self.actor(obs[:, :k], h_actor, part(timespans, 0, k), resets[:, :k])[2]
                h_critic = self.critic.encode(obs[:, :k], h_critic, part(timespans, 0, k), resets[:, :k])[1]
                h_target = self.critic_target.encode(obs[:, :k], h_target, part(timespans, 0, k), resets[:, :k])[1]
        end = k + length + 1
        mask = samples.transitions[:, k:k + length]                 # [B, L]: steps taken
        # actor over the L steps and the next entry: [B, L + 1, A], [B, L + 1]
        mean, log_std, _ = self.actor(obs[:, k:end], h_actor, part(timespans, k, end), resets[:, k:end])
        actions_pi, log_prob = self.actor.sample(mean, log_std)

        if self.ent_coef_optimizer is not None and self.log_ent_coef is not None:
            ent_coef = th.exp(self.log_ent_coef.detach())
            ent_coef_loss = -masked_mean(self.log_ent_coef * (log_prob[:, :length] + float(self.target_entropy)).detach(), mask)
            self.ent_coef_optimizer.zero_grad()
            ent_coef_loss.backward()
            self.ent_coef_optimizer.step()
        else:
            ent_coef, ent_coef_loss = self.ent_coef_tensor, None

        with th.no_grad():  # soft value of each step's next entry, from the target critic
            latent_target, _ = self.critic_target.encode(obs[:, k:end], h_target, part(timespans, k, end), resets[:, k:end])
            next_q = self.critic_target.q_values(latent_target[:, 1:], actions_pi[:, 1:].detach()).min(dim=0).values
            next_v = next_q - ent_coef * log_prob[:, 1:].detach()                                # [B, L]
            rewards, terminations = samples.rewards[:, k:k + length], samples.terminations[:, k:k + length]
            target_q = rewards + (1.0 - terminations) * self.gamma * next_v                       # [B, L]

        latent, _ = self.critic.encode(obs[:, k:k + length], h_critic, part(timespans, k, k + length), resets[:, k:k + length])
        current_q = self.critic.q_values(latent, samples.actions[:, k:k + length])               # [n_critics, B, L]
        critic_loss = 0.5 * sum(masked_mean((q - target_q) ** 2, mask) for q in current_q)
        q_pi = self.critic.q_values(latent.detach(), actions_pi[:, :length]).min(dim=0).values  # [B, L]
        actor_loss = masked_mean(ent_coef * log_prob[:, :length] - q_pi, mask)

        self.actor.optimizer.zero_grad()
        actor_loss.backward()
        self.actor.optimizer.step()
        self.critic.optimizer.zero_grad()  # the actor's loss reached the Q heads too: drop that
        critic_loss.backward()  # type: ignore[union-attr]
        self.critic.optimizer.step()
        logs = {"ent_coef": float(ent_coef.item()), "actor_loss": float(actor_loss.item()),
                "critic_loss": float(critic_loss.item())}  # type: ignore[union-attr]
        if ent_coef_loss is not None:
            logs["ent_coef_loss"] = float(ent_coef_loss.item())
        return logs

    # ------------------------------------------------------------------ use

    def learn(self: SelfLiquidSAC, total_timesteps: int, callback: MaybeCallback = None, log_interval: int = 4,
              tb_log_name: str = "LiquidSAC", reset_num_timesteps: bool = True, progress_bar: bool = False) -> SelfLiquidSAC:
        """Train for ``total_timesteps`` env steps (as SB3's ``learn``)."""
        return super().learn(total_timesteps=total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps, progress_bar=progress_bar)

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: np.ndarray | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        dt: np.ndarray | float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions and the actor's next state (see :meth:`~ncp_control.agents.sac_policy.RecurrentSACPolicy.predict`).

        :param dt: elapsed time since the previous observation in seconds (``info["dt"]``);
            ignored when ``use_info_dt`` is False.
        """
        return self.policy.predict(observation, state, episode_start, deterministic, dt=dt if self.use_info_dt else None)

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

    @classmethod
    def load(cls: type[SelfLiquidSAC], path: Any, env: Any = None, device: th.device | str = "auto",  # type: ignore[override]
             custom_objects: dict[str, Any] | None = None, print_system_info: bool = False, force_reset: bool = True,
             **kwargs: Any) -> SelfLiquidSAC:
        """SB3's ``load``: open a ``.zip`` written by :meth:`save`. Unpickling can run arbitrary
        code: load only files you made or trust; the weights-only alternative is a run folder
        or model state (:func:`ncp_control.agents.runs.load_model`).

        :param path: the zip file.
        :param env: the env to attach.
        :param device: torch device.
        :param custom_objects: objects that replace stored ones (see SB3).
        :param print_system_info: print the saving and the current system's versions.
        :param force_reset: reset the env before the next ``learn``.
        :param kwargs: attributes to set on the model.
        :return: the model.
        """
        path = liquid_zip(path, "LiquidSAC")
        return super().load(path, env=env, device=recurrent_device(device), custom_objects=custom_objects,
                            print_system_info=print_system_info, force_reset=force_reset, **kwargs)
