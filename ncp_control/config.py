"""Rebuilding a model from its :meth:`~ncp_control.sequence.LiquidRNN.config` dict."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from ncp_control.errors import UserError
from ncp_control.sequence import LiquidRNN

#: model classes by config name: (module, class)
MODEL_CLASSES = {
    "CfC": ("ncp_control.cfc", "CfC"),
    "LTC": ("ncp_control.ltc", "LTC"),
    "CTRNN": ("ncp_control.ctrnn", "CTRNN"),
}


def model_from_config(config: dict[str, Any]) -> LiquidRNN:
    """Build a fresh model (new weights) from ``model.config()``; load its ``state_dict`` to
    get identical outputs.

    :param config: the dict returned by ``config()`` (also after a JSON round trip).
    :return: a model of the same class and arguments.
    :raises UserError: on an unknown ``class``, a missing or an unknown key.
    """
    args = dict(config)
    name = args.pop("class", None)
    if name not in MODEL_CLASSES:
        raise UserError(f"config['class'] must be one of {sorted(MODEL_CLASSES)}, got {name!r}")
    module_name, class_name = MODEL_CLASSES[name]
    cls = getattr(importlib.import_module(module_name), class_name)
    parameters = inspect.signature(cls).parameters
    missing = [key for key, p in parameters.items() if p.default is p.empty and key not in args]
    if missing:
        raise UserError(f"config has no {missing[0]!r} for {name}: pass the dict that model.config() returned")
    unknown = sorted(set(args) - set(parameters))
    if unknown:
        raise UserError(f"config has unknown key {unknown[0]!r} for {name}: expected keys {sorted(parameters)}")
    from ncp_control.cfc import units_from_config

    args["units"] = units_from_config(args["units"])
    return cls(**args)
