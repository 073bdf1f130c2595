"""Quadrotor tasks: a Crazyflie-like drone simulated in MuJoCo (numpy and mujoco only).

``QuadHoverEnv`` (``NCPControl/QuadHover-v0``), ``QuadWaypointsEnv``
(``NCPControl/QuadWaypoints-v0``) and ``QuadFlyToTargetEnv`` (``NCPControl/QuadFlyToTarget-v0``)
share :class:`envs.quadrotor.base.QuadrotorEnv`; :mod:`envs.quadrotor.controller` holds
the reference controller and its recorded scores.
"""
