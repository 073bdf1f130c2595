"""``ncp-control export``: a policy or model to TorchScript, ONNX or weights-only safetensors,
with the batch-1 latency of the exported one-step policy."""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path
from typing import Any

import torch
from ncp_control.cli.commands import add_trust_pickle

from ncp_control.errors import UserError

FORMATS = {"torchscript": "policy.pt", "onnx": "policy.onnx", "safetensors": "weights"}


def _load_vec_normalize(path: str | None, trust_pickle: bool) -> Any:
    if path is None:
        return None
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no VecNormalize file at {file}")
    if not trust_pickle:
        from ncp_control.agents.runs import pickle_refused

        raise pickle_refused(file, "a VecNormalize file (a pickle)")
    with file.open("rb") as handle:  # SB3's VecNormalize.save format (a pickle: your own file only)
        return pickle.load(handle)  # noqa: S301


def _open(target: Path, vec_normalize: Any, trust_pickle: bool) -> tuple[Any, Any, dict[str, Any]]:
    """:return: ``(one-step module, SB3 model or plain model or None, information)``."""
    from ncp_control.export import OneStepPolicy
    from ncp_control.export.weights import CONFIG_FILE, MODEL_FILE, load_model

    folder = target.parent if target.is_file() and target.name == MODEL_FILE else target
    if (folder / MODEL_FILE).is_file() and (folder / CONFIG_FILE).is_file():
        model = load_model(folder)
        return OneStepPolicy(model).eval(), model, {}
    from ncp_control.agents.export import open_policy

    return open_policy(target, vec_normalize, trust_pickle)


def run(args: argparse.Namespace) -> int:
    """Export and print the latency.

    :param args: parsed arguments (``target``, ``format``, ``out``, ``vecnormalize``, ``opset``, ``latency``).
    :return: exit status.
    """
    from ncp_control.export import save_model, step_latencies, to_onnx, to_torchscript
    from ncp_control.sequence import LiquidRNN

    torch.set_num_threads(1)
    if args.repeats < 1:
        raise UserError(f"--repeats must be >= 1, got {args.repeats}")
    target = Path(args.target)
    if not target.exists():
        raise FileNotFoundError(f"no run folder, policy or model at {target}")
    vec_normalize = _load_vec_normalize(args.vecnormalize, args.trust_pickle)
    module, model, info = _open(target, vec_normalize, args.trust_pickle)
    base = target if target.is_dir() else target.parent
    out = Path(args.out) if args.out else base / "export" / FORMATS[args.format]
    if args.format == "safetensors":
        if isinstance(model, LiquidRNN):
            save_model(model, out)
            files = "model.safetensors + config.json"
        elif model is not None:
            from ncp_control.agents.export import save_policy

            run = {"env_id": info["env_id"], "env_kwargs": info.get("env_kwargs") or {}} if info.get("env_id") else None
            save_policy(model, out, vec_normalize, extra=run, env_observation_space=info.get("env_observation_space"))
            files = "policy.safetensors + config.json"
        else:  # already weights-only (a run's weights/ or a policy folder): copied, checked on the way
            from ncp_control.agents.export import copy_policy

            copy_policy(target, out)
            files = "policy.safetensors + config.json"
        print(f"wrote {out} ({files}: loads without unpickling)")
        return 0
    if args.format == "torchscript":
        to_torchscript(module, out)
    else:
        to_onnx(module, out, opset=args.opset)
    print(f"wrote {out}: (obs [B, {', '.join(map(str, module.obs_shape))}], state [B, {module.state_size}], "
          "dt [B]) -> (action, new_state)")
    if args.latency:
        times = step_latencies(module, str(out) if args.format == "torchscript" else None,
                               str(out) if args.format == "onnx" else None, repeats=args.repeats)
        eager = times["eager"]
        for name, seconds in times.items():
            print(f"  batch-1 latency {name:<12} {1e6 * seconds:8.1f} us  ({eager / seconds:.2f}x eager PyTorch)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export`` subcommand.

    :param subparsers: the top-level subparsers.
    """
    parser = subparsers.add_parser(
        "export",
        help="export a policy (RUN_DIR|MODEL) to TorchScript, ONNX or weights-only safetensors",
        description="Export the deterministic one-step policy (obs, state, dt) -> (action, new_state), with "
        "observation normalisation and action clipping, and print its batch-1 latency.",
    )
    parser.add_argument("target", help="run folder, weights-only folder, ncp_control model folder, or model zip (with --trust-pickle)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="onnx", help="output format (default onnx)")
    parser.add_argument("--out", default=None, help="output path (default TARGET/export/policy.pt|policy.onnx|weights)")
    parser.add_argument("--vecnormalize", default=None, help="SB3 VecNormalize .pkl file whose statistics to fold in (a pickle: needs --trust-pickle)")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (>= 17, default 17)")
    parser.add_argument("--no-latency", dest="latency", action="store_false", help="skip the latency measurement")
    parser.add_argument("--repeats", type=int, default=1000, help="calls per timed round of the latency (default 1000)")
    add_trust_pickle(parser)
    parser.set_defaults(func=run)
