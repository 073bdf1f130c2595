"""The compiled path of the CT-RNN cell (:class:`~ncp_control.cells.CTRNNCell`, semi-implicit
solver).

- :mod:`~ncp_control.fast.ctrnn.support`: whether the path applies to a cell (:func:`supports`)
- :mod:`~ncp_control.fast.ctrnn.params`: the parameters as the kernels read them
- :mod:`~ncp_control.fast.ctrnn.kernels`: the compiled forward and backward solver
- :mod:`~ncp_control.fast.ctrnn.train`: the path with autograd (:func:`unroll`), also taken
  without gradients (no separate no-grad path)
"""

from ncp_control.fast.ctrnn.support import supports
from ncp_control.fast.ctrnn.train import ctrnn_semi_implicit_sequence, unroll

__all__ = ["ctrnn_semi_implicit_sequence", "supports", "unroll"]
