"""``policy_kwargs`` of hyperparameter files as plain data: parsed, never evaluated.

A hyperparameter file (rl-baselines3-zoo YAML) gives ``policy_kwargs`` either as a mapping or
as an rl-zoo style string. Both are read into plain data (numbers, strings, booleans, None,
lists and string-keyed dicts), so that a run's ``config.yaml`` holds them as they are:

- a YAML mapping, e.g. ``policy_kwargs: {units: 32, activation_fn: ReLU, net_arch: [64, 64]}``;
- a string, e.g. ``"dict(ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=[64]))"``.
  Its Python syntax tree is walked, not run: only literals (numbers, strings, ``True``,
  ``False``, ``None``, a sign before a number), lists, tuples (read as lists), ``{...}``
  with string keys, ``dict(key=value, ...)`` and the activations ``nn.<Name>``,
  ``th.nn.<Name>`` or ``torch.nn.<Name>`` are accepted. Anything else (a name, a call of
  anything but ``dict``, an attribute outside ``nn.<activation>``, an operator, ``**``)
  raises a ``ValueError`` naming the key and what is allowed.

Values of an ``activation_fn`` key (at any depth) name one of :data:`ACTIVATIONS`, with or
without the ``nn.``/``th.nn.``/``torch.nn.`` prefix, in any letter case (``ReLU``,
``"nn.ReLU"``, ``relu``); they are stored as the class name (``"ReLU"``). A ``wiring`` may be
``"ncp"``, ``"full"``, ``"none"`` or a mapping with a ``kind`` (what ``Wiring.to_dict``
writes, e.g. ``{kind: AutoNCP, units: 16, output_size: 1, sparsity_level: 0.5, seed: 1}``).
:func:`resolve_policy_kwargs` turns the plain data into constructor arguments (activation
classes, :class:`ncp_control.Wiring` objects) when a model is built.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from torch import nn

from ncp_control.errors import UserError

#: the activation classes a file may name (``torch.nn.<Name>``)
ACTIVATIONS: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (nn.Tanh, nn.ReLU, nn.ELU, nn.LeakyReLU, nn.SELU, nn.SiLU, nn.GELU, nn.Mish, nn.Sigmoid,
                nn.Softplus, nn.Identity)
}
_PREFIXES = ("nn.", "th.nn.", "torch.nn.")
_ALLOWED = ("numbers, strings, True/False/None, lists, tuples, {'key': value}, dict(key=value, ...) and the "
            f"activations nn.<Name> / th.nn.<Name> with Name one of {sorted(ACTIVATIONS)}")


def activation_name(value: Any, where: str = "activation_fn") -> str:
    """The class name of an activation given as text.

    :param value: ``"ReLU"``, ``"nn.ReLU"``, ``"torch.nn.ReLU"``, ``"relu"``... (or an
        activation class of :data:`ACTIVATIONS`).
    :param where: the key, for the error message.
    :return: the name in :data:`ACTIVATIONS` (e.g. ``"ReLU"``).
    :raises ValueError: for anything else.
    """
    if isinstance(value, type) and value in ACTIVATIONS.values():
        return value.__name__
    if isinstance(value, str):
        text = value.strip()
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix):]
                break
        for name in ACTIVATIONS:
            if name.lower() == text.lower():
                return name
    raise UserError(f"{where}: {value!r} is not an activation this package accepts; use one of "
                     f"{sorted(ACTIVATIONS)} (optionally written nn.<Name>)")


def parse_policy_kwargs(value: Any, where: str = "policy_kwargs") -> dict[str, Any]:
    """Read ``policy_kwargs`` from a hyperparameter file as plain data (see the module docstring).

    :param value: an rl-zoo style string or a mapping, as ``yaml.safe_load`` returns them.
    :param where: the key's name, for error messages.
    :return: a dict of plain data (activations as their class names).
    :raises ValueError: for anything outside the schema, naming the key.
    """
    if isinstance(value, str):
        try:
            tree = ast.parse(value.strip(), mode="eval")
        except (SyntaxError, ValueError) as error:
            raise UserError(f"{where}: cannot read {value!r} ({error.__class__.__name__}: {error}); "
                             f"allowed: {_ALLOWED}") from None
        try:
            data = _from_node(tree.body, where)
        except RecursionError:
            raise UserError(f"{where}: {value[:80]!r}... is nested too deeply") from None
    elif isinstance(value, Mapping):
        data = _plain(value, where)
    else:
        raise UserError(f"{where} must be a mapping or a dict(...) string, got {type(value).__name__} {value!r}")
    if not isinstance(data, dict):
        raise UserError(f"{where} must be a dict, got {value!r}")
    return data


def _check_key(key: str, value: Any, where: str) -> Any:
    if key == "activation_fn":
        return activation_name(value, where)
    if key == "wiring" and isinstance(value, dict) and "kind" not in value:
        raise UserError(f"{where}: a wiring mapping needs a 'kind' (AutoNCP, NCP, FullyConnected, Random, "
                         f"Wiring), as Wiring.to_dict writes it; got keys {sorted(value)}")
    return value


def _plain(value: Any, where: str) -> Any:
    """Check a value read by YAML: plain data only, ``activation_fn`` normalised."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise UserError(f"{where}: keys must be strings, got {key!r}")
            result[key] = _check_key(key, _plain(item, f"{where}.{key}"), f"{where}.{key}")
        return result
    raise UserError(f"{where}: {type(value).__name__} value {value!r} is not allowed; allowed: {_ALLOWED}")


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _from_node(node: ast.expr, where: str) -> Any:
    """Plain data of one syntax-tree node of an accepted kind (never evaluated)."""
    if isinstance(node, ast.Constant) and (node.value is None or type(node.value) in (bool, int, float, str)):
        return node.value
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd))
            and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float)):
        number: Any = node.operand.value
        return -number if isinstance(node.op, ast.USub) else number
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_from_node(item, f"{where}[{i}]") for i, item in enumerate(node.elts)]
    if isinstance(node, ast.Dict):
        result = {}
        for key, item in zip(node.keys, node.values):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                raise UserError(f"{where}: dict keys must be strings, got {ast.unparse(key) if key else '**'}; "
                                 f"allowed: {_ALLOWED}")
            result[key.value] = _check_key(key.value, _from_node(item, f"{where}.{key.value}"),
                                           f"{where}.{key.value}")
        return result
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args
            and all(k.arg is not None for k in node.keywords)):
        return {str(k.arg): _check_key(str(k.arg), _from_node(k.value, f"{where}.{k.arg}"), f"{where}.{k.arg}")
                for k in node.keywords}
    dotted = _dotted(node) if isinstance(node, ast.Attribute) else None
    if dotted is not None and any(dotted == prefix + name for prefix in _PREFIXES for name in ACTIVATIONS):
        return dotted.rsplit(".", 1)[1]
    raise UserError(f"{where}: {ast.unparse(node)!r} is not allowed (policy_kwargs are read, never run); "
                     f"allowed: {_ALLOWED}")


def resolve_policy_kwargs(kwargs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Constructor arguments from plain ``policy_kwargs``: activation names become classes of
    :data:`ACTIVATIONS`, wiring mappings become :class:`ncp_control.Wiring` objects.

    :param kwargs: from :func:`parse_policy_kwargs` (classes and wirings given in Python pass
        through unchanged).
    :return: a new dict.
    :raises ValueError: for an unknown activation or a wiring mapping that does not build.
    """
    return dict(_resolve(dict(kwargs or {}), "policy_kwargs"))


def _resolve(value: Any, where: str) -> Any:
    if isinstance(value, list):
        return [_resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key == "activation_fn" and not isinstance(item, type):
            result[key] = ACTIVATIONS[activation_name(item, f"{where}.{key}")]
        elif key == "wiring" and isinstance(item, dict):
            from ncp_control import Wiring

            try:
                result[key] = Wiring.from_dict(item)
            except (TypeError, ValueError, KeyError) as error:
                raise UserError(f"{where}.wiring: cannot build the wiring {item!r}: {error}") from None
        else:
            result[key] = _resolve(item, f"{where}.{key}")
    return result
