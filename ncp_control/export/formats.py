"""TorchScript and ONNX files of a one-step policy, and runners for them.

Both files take ``(obs [B, *obs_shape], state [B, S], dt [B])`` and return
``(action, new_state)``; the batch dimension is dynamic. ONNX files use opset 17 or later
and the names ``obs``, ``state``, ``dt`` -> ``action``, ``new_state``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ncp_control.errors import UserError

#: input and output names of exported files
INPUT_NAMES = ("obs", "state", "dt")
OUTPUT_NAMES = ("action", "new_state")
MIN_OPSET = 17


def _example(module: nn.Module, batch_size: int) -> tuple[torch.Tensor, ...]:
    make = getattr(module, "example_inputs", None)
    if make is None:
        raise UserError("module must provide example_inputs(batch_size) (use ncp_control.export.OneStepPolicy)")
    return tuple(make(batch_size))


def _check_inputs(module: nn.Module, batch_size: int = 3) -> tuple[torch.Tensor, ...]:
    """Random inputs of the module's shapes (different from the tracing example)."""
    obs, state, dt = _example(module, batch_size)
    g = torch.Generator().manual_seed(1234)
    if obs.dtype.is_floating_point:
        obs = torch.randn(obs.shape, generator=g).to(obs.dtype)
    elif obs.dtype == torch.uint8:
        obs = torch.randint(0, 256, obs.shape, generator=g, dtype=torch.uint8)
    state = 0.1 * torch.randn(state.shape, generator=g)
    unit = getattr(module, "time_unit", None) or 1.0
    dt = unit * (0.5 + torch.rand(dt.shape, generator=g))
    return obs, state, dt


def _verify(module: nn.Module, run: Any, what: str, tolerance: float = 1e-4) -> None:
    """Compare an exported runtime with eager PyTorch on fresh inputs.

    :raises RuntimeError: if they disagree (e.g. a code path that tracing cannot record).
    """
    inputs = _check_inputs(module)
    with torch.no_grad():
        expected = module(*inputs)
    got = run(*inputs)
    for name, a, b in zip(OUTPUT_NAMES, expected, got):
        b = torch.as_tensor(b)
        if a.shape != b.shape or not torch.allclose(a.to(torch.float64), b.to(torch.float64), atol=tolerance):
            raise RuntimeError(f"the {what} file's {name} differs from PyTorch's; the module cannot be exported")


def _temporary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".tmp-{os.getpid()}-{path.name}")


def to_torchscript(module: nn.Module, path: str | os.PathLike[str]) -> Path:
    """Trace the one-step policy and save it as a TorchScript file (written atomically).

    The network is traced once: the number of solver unfolds and every option are fixed in
    the file; the batch size stays free. The traced module is checked against the eager one
    on fresh inputs before it is written.

    :param module: a :class:`~ncp_control.export.OneStepPolicy` (or any module with
        ``example_inputs``).
    :param path: destination (``.pt``).
    :return: the path written.
    :raises RuntimeError: if the traced module disagrees with PyTorch.
    """
    target = Path(path)
    module = module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, _example(module, 2), check_trace=False)
    with torch.no_grad():
        _verify(module, traced, "TorchScript")
    tmp = _temporary(target)
    torch.jit.save(traced, str(tmp))
    os.replace(tmp, target)
    return target


def load_torchscript(path: str | os.PathLike[str]) -> torch.jit.ScriptModule:
    """:param path: a file written by :func:`to_torchscript`. :return: the loaded module (eval mode)."""
    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"no TorchScript file at {target}")
    return torch.jit.load(str(target), map_location="cpu").eval()


def to_onnx(module: nn.Module, path: str | os.PathLike[str], opset: int = MIN_OPSET) -> Path:
    """Export the one-step policy to ONNX (dynamic batch), written atomically after checking it
    in onnxruntime (when installed) against the eager module on fresh inputs.

    :param module: a :class:`~ncp_control.export.OneStepPolicy` (or any module with
        ``example_inputs``).
    :param path: destination (``.onnx``).
    :param opset: ONNX opset, >= 17.
    :return: the path written.
    :raises RuntimeError: if the exported file disagrees with PyTorch.
    """
    if int(opset) < MIN_OPSET:
        raise UserError(f"opset must be >= {MIN_OPSET}, got {opset}")
    target = Path(path)
    module = module.eval()
    tmp = _temporary(target)
    axes = {name: {0: "batch"} for name in INPUT_NAMES + OUTPUT_NAMES}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            _example(module, 2),
            str(tmp),
            dynamo=False,
            opset_version=int(opset),
            input_names=list(INPUT_NAMES),
            output_names=list(OUTPUT_NAMES),
            dynamic_axes=axes,
        )
    try:
        session = OnnxPolicy(tmp)
    except ImportError:  # onnxruntime not installed: the file is written unchecked
        os.replace(tmp, target)
        return target
    try:
        _verify(module, lambda *xs: session(*(x.numpy() for x in xs)), "ONNX")
    except RuntimeError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return target


class OnnxPolicy:
    """Runs an exported ONNX one-step policy in onnxruntime (the ``export`` extra).

    ``policy(obs, state, dt) -> (action, new_state)`` with numpy arrays, like the module.

    :param path: a file written by :func:`to_onnx`.
    :param threads: intra-op threads of the session.
    """

    def __init__(self, path: str | os.PathLike[str], threads: int = 1) -> None:
        import onnxruntime as ort

        target = Path(path)
        if not target.is_file():
            raise FileNotFoundError(f"no ONNX file at {target}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        self.input_types = {i.name: i.type for i in self.session.get_inputs()}

    def __call__(self, obs: Any, state: Any, dt: Any) -> tuple[Any, Any]:
        """:param obs: ``[B, *obs_shape]``. :param state: ``[B, S]``. :param dt: ``[B]``.
        :return: ``(action, new_state)`` numpy arrays."""
        import numpy as np

        dtypes = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(uint8)": np.uint8,
                  "tensor(int64)": np.int64}
        feed = {}
        for name, value in zip(INPUT_NAMES, (obs, state, dt)):
            if name not in self.input_types:  # an input the graph does not use (stateless network)
                continue
            dtype = dtypes.get(self.input_types[name], np.float32)
            feed[name] = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        action, new_state = self.session.run(list(OUTPUT_NAMES), feed)
        return action, new_state
