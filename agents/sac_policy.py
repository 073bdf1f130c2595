"""Recurrent actor and critics for :class:`ncp_control.agents.LiquidSAC`: liquid networks and baselines.

The actor is a network behind the sequence interface of :mod:`ncp_control.agents.sequence`
(a liquid network with NCP wiring by default, its motor neurons feeding the head), a head and
the mean and log standard deviation of a tanh-squashed Gaussian. The critic is a recurrent
network of the same kind (unwired) over the observations, read by ``n_critics`` Q heads that
also take the action; the target critic is its slowly following copy. Actor and critic keep
their own states; the policy state a user passes to :meth:`RecurrentSACPolicy.predict` is the
actor's alone.

The aliases (``"CfCPolicy"``, ``"LTCPolicy"``, ``"CTRNNPolicy"``, ``"LSTMPolicy"``,
``"GRUPolicy"``, ``"MlpPolicy"``) pick the network and nothing else. ``MlpPolicy`` is SB3's
SAC network: no memory, ``net_arch`` layers in the actor and in each Q head on the observation
and action.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.extractors import resolve_extractor
from ncp_control.agents.policies import one_step_inputs
from ncp_control.agents.sequence import (
    LIQUID_NETWORKS,
    NETWORKS,
    MLPSequence,
    check_episode_starts,
    make_sequence_model,
    size_of,
)
from ncp_control.agents.timing import elapsed_seconds, time_unit_argument
from ncp_control.agents.wiring import build_wiring
from stable_baselines3.common.distributions import SquashedDiagGaussianDistribution
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from ncp_control.errors import UserError
from ncp_control.timespans import to_timespans

#: Bounds of the actor's log standard deviation (SB3's SAC).
LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
#: Hidden layers of the actor head after a recurrent network.
DEFAULT_ACTOR_HEAD = (64, 64)
#: Hidden layers of each Q head, and of the MLP network (SB3's SAC).
DEFAULT_NET_ARCH = (256, 256)


def _mlp(input_size: int, arch: list[int], activation_fn: type[nn.Module]) -> nn.Sequential:
    return MLPSequence(input_size, arch, activation_fn).net


class _Encoder(nn.Module):
    """Observations ``[B, T, ...]`` to features ``[B, T, F]`` (SB3's preprocessing, then an extractor)."""

    extractor: BaseFeaturesExtractor

    def __init__(self, observation_space: spaces.Space, extractor: BaseFeaturesExtractor, normalize_images: bool) -> None:
        super().__init__()
        self.observation_space = observation_space
        self.extractor = extractor
        self.normalize_images = normalize_images

    def forward(self, obs: th.Tensor) -> th.Tensor:
        batch, length = obs.shape[:2]
        flat = obs.reshape(batch * length, *obs.shape[2:])
        features = self.extractor(preprocess_obs(flat, self.observation_space, normalize_images=self.normalize_images))
        return features.reshape(batch, length, -1)


class SequenceActor(nn.Module):
    """A recurrent network, a head, and a tanh-squashed Gaussian per step.

    :param encoder: observations to features.
    :param net: the network (sequence interface).
    :param head: hidden layers after the network's outputs.
    :param activation_fn: their activation.
    :param action_dim: A.
    :param stochastic: a Gaussian with a learned log standard deviation (SAC); False: the mean
        alone (TD3's deterministic actor, no log-std layer).
    """

    optimizer: th.optim.Optimizer
    encoder: _Encoder

    def __init__(self, encoder: _Encoder, net: nn.Module, head: list[int], activation_fn: type[nn.Module],
                 action_dim: int, stochastic: bool = True) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = net
        out = size_of(net, "output_size")
        self.head = _mlp(out, head, activation_fn)
        latent = head[-1] if head else out
        self.mu = nn.Linear(latent, action_dim)
        self.log_std = nn.Linear(latent, action_dim) if stochastic else None
        self.state_size = size_of(net, "state_size")
        self.distribution = SquashedDiagGaussianDistribution(action_dim)

    def forward(self, obs: th.Tensor, state: th.Tensor, timespans: th.Tensor | float | None,
                resets: th.Tensor | None) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """:param obs: ``[B, T, ...]``. :param state: ``[B, S]``. :param timespans: ``[B, T]``, a float or None.
        :param resets: ``[B, T]`` bool or None.
        :return: mean ``[B, T, A]``, log standard deviation ``[B, T, A]`` (before the tanh; zeros
            for a deterministic actor) and the state ``[B, S]``."""
        y, state = self.net(self.encoder(obs), state, timespans, resets)
        latent = self.head(y)
        mean = self.mu(latent)
        if self.log_std is None:
            return mean, th.zeros_like(mean), state
        return mean, self.log_std(latent).clamp(LOG_STD_MIN, LOG_STD_MAX), state

    def sample(self, mean: th.Tensor, log_std: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """:param mean: ``[..., A]``. :param log_std: ``[..., A]``.
        :return: actions in [-1, 1] ``[..., A]`` (reparametrised) and their log-probabilities ``[...]``."""
        shape = mean.shape[:-1]
        actions, log_prob = self.distribution.log_prob_from_params(mean.reshape(-1, mean.shape[-1]),
                                                                  log_std.reshape(-1, log_std.shape[-1]))
        return actions.reshape(mean.shape), log_prob.reshape(shape)


class SequenceCritic(nn.Module):
    """A recurrent network over the observations, and ``n_critics`` Q heads on its output and the action.

    :param encoder: observations to features.
    :param net: the network (sequence interface).
    :param q_head: hidden layers of each Q head.
    :param activation_fn: their activation.
    :param action_dim: A.
    :param n_critics: number of Q heads.
    """

    optimizer: th.optim.Optimizer

    def __init__(self, encoder: _Encoder, net: nn.Module, q_head: list[int], activation_fn: type[nn.Module],
                 action_dim: int, n_critics: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.net = net
        out = size_of(net, "output_size")
        self.q_nets = nn.ModuleList(
            nn.Sequential(*_mlp(out + action_dim, q_head, activation_fn), nn.Linear(q_head[-1] if q_head else out + action_dim, 1))
            for _ in range(n_critics)
        )
        self.state_size = size_of(net, "state_size")

    def encode(self, obs: th.Tensor, state: th.Tensor, timespans: th.Tensor | float | None,
               resets: th.Tensor | None) -> tuple[th.Tensor, th.Tensor]:
        """:param obs: ``[B, T, ...]``. :param state: ``[B, S]``. :return: latent ``[B, T, H]`` and the state ``[B, S]``."""
        return self.net(self.encoder(obs), state, timespans, resets)

    def q_values(self, latent: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """:param latent: ``[B, T, H]``. :param actions: ``[B, T, A]`` in [-1, 1].
        :return: ``[n_critics, B, T]``."""
        x = th.cat([latent, actions], dim=-1)
        return th.stack([q(x).squeeze(-1) for q in self.q_nets])


class RecurrentSACPolicy(BasePolicy):
    """Recurrent actor and critics for LiquidSAC.

    :param observation_space: a Box observation space (vector, or an image with a CNN extractor).
    :param action_space: a 1-D Box action space.
    :param lr_schedule: learning-rate schedule (actor and critic optimizers).
    :param network: ``"cfc"``, ``"ltc"``, ``"ctrnn"``, ``"lstm"``, ``"gru"`` or ``"mlp"`` (set by the aliases).
    :param units: neurons of the liquid network or hidden size of the LSTM/GRU (default 32 liquid, 64 LSTM/GRU).
    :param wiring: the actor's wiring (liquid networks; :func:`~ncp_control.agents.wiring.build_wiring`):
        None or ``"ncp"`` (AutoNCP, the default), ``"full"``, ``"none"`` or a ``Wiring``.
    :param motor_neurons: motor neurons of an ``"ncp"``/``"full"`` wiring (default one per action).
    :param sparsity_level: AutoNCP sparsity.
    :param wiring_seed: seed of the generated wiring.
    :param cell_kwargs: options of the liquid cells (``implementation`` defaults to ``"fast"``).
    :param critic_units: units of the critic's network (default: ``units``; unwired).
    :param net_arch: hidden layers of the ``"mlp"`` actor network (default ``[256, 256]``; LiquidTD3: ``[400, 300]``).
    :param actor_head: hidden layers after the actor network (default ``[64, 64]`` after a
        recurrent network, none after the MLP).
    :param q_head: hidden layers of each Q head (default ``[256, 256]``; LiquidTD3: ``[400, 300]``).
    :param n_critics: Q heads (clipped double Q learning: the smallest is used).
    :param activation_fn: activation of the heads and the MLP.
    :param features_extractor: ``"flatten"``, ``"cnn"``, a class, or None (automatic).
    :param features_extractor_kwargs: its keyword arguments.
    :param normalize_images: scale images to [0, 1].
    :param optimizer_class: optimizer of actor and critic.
    :param optimizer_kwargs: its keyword arguments.
    :param time_unit: seconds per unit of timespan (LiquidSAC sets the env's nominal control period).
    """

    network: str = "cfc"
    #: A Gaussian actor (SAC); False: a deterministic one (TD3).
    stochastic: bool = True
    #: Hidden layers of each Q head and of the MLP actor, unless given (SB3's SAC).
    default_net_arch: tuple[int, ...] = DEFAULT_NET_ARCH

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        network: str | None = None,
        units: int | None = None,
        wiring: Any = None,
        motor_neurons: int | None = None,
        sparsity_level: float = 0.5,
        wiring_seed: int = 22222,
        cell_kwargs: dict[str, Any] | None = None,
        critic_units: int | None = None,
        net_arch: list[int] | None = None,
        actor_head: list[int] | None = None,
        q_head: list[int] | None = None,
        n_critics: int = 2,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor: str | type[BaseFeaturesExtractor] | None = None,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        time_unit: float | None = None,
    ) -> None:
        network = (network or self.network).lower()
        if network not in NETWORKS:
            raise UserError(f"network must be one of {NETWORKS}, got {network!r}")
        if not (isinstance(action_space, spaces.Box) and len(action_space.shape) == 1):
            raise UserError(f"LiquidSAC needs a 1-D Box action space, got {action_space}")
        if not (np.isfinite(action_space.low).all() and np.isfinite(action_space.high).all()):
            raise UserError(f"LiquidSAC squashes its actions into the action space's bounds, which must be finite, got "
                            f"low={action_space.low}, high={action_space.high}: bound the env's action space")
        if not isinstance(observation_space, spaces.Box):
            raise UserError(f"LiquidSAC's policies take Box observations (vectors or images), got {observation_space}")
        if n_critics < 1:
            raise UserError(f"n_critics must be >= 1, got {n_critics}")
        extractor_class = resolve_extractor(observation_space, features_extractor)
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if optimizer_class in (th.optim.Adam, th.optim.AdamW):
            optimizer_kwargs.setdefault("foreach", True)  # many small tensors: one multi-tensor update
        super().__init__(observation_space, action_space, features_extractor_class=extractor_class,
                         features_extractor_kwargs=dict(features_extractor_kwargs or {}),
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, squash_output=True)
        unit = time_unit_argument(time_unit, None)
        #: Seconds per unit of timespan.
        self.time_unit = 1.0 if unit is None else unit
        self.network_name = network
        self.units = units if units is not None else (32 if network in LIQUID_NETWORKS else 64)
        self.wiring = wiring
        self.motor_neurons = motor_neurons
        self.sparsity_level = sparsity_level
        self.wiring_seed = wiring_seed
        self.cell_kwargs = dict(cell_kwargs or {})
        if network in LIQUID_NETWORKS:
            self.cell_kwargs.setdefault("implementation", "fast")
        self.critic_units = critic_units if critic_units is not None else self.units
        self.net_arch = list(net_arch) if net_arch is not None else list(self.default_net_arch)
        self.actor_head = list(actor_head) if actor_head is not None else ([] if network == "mlp" else list(DEFAULT_ACTOR_HEAD))
        self.q_head = list(q_head) if q_head is not None else list(self.default_net_arch)
        self.n_critics = n_critics
        self.activation_fn = activation_fn
        self.features_extractor_choice = features_extractor
        action_dim = int(action_space.shape[0])

        if motor_neurons is not None and (network not in LIQUID_NETWORKS or wiring not in (None, "ncp", "full")):
            raise UserError(f"motor_neurons sizes an 'ncp' or 'full' wiring of a liquid network, not wiring={wiring!r} "
                            f"of {network!r}: remove it")
        if network not in LIQUID_NETWORKS and wiring not in (None, "none"):
            raise UserError(f"wiring is for the liquid networks {LIQUID_NETWORKS}, not {network!r}")
        self.actor = self._make_actor(action_dim)
        self.critic = self._make_critic(action_dim)
        self.critic_target = self._make_critic(action_dim)
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.critic_target.requires_grad_(False)
        self.actor.optimizer = self.optimizer_class(self.actor.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]
        self.critic.optimizer = self.optimizer_class(self.critic.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]

    def _make_actor(self, action_dim: int) -> SequenceActor:
        encoder = _Encoder(self.observation_space, self.make_features_extractor(), self.normalize_images)
        features_dim = encoder.extractor.features_dim
        wired = None
        if self.network_name in LIQUID_NETWORKS:
            wired = build_wiring(self.wiring, self.units, self.motor_neurons or action_dim, features_dim,
                                 self.sparsity_level, self.wiring_seed)
        net = make_sequence_model(self.network_name, features_dim, wired if wired is not None else self.units,
                                  self.cell_kwargs, self.net_arch, self.activation_fn)
        return SequenceActor(encoder, net, self.actor_head, self.activation_fn, action_dim, self.stochastic)

    def _make_critic(self, action_dim: int) -> SequenceCritic:
        encoder = _Encoder(self.observation_space, self.make_features_extractor(), self.normalize_images)
        features_dim = encoder.extractor.features_dim
        if self.network_name == "mlp":  # SB3's Q network: the MLP on the observation and action
            net: nn.Module = MLPSequence(features_dim, [])
        else:
            net = make_sequence_model(self.network_name, features_dim, self.critic_units, self.cell_kwargs)
        return SequenceCritic(encoder, net, self.q_head, self.activation_fn, action_dim, self.n_critics)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(network=self.network_name, units=self.units, wiring=self.wiring, motor_neurons=self.motor_neurons,
                    sparsity_level=self.sparsity_level, wiring_seed=self.wiring_seed, cell_kwargs=self.cell_kwargs,
                    critic_units=self.critic_units, net_arch=self.net_arch, actor_head=self.actor_head,
                    q_head=self.q_head, n_critics=self.n_critics, activation_fn=self.activation_fn,
                    features_extractor=self.features_extractor_choice, optimizer_class=self.optimizer_class,
                    optimizer_kwargs=self.optimizer_kwargs, time_unit=self.time_unit, lr_schedule=self._dummy_schedule)
        data.pop("features_extractor_class", None)
        data.pop("squash_output", None)
        return data

    @property
    def state_size(self) -> int:
        """:return: the size of the state :meth:`predict` carries per env (the actor's)."""
        return self.actor.state_size

    def initial_state(self, n_envs: int) -> th.Tensor:
        """:return: ``[n_envs, state_size]`` zeros (the actor at rest)."""
        return th.zeros(n_envs, self.state_size, device=self.device)

    def set_training_mode(self, mode: bool) -> None:
        """Train or evaluation mode for actor and critic (the target critic stays in evaluation
        mode); skipped where they are in it already (:meth:`predict` asks every step)."""
        if (self.training, self.actor.training, self.critic.training) != (mode, mode, mode):
            self.actor.train(mode)
            self.critic.train(mode)
            self.training = mode

    @th.no_grad()
    def act(self, obs: th.Tensor, state: th.Tensor, episode_starts: th.Tensor, timespans: th.Tensor | None,
            deterministic: bool) -> tuple[th.Tensor, th.Tensor]:
        """One control step of every env.

        :param obs: ``[B, ...]``. :param state: ``[B, S]`` actor state. :param episode_starts: ``[B]``.
        :param timespans: ``[B]`` in time units, or None.
        :param deterministic: the squashed mean instead of a sample.
        :return: actions in [-1, 1] ``[B, A]`` and the new state ``[B, S]``.
        """
        state, resets, ts = one_step_inputs(state, episode_starts, timespans)
        mean, log_std, state = self.actor(obs.unsqueeze(1), state, ts, resets)
        if deterministic:
            return th.tanh(mean[:, 0]), state
        actions, _ = self.actor.sample(mean[:, 0], log_std[:, 0])
        return actions, state

    @th.no_grad()
    def critic_step(self, obs: th.Tensor, state: th.Tensor, episode_starts: th.Tensor,
                    timespans: th.Tensor | None) -> th.Tensor:
        """Advance the critic's state by one step (rollouts store it for replay).

        :param obs: ``[B, ...]``. :param state: ``[B, S_critic]``. :param episode_starts: ``[B]``.
        :param timespans: ``[B]`` or None. :return: ``[B, S_critic]``."""
        state, resets, ts = one_step_inputs(state, episode_starts, timespans)
        return self.critic.encode(obs.unsqueeze(1), state, ts, resets)[1]

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        """Actions in [-1, 1] from rest (zero state), for SB3 code paths that carry no state."""
        assert isinstance(observation, th.Tensor)
        n = observation.shape[0]
        return self.act(observation, self.initial_state(n), th.ones(n, device=self.device), None, deterministic)[0]

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray,
        state: np.ndarray | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        dt: np.ndarray | float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions and next state, as sb3-contrib's recurrent ``predict``.

        :param observation: one observation or a batch ``[n_envs, ...]``.
        :param state: ``[n_envs, state_size]`` from the previous call, or None (at rest).
        :param episode_start: ``[n_envs]``: 1 where the observation starts an episode.
        :param deterministic: the squashed mean instead of a sample.
        :param dt: elapsed time since the previous observation in seconds, scalar or ``[n_envs]``
            (None: one time unit); on an episode's first step pass one nominal control period.
        :return: actions in the action space ``[n_envs, A]`` (unbatched for an unbatched
            observation) and the state.
        """
        self.set_training_mode(False)
        obs_tensor, vectorized = self.obs_to_tensor(observation)
        assert isinstance(obs_tensor, th.Tensor)
        n = obs_tensor.shape[0]
        h = self.initial_state(n) if state is None else th.as_tensor(np.asarray(state), dtype=th.float32, device=self.device)
        if h.shape != (n, self.state_size):
            raise UserError(f"state must have shape {(n, self.state_size)}, got {tuple(h.shape)}")
        starts = th.as_tensor(check_episode_starts(episode_start, n), device=self.device)
        timespans = None
        if dt is not None:
            timespans = th.as_tensor(to_timespans(elapsed_seconds(dt, n, self.time_unit), self.time_unit), device=self.device)
        actions, new_state = self.act(obs_tensor, h, starts, timespans, deterministic)
        actions_np = self.unscale_action(actions.cpu().numpy())
        if not vectorized:
            actions_np = actions_np.squeeze(axis=0)
        return actions_np, new_state.cpu().numpy()


class CfCSACPolicy(RecurrentSACPolicy):
    """Closed-form continuous-time actor (NCP wiring) and critic."""

    network = "cfc"


class LTCSACPolicy(RecurrentSACPolicy):
    """Liquid time-constant actor (NCP wiring) and critic."""

    network = "ltc"


class CTRNNSACPolicy(RecurrentSACPolicy):
    """Continuous-time RNN actor (NCP wiring) and critic."""

    network = "ctrnn"


class LSTMSACPolicy(RecurrentSACPolicy):
    """LSTM actor and critic (64 hidden units by default)."""

    network = "lstm"


class GRUSACPolicy(RecurrentSACPolicy):
    """GRU actor and critic (64 hidden units by default)."""

    network = "gru"


class MlpSACPolicy(RecurrentSACPolicy):
    """SB3's SAC networks (no memory)."""

    network = "mlp"


#: Policy aliases of :class:`ncp_control.agents.LiquidSAC`.
SAC_POLICY_ALIASES: dict[str, type[BasePolicy]] = {
    "CfCPolicy": CfCSACPolicy,
    "LTCPolicy": LTCSACPolicy,
    "CTRNNPolicy": CTRNNSACPolicy,
    "LSTMPolicy": LSTMSACPolicy,
    "GRUPolicy": GRUSACPolicy,
    "MlpPolicy": MlpSACPolicy,
}
