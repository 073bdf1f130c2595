"""Principal components of a trajectory or of neuron activity (torch only)."""

from __future__ import annotations

import torch

from ncp_control.errors import UserError


def pca(x: torch.Tensor, components: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Project rows onto their first principal components.

    :param x: data ``[T, D]`` (time steps as rows).
    :param components: number of components k.
    :return: ``(projection [T, k], explained variance ratio [min(T, D)])``, computed in float64;
        the ratio is all zeros for constant data. Missing components (``k > min(T, D)``) are zero.
    """
    if x.dim() != 2 or x.shape[0] < 2:
        raise UserError(f"x must have shape [T, D] with T >= 2, got {tuple(x.shape)}")
    data = x.detach().to(torch.float64)
    centred = data - data.mean(0, keepdim=True)
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)
    variance = singular**2
    total = variance.sum()
    ratio = variance / total if total > 0 else torch.zeros_like(variance)
    k = min(components, vh.shape[0])
    projection = torch.zeros(data.shape[0], components, dtype=torch.float64)
    projection[:, :k] = centred @ vh[:k].T
    return projection, ratio


def arc_length(points: torch.Tensor) -> float:
    """:param points: a curve ``[T, d]``. :return: the summed length of its ``T - 1`` segments."""
    if points.dim() != 2 or points.shape[0] < 2:
        raise UserError(f"points must have shape [T, d] with T >= 2, got {tuple(points.shape)}")
    return float((points[1:] - points[:-1]).norm(dim=1).sum())
