"""What a Stable-Baselines3 ``.zip`` holds, read from its JSON ``data`` without unpickling it."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from ncp_control.errors import UserError


def zip_algorithm(path: str | os.PathLike[str]) -> str:
    """Guess the algorithm of a bare SB3 zip from the parameters it stores.

    :param path: the zip file.
    :return: ``"LiquidTD3"``, ``"LiquidSAC"``, ``"LiquidPPO"``, ``"RecurrentPPO"``, ``"TD3"``, ``"SAC"``, ``"PPO"`` or ``"A2C"``.
    :raises UserError: for a file that is not an SB3 zip.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            data = json.loads(archive.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise UserError(f"{path} is not a model saved by Stable-Baselines3 ({error})") from None
    policy = str(data.get("policy_class", {}).get(":serialized:", "")) + str(data.get("policy_class", ""))
    if "burn_in" in data:
        return "LiquidTD3" if "policy_delay" in data else "LiquidSAC"
    if "seq_len" in data:
        return "LiquidPPO"
    if "_last_lstm_states" in data or "Lstm" in policy or "Recurrent" in policy:
        return "RecurrentPPO"
    if "target_policy_noise" in data:
        return "TD3"
    if "target_entropy" in data:
        return "SAC"
    if "clip_range" in data:
        return "PPO"
    return "A2C"


def liquid_zip(path: Any, expected: str = "LiquidPPO") -> Any:
    """Check a path given to the ``load`` of LiquidPPO, LiquidSAC or LiquidTD3 before SB3 opens it.

    :param path: a file path (SB3 adds ``.zip`` where the path alone does not exist), or an
        open file (passed on unchecked).
    :param expected: the algorithm that loads it.
    :return: the path of the existing zip, or the open file.
    :raises UserError: for a missing file, or a zip of another algorithm.
    """
    if not isinstance(path, (str, os.PathLike)):
        return path
    found = Path(path)
    if not found.is_file():
        with_suffix = Path(f"{path}.zip")
        if not with_suffix.is_file():
            raise UserError(f"path: no model file {str(path)!r} (nor {str(with_suffix)!r}): check the path")
        found = with_suffix
    algorithm = zip_algorithm(found)
    if algorithm != expected:
        raise UserError(f"path: {str(found)!r} holds a {algorithm} model, not {expected}: load it with {algorithm}.load")
    return found

