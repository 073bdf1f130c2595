"""The Crazyflie-like quadrotor: physical constants (with sources) and its MJCF model.

Frames: world z up; body x forward, y left, z up. Motors sit in an X configuration,
numbered 0 front-left (+x, +y), 1 back-left (-x, +y), 2 back-right (-x, -y),
3 front-right (+x, -y). Motors 0 and 2 spin clockwise seen from above, so their reaction
torque on the body is counter-clockwise (+z); motors 1 and 3 spin the other way.

Each motor is a MuJoCo actuator on a site: control in [0, 1] is the commanded fraction of
the maximum thrust; a first-order filter (``dyntype="filterexact"``) gives the motor lag;
the gear ``(0, 0, 1, 0, 0, +-k)`` applies the thrust along the rotor axis and the reaction
yaw torque ``k * thrust``. Drag comes from MuJoCo's fluid model (air density and
viscosity on ``<option>``, the body's equivalent inertia box), which uses the velocity
relative to ``model.opt.wind``, so wind blows the drone off course.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class QuadrotorConstants:
    """Nominal physical constants of the simulated quadrotor.

    Sources:

    - ``mass`` 0.027 kg: take-off weight of the Bitcraze Crazyflie 2.x (Bitcraze datasheet).
    - ``inertia`` (1.395e-5, 1.436e-5, 2.173e-5) kg m^2: J. Foerster, "System Identification
      of the Crazyflie 2.0 Nano Quadrocopter", ETH Zurich, 2015.
    - ``arm_length`` 0.046 m centre to motor (92 mm motor-to-motor diagonal, Bitcraze).
    - ``thrust_to_weight`` 2.25: the Crazyflie 2.x model of gym-pybullet-drones
      (Panerati et al., IROS 2021, ``cf2x.urdf``); maximum thrust per motor
      ``thrust_to_weight * mass * g / 4`` = 0.149 N.
    - ``torque_to_thrust`` 0.005964552 m: reaction torque per newton of thrust (Foerster 2015).
    - ``motor_time_constant`` 0.02 s: an assumed first-order rotor lag of the order reported
      for brushed micro motors; not a measured Crazyflie value.
    - ``air_density`` 1.225 kg/m^3 and ``air_viscosity`` 1.8e-5 Pa s: ISA sea-level air.
    """

    mass: float = 0.027
    inertia: tuple[float, float, float] = (1.395e-5, 1.436e-5, 2.173e-5)
    arm_length: float = 0.046
    thrust_to_weight: float = 2.25
    torque_to_thrust: float = 0.005964552
    motor_time_constant: float = 0.02
    air_density: float = 1.225
    air_viscosity: float = 1.8e-5
    gravity: float = 9.81

    @property
    def max_motor_thrust(self) -> float:
        """:return: the maximum thrust of one motor (N)."""
        return self.thrust_to_weight * self.mass * self.gravity / 4.0

    @property
    def hover_thrust(self) -> float:
        """:return: the total thrust that balances gravity (N)."""
        return self.mass * self.gravity

    def motor_positions(self) -> np.ndarray:
        """:return: motor positions in the body frame, shape ``[4, 3]`` (m)."""
        d = self.arm_length / math.sqrt(2.0)
        return np.array([[d, d, 0.0], [-d, d, 0.0], [-d, -d, 0.0], [d, -d, 0.0]])

    def spin_signs(self) -> np.ndarray:
        """:return: sign of each motor's reaction yaw torque, shape ``[4]``."""
        return np.array([1.0, -1.0, 1.0, -1.0])

    def allocation_matrix(self) -> np.ndarray:
        """Map motor thrusts to (collective thrust, roll, pitch, yaw torque).

        :return: matrix ``A`` of shape ``[4, 4]`` with ``A @ f = (T, tau_x, tau_y, tau_z)``.
        """
        p = self.motor_positions()
        return np.stack([np.ones(4), p[:, 1], -p[:, 0], self.spin_signs() * self.torque_to_thrust])


CRAZYFLIE = QuadrotorConstants()


def build_mjcf(constants: QuadrotorConstants = CRAZYFLIE, timestep: float = 0.005) -> str:
    """Write the quadrotor as an MJCF string.

    Contacts are disabled (crashes are detected by the environment from the state), so each
    physics step costs only the free body's dynamics, the fluid forces and four actuators.

    :param constants: the physical constants.
    :param timestep: the physics time step (s).
    :return: the MJCF XML text.
    """
    c = constants
    ix, iy, iz = c.inertia
    sites = []
    motors = []
    for i, (pos, sign) in enumerate(zip(c.motor_positions(), c.spin_signs())):
        sites.append(
            f'<site name="rotor{i}" pos="{pos[0]:.6f} {pos[1]:.6f} 0.005" size="0.012 0.002" type="cylinder"/>'
        )
        motors.append(
            f'<general name="motor{i}" site="rotor{i}" gear="0 0 1 0 0 {sign * c.torque_to_thrust:.9f}" '
            f'dyntype="filterexact" dynprm="{c.motor_time_constant}" gaintype="fixed" '
            f'gainprm="{c.max_motor_thrust:.9f}" biastype="none" ctrllimited="true" ctrlrange="0 1"/>'
        )
    arm = c.arm_length
    return f"""
<mujoco model="crazyflie_like_quadrotor">
  <option timestep="{timestep}" density="{c.air_density}" viscosity="{c.air_viscosity}"
          gravity="0 0 {-c.gravity}" wind="0 0 0" integrator="Euler">
    <flag contact="disable"/>
  </option>
  <worldbody>
    <geom name="floor" type="plane" size="10 10 0.1" contype="0" conaffinity="0" rgba="0.4 0.5 0.4 1"/>
    <body name="quad" pos="0 0 1">
      <freejoint name="root"/>
      <inertial pos="0 0 0" mass="{c.mass}" diaginertia="{ix} {iy} {iz}"/>
      <geom name="frame_a" type="box" size="{arm:.4f} 0.004 0.003" euler="0 0 45" contype="0" conaffinity="0" mass="0"/>
      <geom name="frame_b" type="box" size="{arm:.4f} 0.004 0.003" euler="0 0 -45" contype="0" conaffinity="0" mass="0"/>
      {"".join(sites)}
    </body>
  </worldbody>
  <actuator>
    {"".join(motors)}
  </actuator>
</mujoco>
"""
