"""Deployment: the stateful one-step policy, TorchScript and ONNX files, weights-only saving.

Everything here needs torch only; ONNX files need the ``export`` extra (onnx, onnxruntime),
weights-only files need safetensors.

Example::

    from ncp_control import CfC, AutoNCP
    from ncp_control.export import OneStepPolicy, to_onnx, to_torchscript, save_model, load_model

    model = CfC(4, AutoNCP(16, 1, input_size=4))
    policy = OneStepPolicy(model)                  # (obs [B,4], state [B,16], dt [B]) -> (y [B,1], state)
    to_torchscript(policy, "policy.pt")
    to_onnx(policy, "policy.onnx")                  # opset 17
    save_model(model, "weights/")                   # model.safetensors + config.json
    same = load_model("weights/")                   # no unpickling
"""

from ncp_control.export.formats import OnnxPolicy, load_torchscript, to_onnx, to_torchscript
from ncp_control.export.latency import step_latencies, time_calls
from ncp_control.export.onestep import (
    Argmax,
    BoxActionClip,
    ObservationNormalizer,
    OneStepPolicy,
    ScaleFromUnit,
    step_network,
)
from ncp_control.export.weights import (
    load_model,
    read_json,
    read_tensors,
    save_model,
    write_json,
    write_tensors,
)

__all__ = [
    "Argmax",
    "BoxActionClip",
    "ObservationNormalizer",
    "OneStepPolicy",
    "OnnxPolicy",
    "ScaleFromUnit",
    "load_model",
    "load_torchscript",
    "read_json",
    "read_tensors",
    "save_model",
    "step_latencies",
    "step_network",
    "time_calls",
    "to_onnx",
    "to_torchscript",
    "write_json",
    "write_tensors",
]
