"""JSON encoding of the weights-only policy format: spaces, classes and constructor arguments.

Used by :mod:`ncp_control.agents.export` (:func:`ncp_control.agents.export.save_policy` and
:func:`ncp_control.agents.export.load_policy`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from ncp_control.agents.extractors import EXTRACTORS
from ncp_control.agents.policies import POLICY_ALIASES, RecurrentSequencePolicy
from torch import nn

from ncp_control import Wiring
from ncp_control.errors import UserError

_DTYPES = ("float32", "float64", "uint8", "int64", "int32", "int8", "bool")


def space_to_json(space: spaces.Space) -> dict[str, Any]:
    """:param space: a Box, Discrete or Dict space. :return: its JSON description."""
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": space.low.tolist(), "high": space.high.tolist(), "shape": list(space.shape),
                "dtype": str(space.dtype)}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.Dict):
        return {"type": "Dict", "spaces": {k: space_to_json(v) for k, v in space.spaces.items()}}
    raise UserError(f"the weights-only format stores Box, Discrete and Dict spaces, got {space}")


def space_from_json(data: Any) -> spaces.Space:
    """:param data: a description from :func:`space_to_json`. :return: the space."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "Box":
        if data["dtype"] not in _DTYPES:
            raise UserError(f"config.json: Box dtype must be one of {_DTYPES}, got {data['dtype']!r}")
        dtype = np.dtype(data["dtype"])
        low = np.array(data["low"], dtype=dtype)
        high = np.array(data["high"], dtype=dtype)
        return spaces.Box(low=low, high=high, shape=tuple(data["shape"]), dtype=dtype)
    if kind == "Discrete":
        return spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
    if kind == "Dict":
        return spaces.Dict({str(k): space_from_json(v) for k, v in data["spaces"].items()})
    raise UserError(f"config.json: unknown space {data!r}")


def classes() -> dict[str, type]:
    """Every class a config may name: policy aliases (LiquidPPO's, LiquidSAC's and LiquidTD3's), extractors, ``torch.nn`` activations."""
    from ncp_control.agents.sac_policy import SAC_POLICY_ALIASES, RecurrentSACPolicy
    from ncp_control.agents.td3_policy import TD3_POLICY_ALIASES, RecurrentTD3Policy

    aliases = (*POLICY_ALIASES.values(), *SAC_POLICY_ALIASES.values(), *TD3_POLICY_ALIASES.values())
    table: dict[str, type] = {f"agents.{cls.__name__}": cls for cls in aliases}
    for cls in (RecurrentSequencePolicy, RecurrentSACPolicy, RecurrentTD3Policy):
        table[f"agents.{cls.__name__}"] = cls
    table.update({f"extractor.{name}": cls for name, cls in EXTRACTORS.items()})
    for name in dir(nn):
        value = getattr(nn, name)
        if isinstance(value, type) and issubclass(value, nn.Module):
            table[f"torch.nn.{name}"] = value
    return table


def class_name(cls: type) -> str:
    """:param cls: a class of :func:`classes`. :return: its name in the format."""
    for name, value in classes().items():
        if value is cls:
            return name
    raise UserError(f"{cls.__module__}.{cls.__qualname__} cannot be stored in the weights-only format "
                     "(only the policies, extractors and torch.nn layers of ncp-control)")


def encode(value: Any, lenient: bool = False) -> Any:
    """Plain JSON for a constructor argument; classes and wirings become tagged objects.

    :param value: the value.
    :param lenient: store what cannot be encoded as its text (for information only, never rebuilt).
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [encode(v, lenient) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            if lenient:
                return {str(k): encode(v, lenient) for k, v in value.items()}
            raise UserError(f"dict keys must be strings to be stored, got {list(value)}")
        return {k: encode(v, lenient) for k, v in value.items()}
    if lenient:
        try:
            return encode(value)
        except ValueError:
            return repr(value)
    if isinstance(value, type):
        return {"__class__": class_name(value)}
    if isinstance(value, Wiring):
        return {"__wiring__": value.to_dict()}
    if isinstance(value, spaces.Space):
        return {"__space__": space_to_json(value)}
    if isinstance(value, np.generic):
        return value.item()
    raise UserError(f"{type(value).__name__} value {value!r} cannot be stored in the weights-only format")


def decode(value: Any) -> Any:
    """:param value: JSON from :func:`encode` (strict mode). :return: the constructor argument."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__class__"}:
            table = classes()
            if value["__class__"] not in table:
                raise UserError(f"config.json names class {value['__class__']!r}, which is not one the loader knows")
            return table[value["__class__"]]
        if set(value) == {"__wiring__"}:
            return Wiring.from_dict(value["__wiring__"])
        if set(value) == {"__space__"}:
            return space_from_json(value["__space__"])
        return {k: decode(v) for k, v in value.items()}
    return value
