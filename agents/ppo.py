"""LiquidPPO: PPO for recurrent policies (liquid networks and baselines), chunked training."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.buffer import ChunkedRolloutBuffer
from ncp_control.agents.common.algorithm import RecurrentAlgorithmMixin
from ncp_control.agents.device import recurrent_device
from ncp_control.agents.follow_vec_normalize import VecNormalizeFollower
from ncp_control.agents.policies import POLICY_ALIASES, RecurrentSequencePolicy
from ncp_control.agents.timing import (
    default_time_unit,
    policy_kwargs_with_time_unit,
    time_unit_argument,
    timespans_from_infos,
)
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import FloatSchedule, explained_variance, obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv, unwrap_vec_normalize
from torch.nn import functional as F

from ncp_control.errors import UserError

#: What ``normalize_advantage`` divides advantages by (see :class:`LiquidPPO`).
ADVANTAGE_SCALES = ("auto", "returns", "batch")

SelfLiquidPPO = TypeVar("SelfLiquidPPO", bound="LiquidPPO")


def normalize_advantages(advantages: th.Tensor, returns_scale: th.Tensor | None) -> th.Tensor:
    """Advantages minus their mean, divided by ``returns_scale`` (None: by their own std).

    :param advantages: ``[N]`` advantages of a minibatch.
    :param returns_scale: the returns' running standard deviation, or None for SB3's
        per-minibatch normalisation.
    :return: ``[N]`` normalised advantages.
    """
    scale = advantages.std() + 1e-8 if returns_scale is None else returns_scale
    return (advantages - advantages.mean()) / scale


class LiquidPPO(RecurrentAlgorithmMixin, OnPolicyAlgorithm):  # type: ignore[misc]  # predict takes dt and a state array
    """Proximal Policy Optimisation for recurrent policies, trained on chunks of ``seq_len`` steps.

    The rollout keeps each env's policy state; training replays fixed chunks from the state
    stored at their start (episode starts inside a chunk reset the state, no padding), in
    minibatches of whole chunks. Time-outs bootstrap from the value of the terminal observation
    computed with the state the episode ended in. When the env reports ``info["dt"]`` (seconds),
    ``dt / time_unit`` is the network's timespan for the next observation, in rollouts,
    training and ``predict(..., dt=...)``; the first step of an episode lasts one nominal
    control period (see *Time and timespans* in the concepts page).

    :param policy: ``"CfCPolicy"``, ``"LTCPolicy"``, ``"CTRNNPolicy"``, ``"LSTMPolicy"``,
        ``"GRUPolicy"``, ``"MlpPolicy"`` or a :class:`ncp_control.agents.policies.RecurrentSequencePolicy` class.
    :param env: env, env id or VecEnv.
    :param learning_rate: learning rate or schedule of the remaining progress (1 -> 0).
    :param n_steps: steps per env per rollout (a multiple of ``seq_len``).
    :param batch_size: steps per minibatch (whole chunks: a multiple of ``seq_len``).
    :param n_epochs: passes over the rollout per update.
    :param gamma: discount.
    :param gae_lambda: GAE lambda.
    :param clip_range: PPO clip range or schedule.
    :param clip_range_vf: value clip range or schedule (None: no value clipping).
    :param normalize_advantage: normalise advantages: minus their minibatch mean, divided by
        the scale that ``advantage_scale`` names.
    :param advantage_scale: what advantages are divided by when ``normalize_advantage``:
        ``"returns"``, the running standard deviation of the returns (the policy's value
        normaliser), so that a solved task's small advantages give small updates;
        ``"batch"``, the minibatch's standard deviation (SB3's PPO; every update then takes a
        full step, even on noise); ``"auto"`` (default): ``"returns"`` when the policy
        normalises values (``normalize_values``, its default), else ``"batch"``.
    :param ent_coef: entropy coefficient.
    :param vf_coef: value loss coefficient.
    :param max_grad_norm: gradient clipping norm.
    :param use_sde: generalised state-dependent exploration (Box actions).
    :param sde_sample_freq: resample the gSDE noise every n steps (-1: once per rollout).
    :param target_kl: stop an update early past this approximate KL.
    :param seq_len: chunk length: truncated backpropagation through time.
    :param use_info_dt: feed ``info["dt"] / time_unit`` to the networks as timespans.
    :param time_unit: seconds per unit of timespan (None: the env's nominal control period,
        :func:`~ncp_control.agents.timing.default_time_unit`, so that a step at the nominal rate
        lasts 1.0). The policy owns the number (``model.policy.time_unit``).
    :param dt_nominal: deprecated alias of ``time_unit`` (warns).
    :param stats_window_size: episodes averaged in the logs.
    :param tensorboard_log: TensorBoard log folder.
    :param policy_kwargs: policy options (``units``, ``wiring``, ``cell_kwargs``, ``critic``...).
    :param verbose: verbosity.
    :param seed: random seed.
    :param device: torch device ("auto": the CPU, see :mod:`ncp_control.agents.device`; CUDA warns).
    :param _init_setup_model: build the networks now.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = POLICY_ALIASES
    zip_name = "LiquidPPO"
    policy: RecurrentSequencePolicy  # type: ignore[assignment]
    rollout_buffer: ChunkedRolloutBuffer  # type: ignore[assignment]

    def __init__(
        self,
        policy: str | type[RecurrentSequencePolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 128,
        batch_size: int = 256,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        advantage_scale: str = "auto",
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        target_kl: float | None = None,
        seq_len: int = 32,
        use_info_dt: bool = True,
        time_unit: float | None = None,
        dt_nominal: float | None = None,
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
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=recurrent_device(device),  # input validation (issue 16): "auto" is the CPU, CUDA warns
            _init_setup_model=False,
        )
        # input validation (issue 16): n_steps >= 1, whole chunks per minibatch, a finite time unit
        if n_steps < 1:
            raise UserError(f"n_steps must be >= 1 (steps per env per rollout), got {n_steps}")
        if advantage_scale not in ADVANTAGE_SCALES:
            raise UserError(f"advantage_scale must be one of {ADVANTAGE_SCALES}, got {advantage_scale!r}")
        if seq_len < 1 or n_steps % seq_len != 0:
            raise UserError(f"seq_len must be >= 1 and divide n_steps ({n_steps}), got {seq_len}")
        if batch_size < seq_len or batch_size % seq_len != 0:
            raise UserError(f"batch_size must be a multiple of seq_len ({seq_len}): whole chunks per minibatch, "
                            f"got {batch_size}")
        self.policy_kwargs = policy_kwargs_with_time_unit(self.policy_kwargs, time_unit_argument(time_unit, dt_nominal), "LiquidPPO")
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_range = clip_range
        self.clip_range_vf = clip_range_vf
        self.normalize_advantage = normalize_advantage
        self.advantage_scale = advantage_scale
        self.target_kl = target_kl
        self.seq_len = seq_len
        self.use_info_dt = use_info_dt
        self._last_state: th.Tensor | None = None
        self._last_timespans: np.ndarray | None = None
        #: Timespan of an episode's first step (one nominal control period), set by ``_setup_learn``.
        self._start_timespan = 1.0
        self._vec_normalize_follower: VecNormalizeFollower | None = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        self._setup_lr_schedule()
        self.set_random_seed(self.seed)
        if "time_unit" not in self.policy_kwargs and "dt_nominal" not in self.policy_kwargs:
            legacy = self.__dict__.get("dt_nominal")  # zips saved before time_unit: the algorithm held it
            unit = legacy if legacy is not None else default_time_unit(self.env)
            self.policy_kwargs = {**self.policy_kwargs, "time_unit": unit}
        self.policy = self.policy_class(  # type: ignore[assignment]
            self.observation_space,
            self.action_space,
            self.lr_schedule,
            use_sde=self.use_sde,
            **self.policy_kwargs,
        )
        self.policy = self.policy.to(self.device)
        self.rollout_buffer = ChunkedRolloutBuffer(
            self.n_steps,
            self.observation_space,
            self.action_space,
            state_size=self.policy.state_size,
            seq_len=self.seq_len,
            n_envs=self.n_envs,
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
            device=self.device,
        )
        if self.advantage_scale == "returns" and self.policy.value_normalizer is None:
            raise UserError('advantage_scale="returns" divides by the running scale of the returns, which the policy '
                            'keeps only with normalize_values=True: set it in policy_kwargs, or advantage_scale="batch"')
        self.clip_range = FloatSchedule(self.clip_range)
        if self.clip_range_vf is not None:
            if isinstance(self.clip_range_vf, (float, int)) and self.clip_range_vf <= 0:
                raise ValueError("clip_range_vf must be positive or None")
            self.clip_range_vf = FloatSchedule(self.clip_range_vf)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_vec_normalize_follower"]

    def _initial_rollout_state(self, n_envs: int) -> th.Tensor:
        return self.policy.initial_state(n_envs)

    def _setup_learn(self, total_timesteps: int, callback: MaybeCallback = None, reset_num_timesteps: bool = True,
                     tb_log_name: str = "run", progress_bar: bool = False) -> tuple[int, BaseCallback]:
        result = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        obs_normalizer = self.policy.obs_normalizer if self.policy.preserve_observation_function else None
        self._vec_normalize_follower = VecNormalizeFollower(obs_normalizer, self.policy.value_normalizer)
        self._follow_vec_normalize()
        return result

    def _follow_vec_normalize(self) -> None:
        """Restate the policy's normalisers in the units of an outer ``VecNormalize`` whose
        statistics moved since the last call (:class:`~ncp_control.agents.follow_vec_normalize.VecNormalizeFollower`:
        observations with ``preserve_observation_function``, the reward scale with
        ``normalize_values``), so that its actions and values for an observation move only with
        its weights. Called after each update: the rollout was collected and replayed in the
        units it was collected in."""
        if self._vec_normalize_follower is not None:  # set by _setup_learn
            self._vec_normalize_follower.follow(unwrap_vec_normalize(self.env) if self.env is not None else None)

    # ------------------------------------------------------------------ rollout

    def collect_rollouts(  # type: ignore[override]
        self, env: VecEnv, callback: BaseCallback, rollout_buffer: ChunkedRolloutBuffer, n_rollout_steps: int
    ) -> bool:
        """Collect ``n_rollout_steps`` steps per env, storing the state at every chunk start.

        :param env: the training VecEnv.
        :param callback: called every step.
        :param rollout_buffer: the chunked buffer.
        :param n_rollout_steps: steps per env.
        :return: False if a callback asked to stop.
        """
        assert self._last_obs is not None and self._last_state is not None and self._last_timespans is not None
        self.policy.set_training_mode(False)
        n_steps = 0
        rollout_buffer.reset()
        if self.use_sde:
            self.policy.reset_noise(env.num_envs)
        callback.on_rollout_start()
        dones = self._last_episode_starts
        while n_steps < n_rollout_steps:
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                self.policy.reset_noise(env.num_envs)
            if n_steps % self.seq_len == 0:
                rollout_buffer.add_state(self._last_state)
            with th.no_grad():
                obs_tensor = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
                starts = th.as_tensor(self._last_episode_starts, dtype=th.float32, device=self.device)
                actions, values, log_probs, new_state = self.policy(
                    obs_tensor, self._last_state, starts, self._timespans_tensor(self._last_timespans)
                )
            actions_np = actions.cpu().numpy()
            clipped = actions_np
            if isinstance(self.action_space, spaces.Box):
                clipped = np.clip(actions_np, self.action_space.low, self.action_space.high)
            new_obs, rewards, dones, infos = env.step(clipped)
            self.num_timesteps += env.num_envs
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)
            n_steps += 1
            if isinstance(self.action_space, spaces.Discrete):
                actions_np = actions_np.reshape(-1, 1)
            next_timespans = timespans_from_infos(infos, self.policy.time_unit, self.use_info_dt)
            self._bootstrap_timeouts(rewards, dones, infos, new_state, next_timespans)
            rollout_buffer.add(
                self._last_obs, actions_np, rewards, self._last_episode_starts, values, log_probs, self._last_timespans  # type: ignore[arg-type]
            )
            self._last_obs = new_obs  # type: ignore[assignment]
            self._last_episode_starts = dones
            self._last_state = new_state
            self._last_timespans = np.where(dones, self._start_timespan, next_timespans).astype(np.float32)
        with th.no_grad():
            last_values = self.policy.predict_values(
                obs_as_tensor(self._last_obs, self.device),  # type: ignore[arg-type]
                self._last_state,
                th.as_tensor(dones, dtype=th.float32, device=self.device),
                self._timespans_tensor(self._last_timespans),
            )
        rollout_buffer.compute_returns_and_advantage(last_values=last_values, dones=np.asarray(dones))
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _bootstrap_timeouts(
        self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]], new_state: th.Tensor, timespans: np.ndarray
    ) -> None:
        """Add ``gamma * V(terminal observation)`` to the reward of truncated episodes, in place.

        The value is computed from the state the episode ended in (``new_state``) with the
        elapsed time of that last step.
        """
        idx = [
            i
            for i, done in enumerate(dones)
            if done and infos[i].get("terminal_observation") is not None and infos[i].get("TimeLimit.truncated", False)
        ]
        if not idx:
            return
        terminal = [infos[i]["terminal_observation"] for i in idx]
        if isinstance(terminal[0], dict):
            obs: Any = {k: np.stack([t[k] for t in terminal]) for k in terminal[0]}
        else:
            obs = np.stack(terminal)
        obs_tensor = obs_as_tensor(obs, self.device)
        index = th.as_tensor(idx, device=self.device)
        with th.no_grad():
            values = self.policy.predict_values(
                obs_tensor,
                new_state[index],
                th.zeros(len(idx), device=self.device),
                self._timespans_tensor(timespans[idx]),
            )
        rewards[idx] += self.gamma * values.cpu().numpy()

    # ------------------------------------------------------------------ training

    def train(self) -> None:
        """Update the policy with the rollout: ``n_epochs`` passes over minibatches of chunks."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)  # type: ignore[operator]
        clip_range_vf = None
        if self.clip_range_vf is not None:
            clip_range_vf = self.clip_range_vf(self._current_progress_remaining)  # type: ignore[operator]
        entropy_losses, pg_losses, value_losses, clip_fractions, approx_kls = [], [], [], [], []
        loss = th.zeros(())
        continue_training = True
        epoch = 0
        value_normalizer = self.policy.value_normalizer
        self.policy.update_value_normalizer(th.as_tensor(self.rollout_buffer.returns.reshape(-1), device=self.device))
        returns_scale = self._returns_scale()
        for epoch in range(self.n_epochs):
            for batch in self.rollout_buffer.get(self.batch_size):
                actions = batch.actions
                if isinstance(self.action_space, spaces.Discrete):
                    actions = actions.long().flatten()
                if self.use_sde:
                    self.policy.reset_noise(self.batch_size)
                values, log_prob, entropy = self.policy.evaluate_actions(
                    batch.observations,
                    actions,
                    batch.states,
                    batch.episode_starts,
                    batch.timespans if self.use_info_dt else None,
                )
                advantages = batch.advantages.flatten()
                if self.normalize_advantage and len(advantages) > 1:
                    advantages = normalize_advantages(advantages, returns_scale)
                old_log_prob = batch.old_log_prob.flatten()
                ratio = th.exp(log_prob - old_log_prob)
                policy_loss = -th.min(advantages * ratio, advantages * th.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()
                pg_losses.append(policy_loss.item())
                clip_fractions.append(th.mean((th.abs(ratio - 1) > clip_range).float()).item())
                old_values, returns = batch.old_values.flatten(), batch.returns.flatten()
                if value_normalizer is not None:
                    old_values, returns = value_normalizer(old_values), value_normalizer(returns)
                if clip_range_vf is not None:
                    values = old_values + th.clamp(values - old_values, -clip_range_vf, clip_range_vf)
                value_loss = F.mse_loss(returns, values)
                value_losses.append(value_loss.item())
                entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)
                entropy_losses.append(entropy_loss.item())
                loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
                with th.no_grad():
                    log_ratio = log_prob - old_log_prob
                    approx_kl = th.mean((th.exp(log_ratio) - 1) - log_ratio).cpu().numpy()
                    approx_kls.append(approx_kl)
                if self.target_kl is not None and approx_kl > 1.5 * self.target_kl:
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at step {epoch} due to reaching max kl: {approx_kl:.2f}")
                    break
                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                self.policy.optimizer.step()
            self._n_updates += 1
            if not continue_training:
                break
        buffer = self.rollout_buffer
        self._follow_vec_normalize()
        if self.policy.obs_normalizer is not None:
            assert isinstance(buffer.observations, np.ndarray)
            flat = buffer.observations.reshape(-1, *buffer.observations.shape[2:])
            self.policy.obs_normalizer.update(th.as_tensor(flat, device=self.device))
        explained_var = explained_variance(buffer.values.flatten(), buffer.returns.flatten())
        self.logger.record("train/entropy_loss", np.mean(entropy_losses))
        self.logger.record("train/policy_gradient_loss", np.mean(pg_losses))
        self.logger.record("train/value_loss", np.mean(value_losses))
        self.logger.record("train/approx_kl", np.mean(approx_kls))
        self.logger.record("train/clip_fraction", np.mean(clip_fractions))
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/explained_variance", explained_var)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)

    def _returns_scale(self) -> th.Tensor | None:
        """:return: the returns' running standard deviation when advantages are divided by it,
        else None (``advantage_scale`` "batch", or "auto" without value normalisation)."""
        normalizer = self.policy.value_normalizer
        if self.advantage_scale == "batch" or normalizer is None:
            return None
        return normalizer.std()

    def learn(
        self: SelfLiquidPPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "LiquidPPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfLiquidPPO:
        """Train for ``total_timesteps`` env steps (as SB3's ``learn``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
