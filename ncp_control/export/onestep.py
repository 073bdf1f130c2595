"""The stateful one-step policy ``(obs, state, dt) -> (action, new_state)`` for deployment.

A deployed controller calls the network once per control step with the newest observation,
the state it got back last time and the elapsed time. :class:`OneStepPolicy` packs
everything that happens in between into one module: observation normalisation,
preprocessing, one step of the recurrent network, the action head and action clipping,
so that TorchScript and ONNX files hold the whole controller.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.errors import UserError
from ncp_control.sequence import LiquidRNN
from ncp_control.timespans import check_time_unit, to_timespans


def step_network(
    network: nn.Module, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of any recurrent network of the project.

    Liquid models (:class:`~ncp_control.sequence.LiquidRNN`) and cells step through their cell;
    any other module with the sequence interface ``model(x [B,T,F], hx, timespans, resets)``
    (LSTM/GRU/MLP wrappers) runs a sequence of length one.

    :param network: a sequence model or a :class:`~ncp_control.cells.base.LiquidCell`.
    :param x: inputs ``[B, F]``.
    :param h: state ``[B, S]``.
    :param ts: elapsed time ``[B]`` (in the network's time unit).
    :return: ``(y [B, M], h_new [B, S])``.
    """
    if isinstance(network, LiquidRNN):
        return network.cell(x, h, ts)
    if isinstance(network, LiquidCell):
        return network(x, h, ts)
    y, h_new = network(x.unsqueeze(1), h, ts.unsqueeze(1), None)
    return y[:, 0], h_new


class ObservationNormalizer(nn.Module):
    """Running-statistics normalisation as SB3's ``VecNormalize`` applies it:
    ``clip((obs - mean) / sqrt(var + epsilon), -clip, clip)``, computed in float64 like numpy.

    :param mean: ``[*obs_shape]`` running mean.
    :param var: ``[*obs_shape]`` running variance.
    :param clip: clipping bound (``clip_obs``).
    :param epsilon: added to the variance.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: Any, var: Any, clip: float = 10.0, epsilon: float = 1e-8) -> None:
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float64)
        var_t = torch.as_tensor(var, dtype=torch.float64)
        if mean_t.shape != var_t.shape:
            raise UserError(f"mean and var must have the same shape, got {tuple(mean_t.shape)} and {tuple(var_t.shape)}")
        if not clip > 0:
            raise UserError(f"clip must be > 0, got {clip}")
        self.register_buffer("mean", mean_t.clone())
        self.register_buffer("std", torch.sqrt(var_t + float(epsilon)))
        self.clip = float(clip)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """:param obs: ``[B, *obs_shape]``. :return: normalised ``[B, *obs_shape]`` (float64)."""
        z = (obs.to(torch.float64) - self.mean) / self.std
        return torch.clamp(z, -self.clip, self.clip)


class _Bounds(nn.Module):
    """Holds ``[A]`` bounds ``low`` and ``high`` as float32 buffers."""

    low: torch.Tensor
    high: torch.Tensor

    def __init__(self, low: Any, high: Any) -> None:
        super().__init__()
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32).clone())
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32).clone())


class BoxActionClip(_Bounds):
    """Clip actions elementwise to ``[low, high]`` (what SB3's ``predict`` does for Box spaces).

    :param low: ``[A]`` lower bounds (may be ``-inf``).
    :param high: ``[A]`` upper bounds (may be ``inf``).
    """

    def forward(self, action: torch.Tensor) -> torch.Tensor:
        """:param action: ``[B, A]``. :return: ``[B, A]`` clipped."""
        return torch.maximum(torch.minimum(action, self.high), self.low)


class ScaleFromUnit(_Bounds):
    """Map actions from ``[-1, 1]`` to ``[low, high]`` (what SB3's ``unscale_action`` does for a
    squashed policy such as SAC's).

    :param low: ``[A]`` finite lower bounds.
    :param high: ``[A]`` finite upper bounds.
    """

    def forward(self, action: torch.Tensor) -> torch.Tensor:
        """:param action: ``[B, A]`` in [-1, 1]. :return: ``[B, A]`` in ``[low, high]``."""
        return self.low + 0.5 * (action + 1.0) * (self.high - self.low)


class Argmax(nn.Module):
    """The most likely choice of Discrete action logits: ``[B, n] -> [B]`` (int64)."""

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        """:param logits: ``[B, n]``. :return: ``[B]`` indices."""
        return torch.argmax(logits, dim=1)


class OneStepPolicy(nn.Module):
    """A stateful controller ``forward(obs, state, dt) -> (action, new_state)``.

    Order of operations: ``normalizer`` (optional) -> ``preprocess`` (optional) -> one step of
    ``network`` with timespan ``dt / time_unit`` (or 1.0 without ``time_unit``) -> ``head``
    (optional) -> ``postprocess`` (optional). Reset the state at an episode start by passing
    :meth:`initial_state` (zeros).

    Example::

        policy = OneStepPolicy(CfC(4, AutoNCP(16, 1)))
        h = policy.initial_state(1)
        action, h = policy(torch.randn(1, 4), h, torch.ones(1))

    :param network: a liquid sequence model, a liquid cell, or a module with the sequence
        interface (LSTM/GRU/MLP wrappers of the agents package).
    :param state_size: size S of the state (default: ``network.state_size``).
    :param obs_shape: shape of one observation (default: ``(network.input_size,)``).
    :param obs_dtype: dtype of the observation input (for example inputs of exports).
    :param normalizer: observation normalisation, e.g. :class:`ObservationNormalizer`.
    :param preprocess: observations to network inputs ``[B, F]`` (e.g. a features extractor).
    :param head: network outputs to actions (e.g. an action layer).
    :param postprocess: final action transformation (e.g. :class:`BoxActionClip`, :class:`Argmax`).
    :param time_unit: timespan = ``dt / time_unit`` (e.g. the nominal control period for ``dt``
        in seconds); ``None``: ``dt`` is ignored and each step lasts 1.0.
    """

    def __init__(
        self,
        network: nn.Module,
        state_size: int | None = None,
        obs_shape: tuple[int, ...] | None = None,
        obs_dtype: torch.dtype = torch.float32,
        normalizer: nn.Module | None = None,
        preprocess: nn.Module | None = None,
        head: nn.Module | None = None,
        postprocess: nn.Module | None = None,
        time_unit: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.network = network
        described: Any = network
        self.state_size = int(state_size if state_size is not None else described.state_size)
        self.obs_shape = tuple(obs_shape) if obs_shape is not None else (int(described.input_size),)
        self.obs_dtype = obs_dtype
        self.normalizer = normalizer
        self.preprocess = preprocess
        self.head = head
        self.postprocess = postprocess
        self.time_unit = None if time_unit is None else check_time_unit(time_unit)

    def forward(
        self, obs: torch.Tensor, state: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One control step.

        :param obs: observations ``[B, *obs_shape]``.
        :param state: state ``[B, S]`` (zeros at an episode start).
        :param dt: elapsed time ``[B]`` since the previous step.
        :return: ``(action [B, A] (Box) or [B] (Discrete), new_state [B, S])``.
        """
        x = self.features(obs)
        if self.time_unit is None:
            ts = torch.ones_like(dt, dtype=torch.float32)
        else:
            ts = to_timespans(dt.to(torch.float32), self.time_unit)
        y, new_state = step_network(self.network, x, state, ts)
        action = y if self.head is None else self.head(y)
        if self.postprocess is not None:
            action = self.postprocess(action)
        return action, new_state

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        """:param obs: observations ``[B, *obs_shape]``.
        :return: the network inputs ``[B, F]`` (normalised and preprocessed, float32)."""
        x = obs
        if self.normalizer is not None:
            x = self.normalizer(x)
        if self.preprocess is not None:
            x = self.preprocess(x)
        return x.to(torch.float32)

    def initial_state(self, batch_size: int = 1) -> torch.Tensor:
        """:param batch_size: B. :return: the state at rest, zeros ``[B, S]``."""
        return torch.zeros(batch_size, self.state_size)

    def example_inputs(self, batch_size: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Inputs of the right shapes and dtypes (for tracing and export).

        :param batch_size: B.
        :return: ``(obs [B, *obs_shape], state [B, S], dt [B])``.
        """
        obs = torch.zeros(batch_size, *self.obs_shape, dtype=self.obs_dtype)
        return obs, self.initial_state(batch_size), torch.ones(batch_size)
