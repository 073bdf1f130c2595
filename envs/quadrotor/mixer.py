"""Inner loop of the quadrotor: body-rate controller and motor mixer (numpy, allocation free).

Used by the environment's default action mode (collective thrust + body rates) and by the
reference controller when it drives raw motors, so both share one implementation.
"""

from __future__ import annotations

import numpy as np

from envs.quadrotor.model import CRAZYFLIE, QuadrotorConstants


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
        self._wrench = np.zeros(4)
        self._forces = np.zeros(4)
        self._tmp = np.zeros(3)

    def motor_commands(self, thrust: float, rates_cmd: np.ndarray, rates: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Compute motor commands.

        :param thrust: collective thrust (N).
        :param rates_cmd: commanded body rates, shape ``[3]`` (rad/s).
        :param rates: measured body rates, shape ``[3]`` (rad/s).
        :param out: output buffer, shape ``[4]``: motor commands in [0, 1].
        :return: ``out``.
        """
        tmp = self._tmp
        np.subtract(rates_cmd, rates, out=tmp)
        tmp *= self.gains
        tmp *= self.inertia
        wrench = self._wrench
        wrench[0] = thrust
        wrench[1:] = tmp
        # gyroscopic feed-forward w x (J w)
        jx, jy, jz = self.inertia
        p, q, r = float(rates[0]), float(rates[1]), float(rates[2])
        wrench[1] += (jz - jy) * q * r
        wrench[2] += (jx - jz) * p * r
        wrench[3] += (jy - jx) * p * q
        np.dot(self._inverse, wrench, out=self._forces)
        np.clip(self._forces, 0.0, self.max_thrust, out=self._forces)
        np.multiply(self._forces, 1.0 / self.max_thrust, out=out)
        return out
