"""Batch-1 latency of the exported one-step policy: TorchScript and onnxruntime against eager
PyTorch and SB3's ``predict``, in the same run.

For each liquid network (CfC, LTC, CT-RNN, AutoNCP wiring with 32 neurons) a LiquidPPO policy
for HalfCheetah-v5 (17 observations, 6 actions) is built; latency does not depend on the
weights, so it is not trained. Per control step it is called through

- ``sb3 predict``: ``model.predict(obs, state, episode_start, deterministic=True)`` (the anchor),
- ``eager``: the one-step module in PyTorch (``torch.no_grad``),
- ``torchscript``: the traced file, loaded back,
- ``onnxruntime``: the ONNX file in onnxruntime (one thread).

The runtimes are timed in alternating short turns so that a shared machine loads them alike;
each figure is the median over the turns, on one thread.

Run: ``ncp-control bench export [--networks cfc ltc ctrnn] [--turns 7] [--repeats 500]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ncp_control.errors import UserError

ENV_ID = "HalfCheetah-v5"
POLICIES = {"cfc": "CfCPolicy", "ltc": "LTCPolicy", "ctrnn": "CTRNNPolicy"}


def _turn(call: Callable[[], Any], repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        call()
    return (time.perf_counter() - start) / repeats


def measure(calls: dict[str, Callable[[], Any]], turns: int, repeats: int) -> dict[str, float]:
    """Seconds per call of each function, median over alternating turns.

    :param calls: name -> function of no arguments.
    :param turns: alternating turns.
    :param repeats: calls per turn.
    :return: name -> seconds.
    """
    for call in calls.values():
        _turn(call, max(repeats // 5, 10))
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(turns):
        for name, call in calls.items():
            times[name].append(_turn(call, repeats))
    return {name: statistics.median(values) for name, values in times.items()}


def runtimes(network: str, folder: Path) -> dict[str, Callable[[], Any]]:
    """Build the policy, export it and return one control step in each runtime.

    :param network: ``cfc``, ``ltc`` or ``ctrnn``.
    :param folder: where the files go.
    :return: runtime name -> call.
    """
    from ncp_control.agents import LiquidPPO
    from ncp_control.agents.export import model_onestep

    from ncp_control.export import OnnxPolicy, load_torchscript, to_onnx, to_torchscript

    model = LiquidPPO(POLICIES[network], ENV_ID, n_steps=16, batch_size=16, seq_len=8, seed=0,
                      policy_kwargs={"units": 32})
    module = model_onestep(model)
    obs_np = np.zeros((1, 17), np.float32)
    state_np = np.zeros((1, model.policy.state_size), np.float32)
    start = np.zeros(1)
    obs, h, dt = module.example_inputs(1)
    scripted = load_torchscript(to_torchscript(module, folder / f"{network}.pt"))
    session = OnnxPolicy(to_onnx(module, folder / f"{network}.onnx"))
    arrays = (obs.numpy(), h.numpy(), dt.numpy())

    def eager() -> Any:
        with torch.no_grad():
            return module(obs, h, dt)

    def script() -> Any:
        with torch.no_grad():
            return scripted(obs, h, dt)

    return {
        "sb3 predict": lambda: model.predict(obs_np, state_np, start, deterministic=True),
        "eager": eager,
        "torchscript": script,
        "onnxruntime": lambda: session(*arrays),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table.

    :param argv: command-line arguments.
    :return: exit status 0.
    """
    parser = argparse.ArgumentParser(prog="ncp-control bench export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", choices=sorted(POLICIES), default=["cfc", "ltc", "ctrnn"])
    parser.add_argument("--turns", type=int, default=7, help="alternating turns (default 7)")
    parser.add_argument("--repeats", type=int, default=500, help="calls per turn (default 500)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.turns < 1 or args.repeats < 1:
        raise UserError("--turns and --repeats must be >= 1")
    torch.set_num_threads(1)
    print(f"batch-1 latency per control step, {ENV_ID} (17 obs, 6 actions), AutoNCP 32 neurons, 1 thread; "
          f"median of {args.turns} alternating turns x {args.repeats} calls")
    print(f"{'network':<8}{'runtime':<14}{'us/step':>10}{'vs eager':>10}{'vs sb3 predict':>16}")
    with tempfile.TemporaryDirectory() as tmp:
        for network in args.networks:
            times = measure(runtimes(network, Path(tmp)), args.turns, args.repeats)
            for name, seconds in times.items():
                print(f"{network:<8}{name:<14}{1e6 * seconds:>10.1f}{times['eager'] / seconds:>9.2f}x"
                      f"{times['sb3 predict'] / seconds:>15.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
