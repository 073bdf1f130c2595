"""envs: Gymnasium environments and perturbation wrappers (numpy and MuJoCo, no torch).

Importing this package registers every environment under the ``NCPControl/`` namespace.
"""

from envs.params import PhysicalParams
from envs.registration import NO_VELOCITY_TASKS, OWN_TASKS, register_all

register_all()

__all__ = ["NO_VELOCITY_TASKS", "OWN_TASKS", "PhysicalParams", "register_all"]
