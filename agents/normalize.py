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
