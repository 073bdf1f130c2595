"""The torch device of the recurrent policies: the CPU unless a user asks for another.

On a CUDA device every liquid cell takes the per-step reference loop instead of the CPU fast
path (7-33x slower, dense LTC synapses), so ``device="auto"`` means the CPU here, as SB3 advises
for MLP policies; asking for CUDA explicitly works, with a warning that says so.
"""

from __future__ import annotations

import warnings

import torch as th


def recurrent_device(device: th.device | str) -> th.device | str:
    """:param device: the device a user gave (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``...).
    :return: ``"cpu"`` for ``"auto"``; any other device unchanged (a warning for CUDA)."""
    if isinstance(device, str) and device == "auto":
        return "cpu"
    if th.device(device).type == "cuda":
        warnings.warn(
            "LiquidPPO on CUDA: the liquid cells have no fused CUDA path and run their per-step reference loop "
            "there, several times slower than on the CPU; use device='cpu' (the default) unless you measured "
            "otherwise", UserWarning, stacklevel=3)
    return device
