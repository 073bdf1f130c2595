"""One small interface through which perturbation wrappers read and scale physics.

An environment that mixes in :class:`PhysicalParams` declares its nominal parameters once
(``_init_physical_params``) and writes current values into its simulator in
``_apply_physical_params``. Wrappers always scale from :meth:`nominal_physical_params`,
so repeated resets never compound, and :meth:`restore_physical_params` undoes them.

Conventional names (use these where they apply, so that generic wrappers find them):
``mass`` (kg, total or per body), ``inertia`` (kg m^2, diagonal), ``friction``
(dimensionless), ``damping`` (joint damping), ``gravity`` (m/s^2, 3-vector),
``wind`` (m/s, 3-vector), ``motor_constant`` (thrust scale), ``motor_time_constant`` (s),
``tyre_friction`` (dimensionless), ``steering_gain`` (dimensionless),
``cornering_stiffness`` (N/rad).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: parameters that must stay strictly positive (a zero mass or time constant has no physics)
STRICTLY_POSITIVE = ("mass", "inertia", "length", "time_constant")


def check_physical_value(name: str, value: np.ndarray, nominal: np.ndarray) -> None:
    """Refuse a physical value that would give wrong results silently.

    Every value must be finite; a value must keep the sign of its nominal value (a negative
    gain, friction or damping would invert the physics: zero is allowed, e.g. a failed motor);
    masses, inertias, lengths and time constants (:data:`STRICTLY_POSITIVE`) must be positive.
    Parameters whose nominal value is zero (wind) may take any finite value.

    :param name: the parameter.
    :param value: the new value.
    :param nominal: its nominal value (same shape).
    :raises ValueError: naming the parameter and the range it must be in.
    """
    if not np.all(np.isfinite(value)):
        raise ValueError(f"physical parameter {name!r} must be finite, got {value.tolist()}")
    if any(key in name for key in STRICTLY_POSITIVE) and np.any(value <= 0):
        raise ValueError(f"physical parameter {name!r} must be positive (> 0), got {value.tolist()}")
    if np.any(value * np.sign(nominal) < 0):
        raise ValueError(f"physical parameter {name!r} must keep the sign of its nominal value "
                         f"{nominal.tolist()} (>= 0 where that is positive), got {value.tolist()}")


class PhysicalParams:
    """Mixin for environments whose physical parameters can be read and set by name."""

    _nominal_params: dict[str, np.ndarray]
    _current_params: dict[str, np.ndarray]

    def _init_physical_params(self, nominal: dict[str, Any]) -> None:
        """Declare the nominal parameters (called once, in ``__init__``).

        :param nominal: parameter name to nominal value (scalar or array).
        """
        self._nominal_params = {k: np.array(v, dtype=np.float64) for k, v in nominal.items()}
        self._current_params = {k: v.copy() for k, v in self._nominal_params.items()}

    def _apply_physical_params(self, params: dict[str, np.ndarray]) -> None:
        """Write ``params`` into the simulator; override in environments that need it.

        :param params: every parameter's current value.
        """

    def physical_param_names(self) -> list[str]:
        """:return: the names of the parameters this environment exposes."""
        return list(self._nominal_params)

    def nominal_physical_params(self) -> dict[str, np.ndarray]:
        """:return: copies of the nominal values."""
        return {k: v.copy() for k, v in self._nominal_params.items()}

    def physical_params(self) -> dict[str, np.ndarray]:
        """:return: copies of the current values."""
        return {k: v.copy() for k, v in self._current_params.items()}

    def set_physical_params(self, **values: Any) -> None:
        """Set some parameters (absolute values, same shape as nominal).

        :param values: parameter name to new value.
        :raises ValueError: for an unknown name, a value of the wrong shape, or one outside its
            physical range (see :func:`check_physical_value`).
        """
        for name, value in values.items():
            if name not in self._nominal_params:
                raise ValueError(
                    f"unknown physical parameter {name!r}; this environment has {sorted(self._nominal_params)}"
                )
            try:
                array = np.array(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"physical parameter {name!r} must be numbers, got {value!r}") from None
            nominal = self._nominal_params[name]
            if array.shape != nominal.shape:
                raise ValueError(f"physical parameter {name!r} must have shape {nominal.shape}, got {array.shape}")
            check_physical_value(name, array, nominal)
            self._current_params[name] = array
        self._apply_physical_params(self.physical_params())

    def restore_physical_params(self) -> None:
        """Set every parameter back to its nominal value."""
        self._current_params = self.nominal_physical_params()
        self._apply_physical_params(self.physical_params())
