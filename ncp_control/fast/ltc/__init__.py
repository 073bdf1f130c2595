"""The compiled path of the LTC cell (:class:`~ncp_control.cells.LTCCell`, semi-implicit solver).

- :mod:`~ncp_control.fast.ltc.support`: whether the path applies to a cell (:func:`supports`)
- :mod:`~ncp_control.fast.ltc.params`: the parameters packed as the kernels read them (synapse
  edge lists), one packing for both paths
- :mod:`~ncp_control.fast.ltc.kernels`: the compiled forward and backward solver
- :mod:`~ncp_control.fast.ltc.train`: the training path with autograd (:func:`unroll`,
  :func:`ltc_semi_implicit_sequence`)
- :mod:`~ncp_control.fast.ltc.infer`: the no-grad path (:func:`infer`)
"""

from ncp_control.fast.ltc.infer import infer
from ncp_control.fast.ltc.support import supports
from ncp_control.fast.ltc.train import ltc_semi_implicit_sequence, unroll

__all__ = ["infer", "ltc_semi_implicit_sequence", "supports", "unroll"]
