"""Zero-copy views of float32 CPU tensors as numpy arrays for the kernels."""

from __future__ import annotations

import numpy as np
import torch


def as_numpy(t: torch.Tensor) -> np.ndarray:
    """A C-contiguous float32 numpy view (copy only when the tensor is not contiguous).

    :param t: CPU tensor, float32
    :return: ndarray sharing memory with ``t`` where possible
    """
    return t.detach().contiguous().numpy()
