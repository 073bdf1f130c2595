"""Dynamic bicycle model of a car in the road (Frenet) frame, with friction-limited tyres.

State (all floats): ``s`` arc length along the road (m), ``e_y`` lateral offset of the centre of
mass from the lane centre (m, positive to the left), ``e_psi`` heading error (rad, positive to the
left of the road's tangent), ``v_y`` lateral velocity in the body frame (m/s), ``r`` yaw rate
(rad/s, positive to the left), ``v_x`` forward speed (m/s).

Equations (Rajamani, *Vehicle Dynamics and Control*, 2nd ed., ch. 2-3, with a saturating tyre):

    alpha_f = atan2(v_y + l_f r, v_x) - delta        alpha_r = atan2(v_y - l_r r, v_x)
    F_f = -mu F_zf tanh(C_f alpha_f / (mu F_zf))     F_r = -mu F_zr tanh(C_r alpha_r / (mu F_zr))
    m (dv_y/dt + v_x r) = F_f cos(delta) + F_r       I_z dr/dt = l_f F_f cos(delta) - l_r F_r
    ds/dt = (v_x cos e_psi - v_y sin e_psi) / (1 - kappa(s) e_y)
    de_y/dt = v_x sin e_psi + v_y cos e_psi          de_psi/dt = r - kappa(s) ds/dt

The tyre force follows the linear cornering stiffness for small slip and saturates at the
friction limit ``mu F_z`` (static axle loads), so too much speed in a curve or a slippery road
makes the car slide out. The speed is held by a cruise controller (``dv_x/dt = a``).
Integration: semi-implicit Euler, with sub-steps short enough for the stiffest lateral mode.

Nominal constants: a mid-size passenger car (mass 1500 kg, yaw inertia 2500 kg m^2, l_f 1.2 m,
l_r 1.4 m), cornering stiffnesses 80 / 90 kN/rad, in the ranges tabulated by Rajamani (ch. 2)
and Pacejka, *Tyre and Vehicle Dynamics* (ch. 1); dry asphalt friction 1.0.
"""

from __future__ import annotations

import math

from ncp_control.envs.car.road import Road

GRAVITY = 9.81
#: Nominal physical parameters: name -> value (units in the docstring of :class:`VehicleParams`).
NOMINAL_VEHICLE: dict[str, float | tuple[float, float]] = {
    "mass": 1500.0,
    "inertia": 2500.0,
    "cornering_stiffness": (80_000.0, 90_000.0),
    "tyre_friction": 1.0,
    "steering_gain": 1.0,
}
#: Distances from the centre of mass to the front and rear axle (m).
LF = 1.2
LR = 1.4
#: Largest road-wheel steering angle (rad) at steering gain 1.
MAX_STEER = 0.4
#: Largest stable sub-step: h * (fastest lateral eigenvalue) stays below this.
STABILITY_MARGIN = 0.4


class VehicleParams:
    """The current physical parameters as plain floats (read in the inner loop).

    :param mass: total mass (kg).
    :param inertia: yaw moment of inertia (kg m^2).
    :param cf: front axle cornering stiffness (N/rad).
    :param cr: rear axle cornering stiffness (N/rad).
    :param mu: tyre-road friction coefficient.
    :param steering_gain: factor from commanded to actual steering angle.
    """

    def __init__(self, mass: float, inertia: float, cf: float, cr: float, mu: float, steering_gain: float):
        if mass <= 0 or inertia <= 0 or cf <= 0 or cr <= 0 or mu <= 0:
            raise ValueError(
                "mass, inertia, cornering_stiffness and tyre_friction must be positive, got "
                f"mass={mass}, inertia={inertia}, cornering_stiffness=({cf}, {cr}), tyre_friction={mu}"
            )
        self.mass = mass
        self.inertia = inertia
        self.cf = cf
        self.cr = cr
        self.mu = mu
        self.steering_gain = steering_gain
        self.fzf = mass * GRAVITY * LR / (LF + LR)
        self.fzr = mass * GRAVITY * LF / (LF + LR)
        self._substeps_key = (-1.0, -1.0)
        self._substeps = 1

    def fastest_rate(self, speed: float) -> float:
        """Upper bound of the lateral modes' decay rate at a speed (1/s), for the sub-step size.

        :param speed: forward speed (m/s).
        """
        v = max(speed, 1.0)
        return (self.cf + self.cr) / (self.mass * v) + (LF * LF * self.cf + LR * LR * self.cr) / (self.inertia * v)

    def substeps(self, speed: float, dt: float) -> int:
        """Number of integration sub-steps for a control period (cached for the last speed and period).

        :param speed: forward speed (m/s).
        :param dt: control period (s).
        """
        if (speed, dt) != self._substeps_key:
            self._substeps_key = (speed, dt)
            self._substeps = max(1, math.ceil(dt * self.fastest_rate(speed) / STABILITY_MARGIN))
        return self._substeps


def integrate(
    state: list[float], delta: float, accel: float, dt: float, road: Road, p: VehicleParams, speed_limits: tuple[float, float]
) -> list[float]:
    """Advance the state by ``dt`` seconds with constant steering and acceleration.

    :param state: ``[s, e_y, e_psi, v_y, r, v_x]``.
    :param delta: road-wheel steering angle (rad), positive to the left.
    :param accel: forward acceleration (m/s^2).
    :param dt: duration (s).
    :param road: the road (its curvature).
    :param p: the vehicle parameters.
    :param speed_limits: ``(low, high)`` bounds of the forward speed (m/s).
    :return: the new state.
    """
    s, e_y, e_psi, v_y, r, v_x = state
    n = p.substeps(v_x, dt)
    h = dt / n
    cos_d = math.cos(delta)
    lim_f = p.mu * p.fzf
    lim_r = p.mu * p.fzr
    k_f = p.cf / lim_f
    k_r = p.cr / lim_r
    low, high = speed_limits
    inv_mass = 1.0 / p.mass
    inv_inertia = 1.0 / p.inertia
    kappa_at = road.curvature_at
    for _ in range(n):
        alpha_f = math.atan2(v_y + LF * r, v_x) - delta
        alpha_r = math.atan2(v_y - LR * r, v_x)
        f_f = -lim_f * math.tanh(k_f * alpha_f) * cos_d
        f_r = -lim_r * math.tanh(k_r * alpha_r)
        v_y += h * ((f_f + f_r) * inv_mass - v_x * r)
        r += h * (LF * f_f - LR * f_r) * inv_inertia
        kappa = kappa_at(s)
        sin_e = math.sin(e_psi)
        cos_e = math.cos(e_psi)
        s_dot = (v_x * cos_e - v_y * sin_e) / (1.0 - kappa * e_y)
        s += h * s_dot
        e_y += h * (v_x * sin_e + v_y * cos_e)
        e_psi += h * (r - kappa * s_dot)
        if accel != 0.0:
            v_x = min(max(v_x + h * accel, low), high)
    return [s, e_y, e_psi, v_y, r, v_x]
