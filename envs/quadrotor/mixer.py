"""Inner loop of the quadrotor: body-rate controller and motor mixer (numpy, allocation free).

Used by the environment's default action mode (collective thrust + body rates) and by the
reference controller when it drives raw motors, so both share one implementation.
"""

from __future__ import annotations

import numpy as np
from ncp_control.envs.quadrotor.model import CRAZYFLIE, QuadrotorConstants


class RateMixer:
    """Turn (collective thrust, body-rate command) into motor commands in [0, 1].

    A proportional rate loop with gyroscopic feed-forward computes the body torque
    ``tau = J (K (w_cmd - w)) + w x J w``; the inverse allocation matrix turns
    ``(T, tau)`` into motor thrusts, clipped to ``[0, f_max]`` and divided by ``f_max``.
    It uses the nominal constants: a perturbed drone (heavier, weaker motors) is flown
    with the nominal model, as a real flight controller would be.

    :param constants: nominal constants of the drone.
    :param rate_gains: proportional gains of the roll, pitch and yaw rate loops (1/s).
    """

    def __init__(
        self,
        constants: QuadrotorConstants = CRAZYFLIE,
        rate_gains: tuple[float, float, float] = (25.0, 25.0, 12.0),
    ) -> None:
        self.constants = constants
        self.inertia = np.array(constants.inertia, dtype=np.float64)
        self.gains = np.array(rate_gains, dtype=np.float64)
        self.max_thrust = constants.max_motor_thrust
        self._inverse = np.linalg.inv(constants.allocation_matrix())
        self._rows = [tuple(float(v) for v in row) for row in self._inverse]
        self._j = tuple(float(v) for v in self.inertia)
        self._k = tuple(float(v) for v in self.gains)

    def motor_commands(self, thrust: float, rates_cmd: np.ndarray, rates: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Compute motor commands (scalar arithmetic: faster than numpy on four numbers).

        :param thrust: collective thrust (N).
        :param rates_cmd: commanded body rates, shape ``[3]`` (rad/s).
        :param rates: measured body rates, shape ``[3]`` (rad/s).
        :param out: output buffer, shape ``[4]``: motor commands in [0, 1].
        :return: ``out``.
        """
        jx, jy, jz = self._j
        kx, ky, kz = self._k
        p, q, r = rates.tolist()
        cp, cq, cr = rates_cmd.tolist()
        # rate loop plus gyroscopic feed-forward w x (J w)
        tx = jx * kx * (cp - p) + (jz - jy) * q * r
        ty = jy * ky * (cq - q) + (jx - jz) * p * r
        tz = jz * kz * (cr - r) + (jy - jx) * p * q
        f_max = self.max_thrust
        for i, (a, b, c, d) in enumerate(self._rows):
            f = a * thrust + b * tx + c * ty + d * tz
            out[i] = 0.0 if f <= 0.0 else (1.0 if f >= f_max else f / f_max)
        return out
