"""Recurrent actor-critic policies for :class:`ncp_control.agents.LiquidPPO`: liquid networks and baselines.

One class, :class:`RecurrentSequencePolicy`, holds every network behind the sequence interface
of :mod:`ncp_control.agents.sequence`; the aliases (``"CfCPolicy"``, ``"LTCPolicy"``, ``"CTRNNPolicy"``,
``"LSTMPolicy"``, ``"GRUPolicy"``, ``"MlpPolicy"``) only pick the network, so that a
comparison between them differs in nothing else.

The policy state is one tensor per env, ``[actor state | critic state]``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from ncp_control.agents.extractors import resolve_extractor
from ncp_control.agents.normalize import PreservingNormalizer, RunningNormalizer
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
from stable_baselines3.common.distributions import (
    CategoricalDistribution,
    DiagGaussianDistribution,
    Distribution,
    StateDependentNoiseDistribution,
    make_proba_distribution,
)
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from ncp_control.errors import UserError
from ncp_control.timespans import to_timespans

CRITICS = ("separate", "shared", "mlp")
#: What gSDE's noise is computed from: the actor head's last layer (SB3) or the observations.
SDE_FEATURES = ("auto", "head", "observations")
#: Hidden layers between a recurrent network and the action / value outputs (SB3's default
#: ``net_arch`` of its recurrent actor-critic policies).
DEFAULT_HEAD = (64, 64)


def action_outputs(action_space: spaces.Space) -> int:
    """:return: the number of action outputs (Box dimensions or Discrete choices).

    :raises ValueError: for any other action space.
    """
    if isinstance(action_space, spaces.Box) and len(action_space.shape) == 1:
        return int(action_space.shape[0])
    if isinstance(action_space, spaces.Discrete):
        return int(action_space.n)
    raise ValueError(f"the recurrent policies support 1-D Box and Discrete action spaces, got {action_space}")


def shared_timespan(timespans: th.Tensor | float | None) -> th.Tensor | float | None:
    """:param timespans: a batch's timespans (any shape), a float or None.
    :return: the one float they all equal, else the timespans themselves (None stays None)."""
    if not isinstance(timespans, th.Tensor) or timespans.numel() == 0:
        return timespans
    first = timespans.reshape(-1)[0]
    return float(first) if bool((timespans == first).all()) else timespans


def one_step_inputs(state: th.Tensor, starts: th.Tensor, timespans: th.Tensor | float | None
                    ) -> tuple[th.Tensor, None, th.Tensor | float | None]:
    """One step without gradients (rollouts, ``predict``): the states reset here where an
    episode starts, no reset mask, and one float timespan where the batch shares it, so that
    the networks take their inference shortcut.

    :param state: ``[B, S]``. :param starts: ``[B]`` or ``[B, 1]`` (1: an episode starts).
    :param timespans: ``[B]`` or ``[B, 1]``, a float or None.
    :return: the state, None (the resets), the timespans ``[B, 1]``, a float or None.
    """
    if isinstance(timespans, th.Tensor):
        timespans = timespans.reshape(-1, 1)
    return state.masked_fill(starts.reshape(-1, 1).bool(), 0.0), None, shared_timespan(timespans)


class Unrolled(NamedTuple):
    """What :meth:`RecurrentSequencePolicy._unroll` returns."""

    #: ``[B, T, M]`` actor network outputs (None when the actor was not run).
    actor: th.Tensor | None
    #: ``[B, T]`` value head outputs (None when the critic was not run).
    values: th.Tensor | None
    #: ``[B, S]`` the state after the last step.
    state: th.Tensor
    #: ``[B, T, F]`` the actor's (normalised) observation features.
    features: th.Tensor


class MotorReadout(nn.Module):
    """Motor neurons to actions: a per-motor gain and offset (one motor neuron per output).

    :param gain: ``[M]`` initial gains (half the action range for bounded Box actions).
    :param bias: ``[M]`` initial offsets (the centre of the action range).
    :param trainable_gain: learn the gains (else they stay fixed).
    """

    def __init__(self, gain: np.ndarray, bias: np.ndarray, trainable_gain: bool = True) -> None:
        super().__init__()
        self.gain = nn.Parameter(th.as_tensor(gain, dtype=th.float32), requires_grad=trainable_gain)
        self.bias = nn.Parameter(th.as_tensor(bias, dtype=th.float32))

    def forward(self, motors: th.Tensor) -> th.Tensor:
        """:param motors: ``[..., M]``. :return: ``[..., M]``."""
        return motors * self.gain + self.bias


def _motor_init(action_space: spaces.Space, n_out: int, logit_gain: float) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(action_space, spaces.Box):
        low, high = action_space.low.astype(np.float64), action_space.high.astype(np.float64)
        finite = np.isfinite(low) & np.isfinite(high)
        gain = np.where(finite, (high - low) / 2.0, 1.0)
        bias = np.where(finite, (high + low) / 2.0, 0.0)
        return gain, bias
    return np.full(n_out, logit_gain), np.zeros(n_out)


class RecurrentSequencePolicy(BasePolicy):
    """Actor-critic policy around one recurrent network, trained on chunks of sequences.

    :param observation_space: observation space (Box, image Box, or Dict).
    :param action_space: 1-D Box or Discrete.
    :param lr_schedule: learning-rate schedule.
    :param network: ``"cfc"``, ``"ltc"``, ``"ctrnn"``, ``"lstm"``, ``"gru"`` or ``"mlp"``
        (set by the alias classes).
    :param units: neurons of the liquid network or hidden size of LSTM/GRU
        (default 32 liquid, 64 LSTM/GRU).
    :param wiring: liquid networks only: ``"ncp"`` or None (AutoNCP with one motor neuron per
        action output, the default), ``"full"`` (fully connected, motors as outputs), ``"none"``
        (unwired, linear action head) or a ``Wiring`` whose ``output_size`` equals the number of
        action outputs (:func:`~ncp_control.agents.wiring.build_wiring`).
    :param motor_neurons: ``"ncp"`` and ``"full"`` wirings: motor neurons, the network's outputs
        that feed the actor head. None (default): one per action output. More than the action
        outputs needs an actor head (the default one), which maps them to the action layer.
    :param sparsity_level: AutoNCP sparsity.
    :param wiring_seed: seed of the generated wiring (fixed, so that a reload rebuilds it).
    :param cell_kwargs: options of the liquid cell (``mode``, ``ode_unfolds``, ``mixed_memory``...);
        ``implementation`` defaults to ``"fast"`` (the fused unroll, same outputs as the step loop).
    :param critic: ``"separate"`` (own recurrent network of the same kind, own state),
        ``"shared"`` (value head on the actor network's outputs) or ``"mlp"`` (feed-forward).
    :param critic_units: units of the separate critic (default: ``units``).
    :param net_arch: hidden layers of the MLP network / MLP critic (default ``[64, 64]``).
    :param activation_fn: MLP activation.
    :param features_extractor: ``"flatten"``, ``"cnn"``, ``"combined"``, a class, or None (automatic).
    :param features_extractor_kwargs: its keyword arguments.
    :param share_features_extractor: one extractor for actor and critic.
    :param normalize_images: scale images to [0, 1].
    :param optimizer_class: optimizer.
    :param optimizer_kwargs: its keyword arguments.
    :param log_std_init: initial log standard deviation (Box actions).
    :param use_sde: generalised state-dependent exploration.
    :param full_std: gSDE option.
    :param use_expln: gSDE option.
    :param sde_features: what gSDE's exploration noise is a function of: ``"head"``, the actor
        head's last layer (SB3's choice); ``"observations"``, the policy's normalised
        observation features; ``"auto"`` (default): ``"observations"`` for a wired liquid
        network with vector observations, ``"head"`` otherwise. A wired network's head sees
        only its motor neurons (one per action by default): gSDE's noise computed from it
        vanishes wherever those motor neurons are 0, and moves whenever the head learns the
        mean (the learning page, *PendulumNoVel-v1*).
    :param time_unit: seconds per unit of timespan (see *Time and timespans* in the concepts
        page): ``predict(..., dt=...)`` passes ``dt / time_unit`` to the network. LiquidPPO sets
        it to the env's nominal control period unless told otherwise. Default 1.0.
    :param dt_nominal: deprecated alias of ``time_unit`` (warns).
    :param normalize_observations: normalise vector observations with running statistics kept
        in the policy (updated by LiquidPPO after each update; saved with the weights).
        None (default): on for vector Box observations, off for images and Dict observations.
    :param preserve_observation_function: with ``normalize_observations``, follow the normaliser
        with a learned per-feature affine map that absorbs each change of its statistics after
        a warm-up of 10,000 observations, so that the actions and values for an observation
        move only when a gradient step moves them
        (:class:`~ncp_control.agents.normalize.PreservingNormalizer`; the learning page,
        *A drifting observation normaliser*); under an outer ``VecNormalize`` LiquidPPO also
        restates the statistics in its coordinates after each update, so that its moving
        statistics do not move the policy either. False: the plain running normaliser.
    :param motor_logit_gain: Discrete actions with NCP wiring and no actor head: a fixed gain
        from motor neurons to logits (None: a learned gain per motor, starting at 1).
    :param actor_head: hidden layers (``activation_fn``) between the network's outputs (the
        motor neurons of a wired liquid network) and the action layer. None: ``[64, 64]`` for
        the recurrent networks (as sb3-contrib's recurrent policies), none for ``MlpPolicy``;
        ``[]``: the motor neurons are the action mean or logits, through a per-motor gain and
        offset.
    :param critic_head: hidden layers between the critic network's outputs and the value
        layer. None: ``[64, 64]`` after a recurrent critic, none after an MLP critic.
    :param normalize_values: the value layer predicts returns normalised by running statistics
        of the returns (kept in the policy, updated by LiquidPPO before each update, with the
        value layer rescaled so that the values it reports do not move: PopArt), so that the
        critic learns at any scale of rewards; the values it reports are in the returns' scale.
        Under an outer ``VecNormalize`` LiquidPPO restates these statistics in its reward
        scale after each update, so that its moving scale does not move the critic.
    :param ortho_init: SB3's orthogonal initialisation: heads with gain sqrt(2), the action layer
        0.01, the value layer 1 (False: PyTorch's defaults).
    """

    network: str = "cfc"

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
        critic: str = "separate",
        critic_units: int | None = None,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.Tanh,
        features_extractor: str | type[BaseFeaturesExtractor] | None = None,
        features_extractor_kwargs: dict[str, Any] | None = None,
        share_features_extractor: bool = True,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        log_std_init: float = 0.0,
        use_sde: bool = False,
        full_std: bool = True,
        use_expln: bool = False,
        sde_features: str = "auto",
        time_unit: float | None = None,
        dt_nominal: float | None = None,
        normalize_observations: bool | None = None,
        preserve_observation_function: bool = True,
        motor_logit_gain: float | None = None,
        actor_head: list[int] | None = None,
        critic_head: list[int] | None = None,
        normalize_values: bool = True,
        ortho_init: bool = True,
    ) -> None:
        network = (network or self.network).lower()
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        if critic not in CRITICS:
            raise ValueError(f"critic must be one of {CRITICS}, got {critic!r}")
        unit = time_unit_argument(time_unit, dt_nominal)  # finite and > 0; dt_nominal warns
        n_out = action_outputs(action_space)
        if use_sde and not isinstance(action_space, spaces.Box):
            raise ValueError("use_sde needs a Box action space")
        if sde_features not in SDE_FEATURES:
            raise UserError(f"sde_features must be one of {SDE_FEATURES}, got {sde_features!r}")
        extractor_class = resolve_extractor(observation_space, features_extractor)
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if optimizer_class in (th.optim.Adam, th.optim.AdamW):
            optimizer_kwargs.setdefault("eps", 1e-5)  # SB3's actor-critic default
            optimizer_kwargs.setdefault("foreach", True)  # many small tensors: one multi-tensor update
        super().__init__(
            observation_space,
            action_space,
            features_extractor_class=extractor_class,
            features_extractor_kwargs=dict(features_extractor_kwargs or {}),
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
        )
        self.network_name = network
        self.units = units if units is not None else (32 if network in LIQUID_NETWORKS else 64)
        self.wiring = wiring
        self.motor_neurons = motor_neurons
        self.sparsity_level = sparsity_level
        self.wiring_seed = wiring_seed
        self.cell_kwargs = dict(cell_kwargs or {})
        if network in LIQUID_NETWORKS:
            self.cell_kwargs.setdefault("implementation", "fast")
        self.critic = critic
        self.critic_units = critic_units if critic_units is not None else self.units
        self.net_arch = list(net_arch) if net_arch is not None else [64, 64]
        self.activation_fn = activation_fn
        self.features_extractor_choice = features_extractor
        self.share_features_extractor = share_features_extractor
        self.log_std_init = log_std_init
        self.use_sde = use_sde
        self.full_std = full_std
        self.use_expln = use_expln
        self.sde_features = sde_features
        #: Seconds per unit of timespan: the one owner of this number for the policy and its exports.
        self.time_unit = 1.0 if unit is None else unit
        if normalize_observations is None:
            normalize_observations = isinstance(observation_space, spaces.Box) and extractor_class is FlattenExtractor
        self.normalize_observations = normalize_observations
        self.preserve_observation_function = preserve_observation_function
        if motor_logit_gain is not None and not (isinstance(action_space, spaces.Discrete) and motor_logit_gain > 0):
            raise ValueError(f"motor_logit_gain is a positive number for Discrete actions, got {motor_logit_gain}")
        self.motor_logit_gain = motor_logit_gain
        recurrent_default = list(DEFAULT_HEAD) if network != "mlp" else []
        self.actor_head = list(actor_head) if actor_head is not None else recurrent_default
        if motor_logit_gain is not None and self.actor_head:
            raise ValueError("motor_logit_gain scales motor neurons that are the logits: set actor_head=[] with it")
        if motor_neurons is not None:
            if network not in LIQUID_NETWORKS or wiring not in (None, "ncp", "full"):
                raise UserError(f"motor_neurons sizes an 'ncp' or 'full' wiring of a liquid network, not wiring={wiring!r} "
                                f"of {network!r}: remove it")
            if isinstance(motor_neurons, bool) or not isinstance(motor_neurons, int) or motor_neurons < n_out:
                raise UserError(f"motor_neurons must be a whole number >= {n_out} (the action outputs), got {motor_neurons!r}")
            if motor_neurons != n_out and not self.actor_head:
                raise UserError(f"motor_neurons={motor_neurons} needs an actor head to map them to the {n_out} action "
                                "outputs: leave actor_head at its default, or set motor_neurons to the action outputs")
        self.critic_head = list(critic_head) if critic_head is not None else (
            recurrent_default if critic != "mlp" else [])
        self.normalize_values = normalize_values
        self.value_normalizer = RunningNormalizer((), clip=float("inf")) if normalize_values else None
        self.obs_normalizer: RunningNormalizer | None = None
        if normalize_observations:
            if not isinstance(observation_space, spaces.Box) or extractor_class is not FlattenExtractor:
                raise ValueError("normalize_observations needs a vector Box observation space")
            normalizer_class = PreservingNormalizer if preserve_observation_function else RunningNormalizer
            self.obs_normalizer = normalizer_class(observation_space.shape)

        self.features_extractor = self.make_features_extractor()
        self.features_dim = self.features_extractor.features_dim
        self.vf_features_extractor = self.features_extractor if share_features_extractor else self.make_features_extractor()

        wired = self._build_wiring(n_out)
        self.actor_net = make_sequence_model(
            network, self.features_dim, wired if wired is not None else self.units, self.cell_kwargs, self.net_arch, activation_fn
        )
        self.wired = wired is not None
        network_out = size_of(self.actor_net, "output_size")
        self.pi_head = MLPSequence(network_out, self.actor_head, activation_fn).net
        actor_out = self.actor_head[-1] if self.actor_head else network_out
        if self.wired and not self.actor_head:
            if actor_out != n_out:
                raise ValueError(f"the wiring has {actor_out} motor neurons, the action space needs {n_out}")
            gain, bias = _motor_init(action_space, n_out, motor_logit_gain or 1.0)
            self.action_net: nn.Module = MotorReadout(gain, bias, trainable_gain=motor_logit_gain is None)
        else:
            self.action_net = nn.Linear(actor_out, n_out)

        self.critic_net: nn.Module | None
        if critic == "shared":
            self.critic_net = None
            value_in = network_out
        elif critic == "mlp" or network == "mlp":
            self.critic_net = MLPSequence(self.features_dim, self.net_arch, activation_fn)
            value_in = size_of(self.critic_net, "output_size")
        else:
            self.critic_net = make_sequence_model(
                network, self.features_dim, self.critic_units, self.cell_kwargs, self.net_arch, activation_fn
            )
            value_in = size_of(self.critic_net, "output_size")
        self.vf_head = MLPSequence(value_in, self.critic_head, activation_fn).net
        self.value_net = nn.Linear(self.critic_head[-1] if self.critic_head else value_in, 1)
        self.actor_state_size = size_of(self.actor_net, "state_size")
        self.critic_state_size = size_of(self.critic_net, "state_size") if self.critic_net is not None else 0

        self.action_dist = make_proba_distribution(action_space, use_sde=use_sde, dist_kwargs=self._dist_kwargs())
        #: gSDE's noise from the observation features (True) or the actor head's last layer.
        self.sde_from_observations = False
        if isinstance(self.action_dist, DiagGaussianDistribution):
            self.log_std = nn.Parameter(th.ones(n_out) * log_std_init)
        elif isinstance(self.action_dist, StateDependentNoiseDistribution):
            vector = isinstance(self.features_extractor, FlattenExtractor)
            if sde_features == "observations" and not vector:
                raise UserError("sde_features='observations' needs a vector Box observation space: use 'head'")
            self.sde_from_observations = sde_features == "observations" or (sde_features == "auto" and self.wired and vector)
            _, self.log_std = self.action_dist.proba_distribution_net(
                latent_dim=self.features_dim if self.sde_from_observations else actor_out, log_std_init=log_std_init
            )
        self.ortho_init = ortho_init
        if ortho_init:
            for head in (self.pi_head, self.vf_head):
                for layer in head:
                    if isinstance(layer, nn.Linear):
                        nn.init.orthogonal_(layer.weight, gain=np.sqrt(2))
                        nn.init.zeros_(layer.bias)
            nn.init.orthogonal_(self.value_net.weight, gain=1.0)
            nn.init.zeros_(self.value_net.bias)
            if isinstance(self.action_net, nn.Linear):
                nn.init.orthogonal_(self.action_net.weight, gain=0.01)
                nn.init.zeros_(self.action_net.bias)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]

    # ------------------------------------------------------------------ construction

    def _dist_kwargs(self) -> dict[str, Any] | None:
        if not self.use_sde:
            return None
        return {"full_std": self.full_std, "use_expln": self.use_expln, "squash_output": False, "learn_features": False}

    def _build_wiring(self, n_out: int) -> Any:
        """:return: the Wiring of the actor, or None (unwired)."""
        wiring = self.wiring
        if self.network_name not in LIQUID_NETWORKS:
            if wiring not in (None, "none"):
                raise ValueError(f"wiring is for the liquid networks {LIQUID_NETWORKS}, not {self.network_name!r}")
            return None
        motors = self.motor_neurons if self.motor_neurons is not None else n_out
        return build_wiring(wiring, self.units, motors, self.features_dim, self.sparsity_level, self.wiring_seed)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            network=self.network_name,
            units=self.units,
            wiring=self.wiring,
            motor_neurons=self.motor_neurons,
            sparsity_level=self.sparsity_level,
            wiring_seed=self.wiring_seed,
            cell_kwargs=self.cell_kwargs,
            critic=self.critic,
            critic_units=self.critic_units,
            net_arch=self.net_arch,
            activation_fn=self.activation_fn,
            features_extractor=self.features_extractor_choice,
            features_extractor_kwargs=self.features_extractor_kwargs,
            share_features_extractor=self.share_features_extractor,
            log_std_init=self.log_std_init,
            use_sde=self.use_sde,
            full_std=self.full_std,
            use_expln=self.use_expln,
            sde_features=self.sde_features,
            time_unit=self.time_unit,
            normalize_observations=self.normalize_observations,
            preserve_observation_function=self.preserve_observation_function,
            motor_logit_gain=self.motor_logit_gain,
            actor_head=self.actor_head,
            critic_head=self.critic_head,
            normalize_values=self.normalize_values,
            ortho_init=self.ortho_init,
            optimizer_class=self.optimizer_class,
            optimizer_kwargs=self.optimizer_kwargs,
            lr_schedule=self._dummy_schedule,
        )
        data.pop("features_extractor_class", None)
        return data

    @property
    def state_size(self) -> int:
        """:return: size of the policy state per env (actor state, then critic state)."""
        return self.actor_state_size + self.critic_state_size

    def load_state_dict(self, state_dict: Any, strict: bool = True, assign: bool = False) -> Any:
        """PyTorch's ``load_state_dict``, with one clear error for gSDE weights made with the other
        ``sde_features`` (wired policies saved before it was an option computed the noise from the
        actor head)."""
        stored = state_dict.get("log_std") if self.use_sde else None
        if stored is not None and tuple(stored.shape) != tuple(self.log_std.shape):
            other = "head" if self.sde_from_observations else "observations"
            raise UserError(f"the stored gSDE weights (log_std of shape {tuple(stored.shape)}) compute the noise from "
                            f"sde_features={other!r}, this policy from {self.sde_features!r}: build it with "
                            f"policy_kwargs sde_features={other!r}")
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def set_training_mode(self, mode: bool) -> None:
        """SB3's train or evaluation mode, skipped where the policy and its direct children are in
        it already: :meth:`predict` asks for evaluation mode every step, and walking every module
        took about a quarter of a step's time.

        :param mode: True for training mode.
        """
        if self.training != mode or any(child.training != mode for child in self.children()):
            super().set_training_mode(mode)

    def initial_state(self, n_envs: int) -> th.Tensor:
        """:return: ``[n_envs, state_size]`` zeros (the state of every cell at rest)."""
        return th.zeros(n_envs, self.state_size, device=self.device)

    def reset_noise(self, n_envs: int = 1) -> None:
        """Sample new gSDE exploration weights.

        :param n_envs: number of parallel envs.
        """
        if not isinstance(self.action_dist, StateDependentNoiseDistribution):
            raise ValueError("reset_noise() is only for use_sde=True")
        self.action_dist.sample_weights(self.log_std, batch_size=n_envs)

    # ------------------------------------------------------------------ forward passes

    def _features(self, obs: PyTorchObs, batch: int, length: int, extractor: BaseFeaturesExtractor) -> th.Tensor:
        """:param obs: ``[B*T, ...]`` (or a dict of them). :return: ``[B, T, F]``."""
        if self.obs_normalizer is not None:
            assert isinstance(obs, th.Tensor)
            obs = self.obs_normalizer(obs.float())
        return self.extract_features(obs, extractor).reshape(batch, length, -1)

    def _unroll(
        self,
        obs: PyTorchObs,
        state: th.Tensor,
        episode_starts: th.Tensor,
        timespans: th.Tensor | float | None,
        with_actor: bool = True,
        with_critic: bool = True,
    ) -> Unrolled:
        """Run actor and/or critic over ``[B, T]`` steps.

        :param obs: ``[B*T, ...]`` observations, batch-major (sample b's steps are contiguous).
        :param state: ``[B, S]``.
        :param episode_starts: ``[B, T]`` (1: reset the state before this step).
        :param timespans: ``[B, T]`` in nominal periods, or None.
        :return: actor outputs, values, new state and observation features (:class:`Unrolled`).
        """
        batch, length = episode_starts.shape
        starts = episode_starts.bool()
        resets: th.Tensor | None = starts
        if length == 1 and not th.is_grad_enabled():
            state, resets, timespans = one_step_inputs(state, starts, timespans)
        h_pi, h_vf = state[:, : self.actor_state_size], state[:, self.actor_state_size :]
        features = self._features(obs, batch, length, self.features_extractor)
        y = values = None
        if with_actor or self.critic_net is None:
            y, h_pi = self.actor_net(features, h_pi, timespans, resets)
        if with_critic:
            if self.critic_net is None:
                assert y is not None
                latent_vf = y
            else:
                vf_features = features if self.share_features_extractor else self._features(obs, batch, length, self.vf_features_extractor)
                latent_vf, h_vf = self.critic_net(vf_features, h_vf, timespans, resets)
            values = self.value_net(self.vf_head(latent_vf)).squeeze(-1)
        return Unrolled(y, values, th.cat([h_pi, h_vf], dim=1), features)

    def _distribution(self, latent: th.Tensor, features: th.Tensor) -> Distribution:
        """:param latent: ``[N, M]`` actor outputs. :param features: ``[N, F]`` their observation
        features (gSDE's noise is computed from them with ``sde_features="observations"``).
        :return: the action distribution for N samples."""
        latent = self.pi_head(latent)
        mean = self.action_net(latent)
        if isinstance(self.action_dist, DiagGaussianDistribution):
            return self.action_dist.proba_distribution(mean, self.log_std)
        if isinstance(self.action_dist, CategoricalDistribution):
            return self.action_dist.proba_distribution(action_logits=mean)
        assert isinstance(self.action_dist, StateDependentNoiseDistribution)
        return self.action_dist.proba_distribution(mean, self.log_std, features if self.sde_from_observations else latent)

    def _mode(self, latent: th.Tensor) -> th.Tensor:
        """The deterministic action of :meth:`_distribution`'s distribution, computed the same way
        without building it (evaluation asks for one every step).

        :param latent: ``[N, M]`` actor outputs. :return: ``[N, ...]`` actions."""
        mean = self.action_net(self.pi_head(latent))
        if isinstance(self.action_dist, CategoricalDistribution):  # torch's Categorical: normalised logits, softmax
            return th.argmax(th.softmax(mean - mean.logsumexp(dim=-1, keepdim=True), dim=-1), dim=1)
        return mean  # a Gaussian's mode is its mean (gSDE's too: it is built with squash_output=False)

    def forward(  # type: ignore[override]
        self,
        obs: PyTorchObs,
        state: th.Tensor | None = None,
        episode_starts: th.Tensor | None = None,
        timespans: th.Tensor | None = None,
        deterministic: bool = False,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """One control step for every env (rollout).

        :param obs: ``[B, ...]``.
        :param state: ``[B, S]``.
        :param episode_starts: ``[B]``.
        :param timespans: ``[B]`` in nominal periods, or None.
        :param deterministic: mode of the distribution instead of a sample.
        :return: actions ``[B, ...]``, values ``[B]``, log-probabilities ``[B]``, new state ``[B, S]``.
        """
        if state is None or episode_starts is None:  # input validation (issue 16): SB3's PPO calls forward(obs)
            raise UserError(f"{type(self).__name__} is a recurrent policy of LiquidPPO: train it with "
                            f"agents.LiquidPPO({type(self).__name__}, env), not with SB3's PPO/A2C")
        ts = None if timespans is None else timespans.reshape(-1, 1)
        y, values, new_state, features = self._unroll(obs, state, episode_starts.reshape(-1, 1), ts)
        assert y is not None and values is not None
        distribution = self._distribution(y[:, 0], features[:, 0])
        actions = distribution.get_actions(deterministic=deterministic)
        log_prob = distribution.log_prob(actions)
        return actions.reshape((-1, *(self.action_space.shape or ()))), self.denormalize_values(values[:, 0]), log_prob, new_state

    def evaluate_actions(
        self,
        obs: PyTorchObs,
        actions: th.Tensor,
        state: th.Tensor,
        episode_starts: th.Tensor,
        timespans: th.Tensor | None = None,
    ) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """Values, log-likelihoods and entropy of taken actions, over chunks (training).

        :param obs: ``[B*T, ...]`` batch-major.
        :param actions: ``[B*T, ...]``.
        :param state: ``[B, S]`` at the chunk starts.
        :param episode_starts: ``[B, T]``.
        :param timespans: ``[B, T]`` or None.
        :return: values ``[B*T]`` as the value head gives them (normalised when
            ``normalize_values``: compare them with ``value_normalizer(returns)``),
            log-probabilities ``[B*T]``, entropy ``[B*T]`` (or None).
        """
        y, values, _, features = self._unroll(obs, state, episode_starts, timespans)
        assert y is not None and values is not None
        distribution = self._distribution(y.reshape(-1, y.shape[-1]), features.reshape(-1, features.shape[-1]))
        return values.reshape(-1), distribution.log_prob(actions), distribution.entropy()

    def predict_values(
        self, obs: PyTorchObs, state: th.Tensor, episode_starts: th.Tensor, timespans: th.Tensor | None = None
    ) -> th.Tensor:
        """Critic values for one step.

        :param obs: ``[B, ...]``. :param state: ``[B, S]``. :param episode_starts: ``[B]``.
        :param timespans: ``[B]`` or None.
        :return: ``[B]``.
        """
        ts = None if timespans is None else timespans.reshape(-1, 1)
        values = self._unroll(obs, state, episode_starts.reshape(-1, 1), ts, with_actor=False).values
        assert values is not None
        return self.denormalize_values(values[:, 0])

    @th.no_grad()
    def update_value_normalizer(self, returns: th.Tensor) -> None:
        """Merge returns into the value statistics, keeping the critic's values unchanged.

        The value layer is rescaled with the statistics (PopArt, van Hasselt et al. 2016), so
        the values it reports in the returns' scale are the same before and after: the critic
        does not jump each time the statistics move. The first returns only set the statistics
        (rescaling outputs made under the placeholder statistics would shrink the value layer by
        the returns' scale, and the critic would learn slower the larger the rewards). No-op
        without ``normalize_values``.

        :param returns: ``[N]`` returns of a rollout.
        """
        normalizer = self.value_normalizer
        if normalizer is None:
            return
        if normalizer.empty:  # placeholder statistics: nothing learned yet to preserve
            normalizer.update(returns)
            return
        old_mean, old_std = normalizer.mean.clone(), normalizer.std()
        normalizer.update(returns)
        new_mean, new_std = normalizer.mean, normalizer.std()
        layer = self.value_net
        layer.weight.mul_(old_std / new_std)
        layer.bias.copy_((old_std * layer.bias + old_mean - new_mean) / new_std)

    def denormalize_values(self, values: th.Tensor) -> th.Tensor:
        """The critic's outputs in the scale of the returns.

        :param values: ``[...]`` outputs of the value head (normalised when ``normalize_values``).
        :return: ``[...]`` values.
        """
        return values if self.value_normalizer is None else self.value_normalizer.denormalize(values)

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        """Actions from rest (zero state), for SB3 code paths that carry no state.

        :param observation: ``[B, ...]``. :return: ``[B, ...]`` actions.
        """
        n = self._batch_size(observation)
        actions, _ = self._act(observation, self.initial_state(n), th.ones(n), None, deterministic)
        return actions

    def _act(
        self, obs: PyTorchObs, state: th.Tensor, episode_starts: th.Tensor, timespans: th.Tensor | None, deterministic: bool
    ) -> tuple[th.Tensor, th.Tensor]:
        ts = None if timespans is None else timespans.reshape(-1, 1)
        y, _, new_state, features = self._unroll(obs, state, episode_starts.reshape(-1, 1), ts, with_critic=False)
        assert y is not None
        if deterministic:
            actions = self._mode(y[:, 0])
        else:
            actions = self._distribution(y[:, 0], features[:, 0]).get_actions()
        return actions.reshape((-1, *(self.action_space.shape or ()))), new_state

    @staticmethod
    def _batch_size(obs: PyTorchObs) -> int:
        first = next(iter(obs.values())) if isinstance(obs, dict) else obs
        return int(first.shape[0])

    def predict(  # type: ignore[override]
        self,
        observation: np.ndarray | dict[str, np.ndarray],
        state: np.ndarray | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        dt: np.ndarray | float | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actions and next state, as sb3-contrib's recurrent ``predict``.

        :param observation: one observation or a batch ``[n_envs, ...]``.
        :param state: ``[n_envs, state_size]`` from the previous call, or None (at rest).
        :param episode_start: ``[n_envs]``: 1 where the observation starts an episode.
        :param deterministic: mode of the distribution instead of a sample.
        :param dt: elapsed time since the previous observation in seconds (``info["dt"]``),
            scalar or ``[n_envs]``; divided by ``time_unit``. None: one time unit. On the first
            step of an episode pass one nominal control period (every runner of the package
            does, :func:`~ncp_control.agents.timing.first_step_seconds`).
        :return: actions ``[n_envs, ...]`` (unbatched for an unbatched observation) and the state.
        """
        self.set_training_mode(False)
        obs_tensor, vectorized = self.obs_to_tensor(observation)
        n = self._batch_size(obs_tensor)
        h = self.initial_state(n) if state is None else th.as_tensor(np.asarray(state), dtype=th.float32, device=self.device)
        if h.shape != (n, self.state_size):
            raise ValueError(f"state must have shape {(n, self.state_size)}, got {tuple(h.shape)}")
        starts = th.as_tensor(check_episode_starts(episode_start, n))  # input validation (issue 16): 0/1 only
        timespans = None
        if dt is not None:  # input validation (issue 16): seconds finite and >= 0
            timespans = th.as_tensor(to_timespans(elapsed_seconds(dt, n, self.time_unit), self.time_unit))
        with th.no_grad():
            actions, new_state = self._act(obs_tensor, h, starts.to(self.device), timespans, deterministic)
        actions_np = actions.cpu().numpy()
        if isinstance(self.action_space, spaces.Box):
            actions_np = np.clip(actions_np, self.action_space.low, self.action_space.high)
        if not vectorized:
            actions_np = actions_np.squeeze(axis=0)
        return actions_np, new_state.cpu().numpy()


class CfCPolicy(RecurrentSequencePolicy):
    """Closed-form continuous-time network (NCP wiring by default)."""

    network = "cfc"


class LTCPolicy(RecurrentSequencePolicy):
    """Liquid time-constant network (NCP wiring by default)."""

    network = "ltc"


class CTRNNPolicy(RecurrentSequencePolicy):
    """Continuous-time RNN (NCP wiring by default)."""

    network = "ctrnn"


class LSTMPolicy(RecurrentSequencePolicy):
    """LSTM baseline (64 hidden units by default)."""

    network = "lstm"


class GRUPolicy(RecurrentSequencePolicy):
    """GRU baseline (64 hidden units by default)."""

    network = "gru"


class MlpPolicy(RecurrentSequencePolicy):
    """Feed-forward baseline (no memory; ``net_arch`` hidden layers)."""

    network = "mlp"


#: Policy aliases of :class:`ncp_control.agents.LiquidPPO`.
POLICY_ALIASES: dict[str, type[BasePolicy]] = {
    "CfCPolicy": CfCPolicy,
    "LTCPolicy": LTCPolicy,
    "CTRNNPolicy": CTRNNPolicy,
    "LSTMPolicy": LSTMPolicy,
    "GRUPolicy": GRUPolicy,
    "MlpPolicy": MlpPolicy,
}
