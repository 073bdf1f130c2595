"""ncp_control.envs: Gymnasium environments and perturbation wrappers (numpy and MuJoCo, no torch).

Importing this package registers every environment under the ``NCPControl/`` namespace.
"""

if __name__ != "ncp_control.envs":  # the folder is installed as ncp_control.envs; a second name would load it twice
    raise ImportError(f"import this package as ncp_control.envs, not as {__name__}")

from ncp_control.envs.params import PhysicalParams
from ncp_control.envs.registration import NO_VELOCITY_TASKS, OWN_TASKS, RESCALED_TASKS, register_all

register_all()

__all__ = ["NO_VELOCITY_TASKS", "OWN_TASKS", "RESCALED_TASKS", "PhysicalParams", "register_all"]
