"""Weights-only files: tensors in safetensors plus a JSON config, loaded without unpickling.

A weights folder holds ``<name>.safetensors`` (tensors only; the format cannot carry code)
and ``config.json`` (plain JSON: what to build). :func:`save_model` / :func:`load_model` do
this for the models of :mod:`ncp_control`; :func:`write_tensors` / :func:`read_tensors` and
:func:`write_json` / :func:`read_json` are the pieces other packages build their formats on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ncp_control.config import model_from_config
from ncp_control.errors import UserError
from ncp_control.sequence import LiquidRNN

#: ``config.json["format"]`` of a saved ncp_control model
MODEL_FORMAT = "ncp-control-model"
MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:  # a full disk or a kill: leave no temporary file behind
        tmp.unlink(missing_ok=True)
        raise


def write_tensors(path: str | os.PathLike[str], tensors: dict[str, torch.Tensor]) -> Path:
    """Write tensors to a safetensors file atomically (copies, so shared storage is fine).

    :param path: destination.
    :param tensors: name -> tensor.
    :return: the path.
    """
    from safetensors.torch import save

    data = {k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()}
    target = Path(path)
    _atomic_bytes(target, save(data))
    return target


def read_tensors(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a safetensors file (no unpickling).

    :param path: the file.
    :return: name -> tensor.
    :raises ValueError: if the file is not a safetensors file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load

    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"no weights file at {target}")
    try:
        return dict(load(target.read_bytes()))
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise UserError(f"{target} is not a safetensors file ({error})") from None


def write_json(path: str | os.PathLike[str], data: dict[str, Any]) -> Path:
    """:param path: destination. :param data: JSON-serialisable dict. :return: the path (written atomically)."""
    target = Path(path)
    _atomic_bytes(target, json.dumps(data, indent=2, sort_keys=True).encode())
    return target


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """:param path: a JSON file holding an object. :return: the dict.
    :raises ValueError: if it is not valid JSON or not an object."""
    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"no config file at {target}")
    try:
        data = json.loads(target.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{target} is not valid JSON ({error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{target} must hold a JSON object")
    return data


def save_model(model: LiquidRNN, folder: str | os.PathLike[str]) -> Path:
    """Save an ncp_control model weights-only: ``folder/model.safetensors`` + ``folder/config.json``.

    :param model: a :class:`~ncp_control.CfC`, :class:`~ncp_control.LTC` or :class:`~ncp_control.CTRNN`.
    :param folder: destination folder (created).
    :return: the folder.
    """
    from ncp_control import __version__

    if not isinstance(model, LiquidRNN):
        raise UserError(f"model must be an ncp_control CfC, LTC or CTRNN, got {type(model).__name__}")
    target = Path(folder)
    write_tensors(target / MODEL_FILE, model.state_dict())
    write_json(target / CONFIG_FILE, {"format": MODEL_FORMAT, "version": __version__, "model": model.config()})
    return target


def load_model(folder: str | os.PathLike[str]) -> LiquidRNN:
    """Load a model written by :func:`save_model`, without unpickling anything.

    :param folder: the folder (or its ``model.safetensors``).
    :return: the model, in eval mode, with the saved weights.
    :raises ValueError: if the folder is not a saved model or its tensors do not fit the config.
    """
    target = Path(folder)
    if target.is_file():
        target = target.parent
    config = read_json(target / CONFIG_FILE)
    if config.get("format") != MODEL_FORMAT or not isinstance(config.get("model"), dict):
        raise UserError(f"{target} does not hold an ncp_control model (config.json format {config.get('format')!r})")
    model = model_from_config(config["model"])
    tensors = read_tensors(target / MODEL_FILE)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as error:
        raise UserError(f"the weights in {target} do not fit its config: {error}") from None
    return model.eval()
