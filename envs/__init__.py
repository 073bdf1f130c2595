"""envs: Gymnasium environments and perturbation wrappers (numpy and MuJoCo, no torch).

Importing this package registers every environment under the ``NCPControl/`` namespace.
"""

from envs.params import PhysicalParams

__all__ = ["PhysicalParams"]
