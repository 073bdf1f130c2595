"""LiquidTD3: twin delayed deep deterministic policy gradient for recurrent policies, trained on replayed sequences."""

from __future__ import annotations

from typing import Any, ClassVar

import torch as th
from ncp_control.agents.off_policy import SequenceOffPolicyAlgorithm, masked_mean, soft_update
from ncp_control.agents.sequence_replay import SequenceSamples
from ncp_control.agents.td3_policy import TD3_POLICY_ALIASES, RecurrentTD3Policy
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule

from ncp_control.errors import UserError


class LiquidTD3(SequenceOffPolicyAlgorithm):
    """TD3 with a recurrent deterministic actor and recurrent critics, trained on replayed sequences.

    LiquidSAC's sequence replay (:class:`~ncp_control.agents.sac.LiquidSAC`: stored states,
    ``burn_in`` entries that warm them up, ``seq_len`` learned steps, time from ``info["dt"]``)
    with TD3's losses: the critics regress on ``r + gamma * min_i Q'_i(s', a')`` where ``a'`` is
    the target actor's action plus clipped Gaussian noise (target policy smoothing), and every
    ``policy_delay`` critic updates the actor ascends the first Q head and both targets follow.
    The target actor warms up from the stored actor states as the target critic does from the
    critic's. Exploration is ``action_noise`` (SB3's TD3 has none by default; the rl-zoo recipes
    give ``noise_type: normal``, ``noise_std: 0.1``).

    :param policy: ``"CfCPolicy"``, ``"LTCPolicy"``, ``"CTRNNPolicy"``, ``"LSTMPolicy"``,
        ``"GRUPolicy"``, ``"MlpPolicy"`` or a :class:`~ncp_control.agents.td3_policy.RecurrentTD3Policy` class.
    :param env: env, env id or VecEnv (1-D Box actions, Box observations).
    :param learning_rate: learning rate of actor and critic, or a schedule.
    :param buffer_size: replay buffer entries, over all envs.
    :param learning_starts: env steps of uniformly random actions before learning (None: SB3's
        100, or ``n_envs * (burn_in + seq_len + 1)`` where that is more).
    :param batch_size: steps per gradient step (``batch_size // seq_len`` sequences; a multiple of ``seq_len``).
    :param tau: targets' soft update coefficient.
    :param gamma: discount.
    :param train_freq: update every ``train_freq`` steps (or ``(n, "episode")``).
    :param gradient_steps: gradient steps per update (-1: as many as env steps collected).
    :param action_noise: exploration noise added to the actor's actions in rollouts (SB3's ``ActionNoise``).
    :param policy_delay: critic updates per actor (and target) update.
    :param target_policy_noise: standard deviation of the smoothing noise on the target actions (in [-1, 1] units).
    :param target_noise_clip: bound of that noise.
    :param seq_len: steps per sequence that the losses are computed on.
    :param burn_in: entries before each sequence that only warm the states up (LiquidSAC's measured default).
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

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = TD3_POLICY_ALIASES
    zip_name = "LiquidTD3"
    policy: RecurrentTD3Policy  # type: ignore[assignment]

    def __init__(
        self,
        policy: str | type[RecurrentTD3Policy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        buffer_size: int = 1_000_000,
        learning_starts: int | None = None,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        action_noise: ActionNoise | None = None,
        policy_delay: int = 2,
        target_policy_noise: float = 0.2,
        target_noise_clip: float = 0.5,
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
            policy, env, learning_rate, buffer_size=buffer_size, learning_starts=learning_starts,
            batch_size=batch_size, tau=tau, gamma=gamma, train_freq=train_freq, gradient_steps=gradient_steps,
            action_noise=action_noise, seq_len=seq_len, burn_in=burn_in, use_info_dt=use_info_dt,
            time_unit=time_unit, stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device,
        )
        if policy_delay < 1:
            raise UserError(f"policy_delay must be >= 1 (critic updates per actor update), got {policy_delay}")
        if target_policy_noise < 0 or target_noise_clip < 0:
            raise UserError(f"target_policy_noise and target_noise_clip must be >= 0, got {target_policy_noise} "
                            f"and {target_noise_clip}")
        self.policy_delay = policy_delay
        self.target_policy_noise = target_policy_noise
        self.target_noise_clip = target_noise_clip
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        self._setup_networks()
        self.actor_target = self.policy.actor_target

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "actor_target"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        return ["policy", "actor.optimizer", "critic.optimizer"], []

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """``gradient_steps`` critic updates on replayed sequences, with an actor update and
        soft target updates every ``policy_delay`` of them.

        :param gradient_steps: critic updates.
        :param batch_size: steps per update (``batch_size // seq_len`` sequences).
        """
        if not self._replay_ready():
            return
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer])
        logs: dict[str, list[float]] = {"actor_loss": [], "critic_loss": []}
        for step in range(gradient_steps):
            update_actor = (self._n_updates + step + 1) % self.policy_delay == 0
            for name, value in self._gradient_step(self._sample_windows(batch_size), update_actor).items():
                logs[name].append(value)
            if update_actor:
                soft_update(self.critic, self.critic_target, self.tau)
                soft_update(self.actor, self.actor_target, self.tau)
        self._record(logs, gradient_steps)

    def _gradient_step(self, samples: SequenceSamples, update_actor: bool) -> dict[str, float]:
        """One critic update on a batch of windows (B windows, ``L = seq_len`` learned steps), and
        an actor update where ``update_actor``.

        :return: the logged numbers.
        """
        w = self._windows(samples)
        h_actor, h_critic = self._stored_states(samples)
        with th.no_grad():  # value of each step's next entry: target actor, smoothed, and target critic
            h_next = self._warm(self.actor_target, samples, h_actor)
            mean_next, _, _ = self.actor_target(w.observations, h_next, w.timespans, w.resets)  # [B, L + 1, A]
            noise = (th.randn_like(mean_next[:, 1:]) * self.target_policy_noise).clamp(-self.target_noise_clip,
                                                                                         self.target_noise_clip)
            next_actions = (th.tanh(mean_next[:, 1:]) + noise).clamp(-1.0, 1.0)                   # [B, L, A]
            h_target = self._warm(self.critic_target, samples, h_critic)
            latent_target, _ = self.critic_target.encode(w.observations, h_target, w.timespans, w.resets)
            next_q = self.critic_target.q_values(latent_target[:, 1:], next_actions).min(dim=0).values  # [B, L]
            target_q = w.rewards + (1.0 - w.terminations) * self.gamma * next_q                    # [B, L]

        h_critic = self._warm(self.critic, samples, h_critic)
        latent, _ = self.critic.encode(w.observations[:, :-1], h_critic, w.steps(w.timespans), w.resets[:, :-1])
        current_q = self.critic.q_values(latent, w.actions)                                       # [n_critics, B, L]
        critic_loss = sum(masked_mean((q - target_q) ** 2, w.mask) for q in current_q)
        self.critic.optimizer.zero_grad()
        critic_loss.backward()  # type: ignore[union-attr]
        self.critic.optimizer.step()
        logs = {"critic_loss": float(critic_loss.item())}  # type: ignore[union-attr]
        if update_actor:
            h_actor = self._warm(self.actor, samples, h_actor)
            mean, _, _ = self.actor(w.observations[:, :-1], h_actor, w.steps(w.timespans), w.resets[:, :-1])
            q_pi = self.critic.q_values(latent.detach(), th.tanh(mean))[0]                        # [B, L]
            actor_loss = -masked_mean(q_pi, w.mask)
            self.actor.optimizer.zero_grad()
            actor_loss.backward()
            self.actor.optimizer.step()
            logs["actor_loss"] = float(actor_loss.item())
        return logs
