"""LiquidSAC: soft actor-critic for recurrent policies, trained on replayed sequences."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch as th
from ncp_control.agents.off_policy import (
    ReplayWindows,
    SequenceOffPolicyAlgorithm,
    masked_mean,
    soft_update,
)
from ncp_control.agents.sac_policy import SAC_POLICY_ALIASES, RecurrentSACPolicy
from ncp_control.agents.sequence_replay import SequenceSamples
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, Schedule

from ncp_control.errors import UserError


class LiquidSAC(SequenceOffPolicyAlgorithm):
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
    :param action_noise: noise added to the actor's samples during rollouts (SB3's ``ActionNoise``; None: none).
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
    zip_name = "LiquidSAC"

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
        action_noise: ActionNoise | None = None,
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
            policy, env, learning_rate, buffer_size=buffer_size, learning_starts=learning_starts,
            batch_size=batch_size, tau=tau, gamma=gamma, train_freq=train_freq, gradient_steps=gradient_steps,
            action_noise=action_noise, seq_len=seq_len, burn_in=burn_in, use_info_dt=use_info_dt,
            time_unit=time_unit, stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs, verbose=verbose, seed=seed, device=device,
        )
        self.ent_coef = ent_coef
        self.target_update_interval = target_update_interval
        self.target_entropy = target_entropy
        self.log_ent_coef: th.Tensor | None = None
        self.ent_coef_optimizer: th.optim.Optimizer | None = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        self._setup_networks()
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

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts = ["policy", "actor.optimizer", "critic.optimizer"]
        if self.ent_coef_optimizer is not None:
            return [*state_dicts, "ent_coef_optimizer"], ["log_ent_coef"]
        return state_dicts, ["ent_coef_tensor"]

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """``gradient_steps`` updates of critic, actor and entropy coefficient on replayed sequences.

        :param gradient_steps: updates.
        :param batch_size: steps per update (``batch_size // seq_len`` sequences).
        """
        if not self._replay_ready():
            return
        self.policy.set_training_mode(True)
        optimizers: list[th.optim.Optimizer] = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        logs: dict[str, list[float]] = {"ent_coef": [], "ent_coef_loss": [], "actor_loss": [], "critic_loss": []}
        for step in range(gradient_steps):
            for name, value in self._gradient_step(self._sample_windows(batch_size)).items():
                logs[name].append(value)
            if step % self.target_update_interval == 0:
                soft_update(self.critic, self.critic_target, self.tau)
        self._record(logs, gradient_steps)

    def _gradient_step(self, samples: SequenceSamples) -> dict[str, float]:
        """One update on a batch of windows.

        Shapes: B windows of ``burn_in + L + 1`` entries, ``L = seq_len``; the losses are taken
        on the ``L`` entries after the burn-in where they are steps taken.

        :return: the logged numbers.
        """
        w: ReplayWindows = self._windows(samples)
        h_actor, h_critic = self._stored_states(samples)
        h_target = self._warm(self.critic_target, samples, h_critic)
        h_actor, h_critic = self._warm(self.actor, samples, h_actor), self._warm(self.critic, samples, h_critic)
        # actor over the L steps and the next entry: [B, L + 1, A], [B, L + 1]
        mean, log_std, _ = self.actor(w.observations, h_actor, w.timespans, w.resets)
        actions_pi, log_prob = self.actor.sample(mean, log_std)

        if self.ent_coef_optimizer is not None and self.log_ent_coef is not None:
            ent_coef = th.exp(self.log_ent_coef.detach())
            ent_coef_loss = -masked_mean(self.log_ent_coef * (log_prob[:, :-1] + float(self.target_entropy)).detach(), w.mask)
            self.ent_coef_optimizer.zero_grad()
            ent_coef_loss.backward()
            self.ent_coef_optimizer.step()
        else:
            ent_coef, ent_coef_loss = self.ent_coef_tensor, None

        with th.no_grad():  # soft value of each step's next entry, from the target critic
            latent_target, _ = self.critic_target.encode(w.observations, h_target, w.timespans, w.resets)
            next_q = self.critic_target.q_values(latent_target[:, 1:], actions_pi[:, 1:].detach()).min(dim=0).values
            next_v = next_q - ent_coef * log_prob[:, 1:].detach()                                   # [B, L]
            target_q = w.rewards + (1.0 - w.terminations) * self.gamma * next_v                      # [B, L]

        latent, _ = self.critic.encode(w.observations[:, :-1], h_critic, w.steps(w.timespans), w.resets[:, :-1])
        current_q = self.critic.q_values(latent, w.actions)                                         # [n_critics, B, L]
        critic_loss = 0.5 * sum(masked_mean((q - target_q) ** 2, w.mask) for q in current_q)
        q_pi = self.critic.q_values(latent.detach(), actions_pi[:, :-1]).min(dim=0).values          # [B, L]
        actor_loss = masked_mean(ent_coef * log_prob[:, :-1] - q_pi, w.mask)

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
