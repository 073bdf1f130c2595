"""The compiled path of the CfC cells (:class:`~ncp_control.cells.CfCCell` and
:class:`~ncp_control.cells.WiredCfCCell`, a stack of CfC layers).

- :mod:`~ncp_control.fast.cfc.support`: whether the path applies to a cell (:func:`supports`)
- :mod:`~ncp_control.fast.cfc.params`: one layer's parameters packed as the kernels read them
  (for both paths), and the gradients unpacked back
- :mod:`~ncp_control.fast.cfc.kernels`: the compiled forward, backward and stack kernels
- :mod:`~ncp_control.fast.cfc.train`: the training path with autograd (:func:`unroll`)
- :mod:`~ncp_control.fast.cfc.infer`: the no-grad path (:func:`infer`)
"""

from ncp_control.fast.cfc.infer import infer
from ncp_control.fast.cfc.support import supports
from ncp_control.fast.cfc.train import unroll

__all__ = ["infer", "supports", "unroll"]
