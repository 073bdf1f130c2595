"""Running observation normalisation inside the policy (statistics saved with its weights)."""

from __future__ import annotations

import torch as th
from torch import nn


class RunningNormalizer(nn.Module):
    """``clip((x - mean) / sqrt(var + eps))`` with running statistics kept as buffers.

    The statistics change only through :meth:`update` (LiquidPPO calls it after each
    update with the rollout's observations), so a rollout and its replay in training see the
    same normalisation.

    :param shape: observation shape.
    :param clip: bound of the normalised values.
    :param eps: variance floor.
    """

    mean: th.Tensor
    var: th.Tensor
    count: th.Tensor

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, eps: float = 1e-8) -> None:
        super().__init__()
        self.register_buffer("mean", th.zeros(shape))
        self.register_buffer("var", th.ones(shape))
        self.register_buffer("count", th.tensor(1e-4))
        self.clip = clip
        self.eps = eps

    def forward(self, x: th.Tensor) -> th.Tensor:
        """:param x: ``[N, *shape]``. :return: the normalised ``[N, *shape]``."""
        return th.clamp((x - self.mean) / self.std(), -self.clip, self.clip)

    def denormalize(self, y: th.Tensor) -> th.Tensor:
        """The inverse of :meth:`forward` (inside the clip bounds).

        :param y: ``[N, *shape]`` normalised values. :return: ``[N, *shape]`` in the data's scale.
        """
        return y * self.std() + self.mean

    @property
    def empty(self) -> bool:
        """True until :meth:`update` has merged a batch (the statistics are placeholders)."""
        return bool(self.count < 1.0)

    def std(self) -> th.Tensor:
        """:return: ``sqrt(var + eps)``, the scale that :meth:`forward` divides by."""
        return th.sqrt(self.var + self.eps)

    @th.no_grad()
    def update(self, batch: th.Tensor) -> None:
        """Merge a batch into the statistics (parallel mean/variance formula).

        :param batch: ``[N, *shape]``.
        """
        batch = batch.float()
        mean, var, n = batch.mean(0), batch.var(0, unbiased=False), batch.shape[0]
        delta = mean - self.mean
        total = self.count + n
        self.mean += delta * n / total
        m2 = self.var * self.count + var * n + delta.square() * self.count * n / total
        self.var.copy_(m2 / total)
        self.count.fill_(float(total))


class PreservingNormalizer(RunningNormalizer):
    """A :class:`RunningNormalizer` followed by a learned per-feature affine map that keeps the
    policy's function when the statistics move: ``weight * clip((x - mean) / std) + bias``.

    A normaliser whose statistics keep moving changes what the network downstream sees for the
    same observation, with no gradient step asking for it: once a task is solved the advantages
    are small, the policy cannot follow, and a drifting mean alone can undo a solved policy.
    Here each :meth:`update` rescales ``weight`` and shifts ``bias`` so that the output for every
    observation inside the clip bounds is unchanged (the inputs' counterpart of PopArt); the
    normalisation still sets the scale at which ``weight`` and ``bias`` learn.

    The first ``warmup`` observations only set the statistics: a random policy's early
    rollouts say little about the data to come, and keeping the function they define would fix
    the scale the network sees to theirs (measured on CartPoleNoVel: absorbing every change from
    the first update on learned slower than the running normaliser; from 10,000 observations on
    it held what it learned). A state dict without ``weight``/``bias`` (a policy saved before
    they existed) loads with the identity map, the function it was saved with.

    :param shape: observation shape.
    :param clip: bound of the normalised values (before the affine map).
    :param eps: variance floor.
    :param warmup: observations merged freely before the affine map absorbs the changes.
    """

    def __init__(self, shape: tuple[int, ...], clip: float = 10.0, eps: float = 1e-8, warmup: int = 10_000) -> None:
        super().__init__(shape, clip, eps)
        if warmup < 0:
            raise ValueError(f"warmup is a number of observations >= 0, got {warmup}")
        self.warmup = warmup
        self.weight = nn.Parameter(th.ones(shape))
        self.bias = nn.Parameter(th.zeros(shape))

    def forward(self, x: th.Tensor) -> th.Tensor:
        """:param x: ``[N, *shape]``. :return: the normalised and mapped ``[N, *shape]``."""
        return super().forward(x) * self.weight + self.bias

    def denormalize(self, y: th.Tensor) -> th.Tensor:
        """The inverse of :meth:`forward` (inside the clip bounds).

        :param y: ``[N, *shape]`` outputs. :return: ``[N, *shape]`` in the data's scale.
        """
        return super().denormalize((y - self.bias) / self.weight)

    @th.no_grad()
    def update(self, batch: th.Tensor) -> None:
        """Merge a batch into the statistics; ``weight`` and ``bias`` absorb the change.

        :param batch: ``[N, *shape]``.
        """
        if self.empty or float(self.count) < self.warmup:
            super().update(batch)
            return
        old_mean, old_std = self.mean.clone(), self.std()
        super().update(batch)
        # w' (x - m') / s' + b' = w (x - m) / s + b for all x
        self.bias.add_(self.weight * (self.mean - old_mean) / old_std)
        self.weight.mul_(self.std() / old_std)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object, **kwargs: object) -> None:
        for name, default in (("weight", th.ones_like(self.weight)), ("bias", th.zeros_like(self.bias))):
            state_dict.setdefault(prefix + name, default)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)  # type: ignore[arg-type]
