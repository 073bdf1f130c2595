"""Batch-1 latency of one-step policies: eager PyTorch, TorchScript, onnxruntime."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def time_calls(call: Callable[[], Any], repeats: int = 2000, warmup: int = 200, rounds: int = 5) -> float:
    """Median over ``rounds`` of the mean time of one call, in seconds.

    :param call: a function of no arguments (one control step).
    :param repeats: calls per round.
    :param warmup: calls before timing.
    :param rounds: timed rounds.
    :return: seconds per call.
    """
    for _ in range(warmup):
        call()
    means = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        means.append((time.perf_counter() - start) / repeats)
    return statistics.median(means)


def step_latencies(
    module: Any,
    torchscript_path: str | None = None,
    onnx_path: str | None = None,
    repeats: int = 2000,
    rounds: int = 5,
) -> dict[str, float]:
    """Seconds per batch-1 call of a one-step policy in each runtime.

    :param module: the :class:`~ncp_control.export.OneStepPolicy` (eager PyTorch, no grad).
    :param torchscript_path: its TorchScript file, if any.
    :param onnx_path: its ONNX file, if any (timed in onnxruntime, one thread).
    :param repeats: calls per timed round.
    :param rounds: timed rounds (the median is reported).
    :return: ``{"eager": s, "torchscript": s, "onnxruntime": s}`` for the runtimes given.
    """
    import torch

    from ncp_control.export.formats import OnnxPolicy, load_torchscript

    inputs = module.example_inputs(1)
    results: dict[str, float] = {}
    module = module.eval()
    with torch.no_grad():
        results["eager"] = time_calls(lambda: module(*inputs), repeats, rounds=rounds)
        if torchscript_path is not None:
            scripted = load_torchscript(torchscript_path)
            results["torchscript"] = time_calls(lambda: scripted(*inputs), repeats, rounds=rounds)
    if onnx_path is not None:
        session = OnnxPolicy(onnx_path)
        arrays = [t.numpy() for t in inputs]
        results["onnxruntime"] = time_calls(lambda: session(*arrays), repeats, rounds=rounds)
    return results
