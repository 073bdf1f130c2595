"""One sequence interface for every network a policy can use.

Every model here is called as ``model(x, hx, timespans, resets) -> (y, h_last)``:

- ``x``: ``[B, T, F]`` inputs (batch first),
- ``hx``: ``[B, S]`` state before the first step (``S = model.state_size``, possibly 0),
- ``timespans``: ``[B, T]`` elapsed time per step, in nominal control periods (or ``None``),
- ``resets``: ``[B, T]`` bool, zero that sample's state *before* that step (or ``None``),
- ``y``: ``[B, T, model.output_size]``, ``h_last``: ``[B, S]``.

The liquid models of :mod:`ncp_control` follow this interface natively; LSTM and GRU are
wrapped here (their state is one tensor too: ``[h | c]`` for the LSTM), and the MLP is a
stateless model with ``state_size == 0``. Discrete-time models ignore ``timespans``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th
from torch import nn

from ncp_control.errors import UserError

#: Liquid networks by policy name (classes of :mod:`ncp_control`).
LIQUID_NETWORKS = ("cfc", "ltc", "ctrnn")
#: Every network a policy can use.
NETWORKS = (*LIQUID_NETWORKS, "lstm", "gru", "mlp")


def check_episode_starts(value: Any, n: int) -> np.ndarray:
    """A user's ``episode_start`` for ``predict``, checked.

    :param value: None, or one flag per env (booleans or 0/1).
    :param n: number of envs.
    :return: ``[n]`` float32 of 0 and 1.
    :raises UserError: for another size, or values other than booleans or 0/1 (a 0.5 would
        otherwise count as a start in one place and scale the state in another).
    """
    if value is None:
        return np.zeros(n, np.float32)
    starts = np.asarray(value)
    if starts.size != n:
        raise UserError(f"episode_start must have one flag per env ({n}), got shape {starts.shape}")
    starts = starts.reshape(n)
    if starts.dtype != np.bool_ and not np.isin(starts, (0, 1)).all():
        odd = starts[~np.isin(starts, (0, 1))][0]
        raise UserError(f"episode_start must be booleans or 0/1 (1: the observation starts an episode), got {odd}")
    return starts.astype(np.float32)


def _segments(resets: th.Tensor | None, length: int) -> list[tuple[int, int, th.Tensor | None]]:
    """Split ``[0, length)`` at the steps where any sample resets.

    :param resets: ``[B, T]`` bool or None.
    :param length: T.
    :return: ``(start, end, keep)`` per segment; ``keep`` is the ``[B]`` float mask applied to
        the state before ``start`` (None: nothing resets there).
    """
    if resets is None:
        return [(0, length, None)]
    resets = resets.bool()
    starts = th.nonzero(resets.any(dim=0)).flatten().tolist()
    bounds = sorted(set([0, *starts]))
    out = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else length
        keep = (~resets[:, start]).to(th.float32) if start in starts else None
        out.append((start, end, keep))
    return out


class _TorchRNNSequence(nn.Module):
    """Shared unroll of the fused ``torch.nn`` recurrent layers, with resets inside a sequence.

    The sequence is cut at the steps where any sample resets, and each piece runs through the
    native kernel in one call, so a chunk with no episode start costs one kernel call.
    """

    rnn: nn.LSTM | nn.GRU

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.output_size = hidden_size
        self.motor_size = hidden_size

    @property
    def state_size(self) -> int:
        """:return: the size of the one state tensor."""
        raise NotImplementedError

    def _split(self, hx: th.Tensor) -> Any:
        raise NotImplementedError

    def _join(self, state: Any) -> th.Tensor:
        raise NotImplementedError

    def forward(
        self,
        x: th.Tensor,
        hx: th.Tensor | None = None,
        timespans: th.Tensor | float | None = None,
        resets: th.Tensor | None = None,
    ) -> tuple[th.Tensor, th.Tensor]:
        """Unroll over a batch of sequences.

        :param x: ``[B, T, F]``.
        :param hx: ``[B, S]`` or None (zeros).
        :param timespans: ignored (discrete time).
        :param resets: ``[B, T]`` bool or None.
        :return: ``y [B, T, H]``, ``h_last [B, S]``.
        """
        if hx is None:
            hx = x.new_zeros(x.shape[0], self.state_size)
        state = self._split(hx)
        outputs = []
        for start, end, keep in _segments(resets, x.shape[1]):
            if keep is not None:
                state = tuple(s * keep.view(1, -1, 1) for s in state) if isinstance(state, tuple) else state * keep.view(1, -1, 1)
            y, state = self.rnn(x[:, start:end], state)
            outputs.append(y)
        y = outputs[0] if len(outputs) == 1 else th.cat(outputs, dim=1)
        return y, self._join(state)

    def config(self) -> dict[str, Any]:
        """:return: the constructor arguments."""
        return {"input_size": self.input_size, "hidden_size": self.hidden_size}


class LSTMSequence(_TorchRNNSequence):
    """``torch.nn.LSTM`` behind the sequence interface; the state is ``[h | c]`` (``S = 2H``).

    :param input_size: F.
    :param hidden_size: H.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.rnn = nn.LSTM(input_size, hidden_size, batch_first=True)

    @property
    def state_size(self) -> int:
        """:return: ``2 H``."""
        return 2 * self.hidden_size

    def _split(self, hx: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        h, c = hx[:, : self.hidden_size], hx[:, self.hidden_size :]
        return h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def _join(self, state: tuple[th.Tensor, th.Tensor]) -> th.Tensor:
        return th.cat([state[0][0], state[1][0]], dim=-1)


class GRUSequence(_TorchRNNSequence):
    """``torch.nn.GRU`` behind the sequence interface (``S = H``).

    :param input_size: F.
    :param hidden_size: H.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.rnn = nn.GRU(input_size, hidden_size, batch_first=True)

    @property
    def state_size(self) -> int:
        """:return: H."""
        return self.hidden_size

    def _split(self, hx: th.Tensor) -> th.Tensor:
        return hx.unsqueeze(0).contiguous()

    def _join(self, state: th.Tensor) -> th.Tensor:
        return state[0]


class MLPSequence(nn.Module):
    """A feed-forward network behind the sequence interface: no state (``S = 0``).

    :param input_size: F.
    :param net_arch: hidden layer sizes.
    :param activation_fn: activation between layers.
    """

    state_size = 0

    def __init__(self, input_size: int, net_arch: list[int], activation_fn: type[nn.Module] = nn.Tanh) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        last = input_size
        for width in net_arch:
            layers += [nn.Linear(last, width), activation_fn()]
            last = width
        self.net = nn.Sequential(*layers)
        self.input_size = input_size
        self.output_size = last
        self.motor_size = last

    def forward(
        self,
        x: th.Tensor,
        hx: th.Tensor | None = None,
        timespans: th.Tensor | float | None = None,
        resets: th.Tensor | None = None,
    ) -> tuple[th.Tensor, th.Tensor]:
        """:param x: ``[B, T, F]``. :return: ``y [B, T, H]`` and an empty ``[B, 0]`` state."""
        empty = x.new_zeros(x.shape[0], 0) if hx is None else hx
        return self.net(x), empty


def size_of(model: nn.Module, name: str) -> int:
    """:return: an integer size attribute (``state_size``, ``output_size``...) of a sequence model."""
    return int(getattr(model, name))


def make_liquid(network: str, input_size: int, units_or_wiring: Any, cell_kwargs: dict[str, Any]) -> nn.Module:
    """Build a liquid sequence model of :mod:`ncp_control`.

    :param network: ``"cfc"``, ``"ltc"`` or ``"ctrnn"``.
    :param input_size: F.
    :param units_or_wiring: number of units (unwired) or a ``Wiring``.
    :param cell_kwargs: the cell's options (``mode``, ``ode_unfolds``, ``mixed_memory``, ...).
    :return: the model.
    """
    import ncp_control

    cls = getattr(ncp_control, {"cfc": "CfC", "ltc": "LTC", "ctrnn": "CTRNN"}[network])
    try:
        return cls(input_size, units_or_wiring, **cell_kwargs)
    except TypeError as error:
        raise UserError(f"cell_kwargs {sorted(cell_kwargs)} do not fit {network!r}: {error}") from error


def make_sequence_model(
    network: str,
    input_size: int,
    units_or_wiring: Any,
    cell_kwargs: dict[str, Any] | None = None,
    net_arch: list[int] | None = None,
    activation_fn: type[nn.Module] = nn.Tanh,
) -> nn.Module:
    """Build any network behind the sequence interface.

    :param network: one of :data:`NETWORKS`.
    :param input_size: F.
    :param units_or_wiring: units (LSTM/GRU hidden size, liquid units) or a ``Wiring`` (liquid).
    :param cell_kwargs: liquid cell options.
    :param net_arch: MLP hidden layers.
    :param activation_fn: MLP activation.
    :return: the model, with ``state_size`` and ``output_size``.
    """
    if network in LIQUID_NETWORKS:
        return make_liquid(network, input_size, units_or_wiring, dict(cell_kwargs or {}))
    if cell_kwargs:
        raise UserError(f"cell_kwargs are for the liquid networks {LIQUID_NETWORKS}, not {network!r}")
    if network == "lstm":
        return LSTMSequence(input_size, int(units_or_wiring))
    if network == "gru":
        return GRUSequence(input_size, int(units_or_wiring))
    if network == "mlp":
        return MLPSequence(input_size, list(net_arch or [64, 64]), activation_fn)
    raise UserError(f"network must be one of {NETWORKS}, got {network!r}")
