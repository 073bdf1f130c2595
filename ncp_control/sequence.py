"""The shared sequence model: validates inputs and unrolls any :class:`LiquidCell` over time."""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.errors import UserError

#: ``fn(model, x [B,T,F], h [B,S], ts [B,T], resets [B,T] | None) -> (y [B,T,M], h_last [B,S])``
UnrollFn = Callable[
    ["LiquidRNN", torch.Tensor, torch.Tensor, torch.Tensor, "torch.Tensor | None"],
    tuple[torch.Tensor, torch.Tensor],
]

#: ``fn(model, x, hx, timespan) -> (y [B,T,M], h_last [B,S])`` or None (see :func:`register_unroll`)
InferFn = Callable[["LiquidRNN", Any, Any, float], "tuple[torch.Tensor, torch.Tensor] | None"]

#: unroll implementations besides ``"reference"``, by name (see :func:`register_unroll`)
UNROLLS: dict[str, UnrollFn] = {}
#: their no-grad shortcuts, by name
INFERS: dict[str, InferFn] = {}


def register_unroll(name: str, fn: UnrollFn, infer: InferFn | None = None) -> None:
    """Make ``implementation=name`` available to every sequence model.

    An implementation must give the outputs of :meth:`LiquidRNN.unroll_reference` (to float
    rounding) for the models it supports, and may defer to it for the others.

    :param name: the implementation's name (not ``"reference"``).
    :param fn: ``fn(model, x, h, ts, resets) -> (y, h_last)`` with batch-first tensors.
    :param infer: optional shortcut for the control loop, tried before any validation when
        autograd is off, the model is batch-first, there are no resets and the timespan is
        None (1.0) or a float: ``infer(model, x, hx, timespan)`` receives ``forward``'s own
        ``x`` and ``hx`` and returns ``(y [B, T, M], h_last [B, S])``, or None for any input
        it does not fully check itself (the validated path then runs, errors included).
    """
    if name == "reference":
        raise UserError("implementation name 'reference' is reserved for the per-step loop")
    UNROLLS[name] = fn
    if infer is None:
        INFERS.pop(name, None)
    else:
        INFERS[name] = infer


def resolve_unroll(name: str) -> UnrollFn | None:
    """:param name: ``"reference"`` or a registered implementation (``"fast"`` is imported from
        ``ncp_control.fast`` on first use).
    :return: the registered function, or ``None`` for the reference loop.
    :raises ValueError: for an unknown name."""
    if name == "reference":
        return None
    if name not in UNROLLS and name == "fast":
        try:
            importlib.import_module("ncp_control.fast")
        except ImportError:
            pass
    if name not in UNROLLS:
        raise UserError(f"implementation must be 'reference' or one of {sorted(UNROLLS)}, got {name!r}")
    return UNROLLS[name]


def _finite_non_negative(ts: torch.Tensor) -> bool:
    """:return: whether every entry of a non-empty tensor is finite and >= 0 (one reduction:
        NaN propagates into both extremes; the usual elementwise checks cost several times more
        on the one-step control path)."""
    low, high = torch.aminmax(ts.detach())
    return bool(low.item() >= 0.0 and high.item() < math.inf)  # .item(): a tensor comparison costs 3 us


_NUMPY_FLOATS = (torch.float32, torch.float64)


def _finite(t: torch.Tensor) -> bool:
    """:return: whether every entry of ``t`` is finite (one sum, in numpy on the CPU: half the
        cost of torch's on a one-step call; only a non-finite sum, which an overflow of huge
        finite values can give too, is looked at entry by entry)."""
    if t.requires_grad:
        t = t.detach()
    if t.is_cpu and t.dtype in _NUMPY_FLOATS:
        total = float(t.numpy().sum())
    else:
        total = t.sum().item()
    return math.isfinite(total) or bool(torch.isfinite(t).all())


#: ``fn(x [B,T,F], h [B,S]) -> bool`` on float32 numpy arrays: whether both are finite; a
#: compiled one is installed by :mod:`ncp_control.fast` (see :func:`register_finite_check`)
_FINITE_CHECK: Callable[[Any, Any], bool] | None = None
_NO_STATE = torch.zeros(0, 0)


def register_finite_check(fn: Callable[[Any, Any], bool]) -> None:
    """Install a faster check of the inputs and state (``fn(x, h) -> bool`` on float32 numpy
    arrays ``[B, T, F]`` and ``[B, S]``, which may be strided); the numpy sums of
    :func:`_finite` cost about 7 us per one-step call, a compiled loop under one.

    :param fn: the check.
    """
    global _FINITE_CHECK
    _FINITE_CHECK = fn


def _inputs_finite(x: torch.Tensor, h: torch.Tensor | None) -> bool:
    """:return: whether ``x`` and ``h`` (None: not checked) are finite everywhere."""
    check = _FINITE_CHECK
    if check is not None and x.dtype == torch.float32 and x.is_cpu and (
            h is None or (h.dtype == torch.float32 and h.is_cpu and h.dim() == 2)):
        x_np = (x.detach() if x.requires_grad else x).numpy()
        h_np = (_NO_STATE if h is None else h.detach() if h.requires_grad else h).numpy()
        return bool(check(x_np, h_np))
    return _finite(x) and (h is None or _finite(h))


class LiquidRNN(nn.Module):
    """Runs a cell over a sequence: ``forward(x, hx=None, timespans=None, resets=None)``.

    Subclasses (:class:`~ncp_control.CfC`, :class:`~ncp_control.LTC`, :class:`~ncp_control.CTRNN`)
    build :attr:`cell` and describe themselves in :meth:`config`. All sequences go through
    :meth:`_unroll`, which a faster implementation may override without changing outputs;
    :meth:`unroll_reference` is the plain per-step loop.

    :param cell: the one-step cell.
    :param return_sequences: return every step's output (``[B, T, M]``) or only the last (``[B, M]``).
    :param batch_first: inputs are ``[B, T, F]`` (else ``[T, B, F]``; timespans and resets
        then are ``[T, B]`` too).
    :param implementation: ``"fast"`` (default: compiled kernels where they apply, else the
        per-step loop), ``"reference"`` (the per-step loop) or another registered unroll with
        the same outputs (see :func:`register_unroll`).
    """

    _implementation: str
    _unroll_fn: UnrollFn | None
    _infer_fn: InferFn | None = None

    def __init__(
        self,
        cell: LiquidCell,
        return_sequences: bool = True,
        batch_first: bool = True,
        implementation: str = "fast",
    ) -> None:
        super().__init__()
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.batch_first = bool(batch_first)
        self.implementation = implementation

    @property
    def implementation(self) -> str:
        """Name of the unroll in use (``"reference"`` or a registered one); settable."""
        return self._implementation

    @implementation.setter
    def implementation(self, name: str) -> None:
        self._unroll_fn = resolve_unroll(name)
        self._infer_fn = INFERS.get(name)
        self._implementation = name

    # ------------------------------------------------------------ properties
    # (the cell is read from ``_modules`` directly: ``nn.Module.__getattr__`` costs about a
    # microsecond per lookup, which counts on the one-step control path)
    @property
    def input_size(self) -> int:
        """Number of input features F."""
        cell: Any = self._modules["cell"]
        return int(cell.input_size)

    @property
    def state_size(self) -> int:
        """Size S of the state tensor (mixed memory included)."""
        cell: Any = self._modules["cell"]
        return int(cell.state_size)

    @property
    def motor_size(self) -> int:
        """Number of motor neurons (the first entries of the state)."""
        cell: Any = self._modules["cell"]
        return int(cell.motor_size)

    @property
    def output_size(self) -> int:
        """Size M of each output step."""
        cell: Any = self._modules["cell"]
        return int(cell.output_size)

    def config(self) -> dict[str, Any]:
        """:return: a JSON-serialisable dict from which :func:`~ncp_control.model_from_config`
        rebuilds an equal model (without weights)."""
        raise NotImplementedError

    def _live_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """:param config: the constructor arguments.
        :return: a copy with the settable attributes as they are now."""
        return dict(
            config,
            return_sequences=self.return_sequences,
            batch_first=self.batch_first,
            implementation=self.implementation,
        )

    # ---------------------------------------------------------------- forward
    def forward(
        self,
        x: torch.Tensor,
        hx: torch.Tensor | None = None,
        timespans: float | torch.Tensor | None = None,
        resets: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the cell over the sequence.

        :param x: inputs ``[B, T, F]`` (``[T, B, F]`` if not ``batch_first``) or unbatched ``[T, F]``.
        :param hx: initial state ``[B, S]`` (unbatched: ``[S]``); ``None``: zeros.
        :param timespans: elapsed time per step: ``None`` (1.0), a float, ``[B]``, ``[B, T]``
            or ``[B, T, 1]`` (unbatched: ``[T]`` or ``[T, 1]``); finite and >= 0.
        :param resets: ``[B, T]`` booleans (unbatched: ``[T]``): zero that sample's state
            before that step.
        :return: ``(y, h_last)``: ``y`` is ``[B, T, M]`` (``[B, M]`` without
            ``return_sequences``; batch dimension dropped for unbatched input) and
            ``h_last`` is ``[B, S]``.
        :raises ValueError: on inputs of the wrong shape or non-finite timespans.
        """
        if self._infer_fn is not None and resets is None and self.batch_first and not torch.is_grad_enabled():
            quick = self._infer_quickly(x, hx, timespans)
            if quick is not None:
                return quick
        unbatched = isinstance(x, torch.Tensor) and x.dim() == 2
        x, h, ts, rs = self._prepare(x, hx, timespans, resets)
        y, h_last = self._unroll(x, h, ts, rs)
        if not self.return_sequences:
            y = y[:, -1]
        elif not self.batch_first and not unbatched:
            y = y.transpose(0, 1)
        if unbatched:
            return y[0], h_last[0]
        return y, h_last

    def _infer_quickly(
        self, x: Any, hx: Any, timespans: float | torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The implementation's no-grad shortcut (see :func:`register_unroll`) for a timespan of
        None or a finite float >= 0; None where it does not apply."""
        if timespans is None:
            timespan = 1.0
        elif type(timespans) is float and 0.0 <= timespans < math.inf:
            timespan = timespans
        else:
            return None
        assert self._infer_fn is not None
        out = self._infer_fn(self, x, hx, timespan)
        if out is None:
            return None
        y, h_last = out
        return (y if self.return_sequences else y[:, -1]), h_last

    def _unroll(
        self, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, resets: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Unroll the cell with the selected implementation (override, or register one with
        :func:`register_unroll`, for a faster path with identical outputs).

        :param x: inputs ``[B, T, F]``.
        :param h: initial state ``[B, S]``.
        :param ts: elapsed times ``[B, T]``.
        :param resets: ``[B, T]`` bool or ``None``.
        :return: ``(y [B, T, M], h_last [B, S])``.
        """
        if self._unroll_fn is not None:
            return self._unroll_fn(self, x, h, ts, resets)
        return self.unroll_reference(x, h, ts, resets)

    def unroll_reference(
        self, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor, resets: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The plain per-step loop, the reference that every registered unroll must equal.

        :param x: inputs ``[B, T, F]``.
        :param h: initial state ``[B, S]``.
        :param ts: elapsed times ``[B, T]``.
        :param resets: ``[B, T]`` bool (zero that sample's state before that step) or ``None``.
        :return: ``(y [B, T, M], h_last [B, S])``.
        """
        cell = self.cell
        outputs = []
        for t in range(x.shape[1]):
            if resets is not None:
                h = h.masked_fill(resets[:, t, None], 0.0)
            y, h = cell(x[:, t], h, ts[:, t])
            outputs.append(y)
        return torch.stack(outputs, 1), h

    # ------------------------------------------------------------- validation
    def _prepare(
        self,
        x: torch.Tensor,
        hx: torch.Tensor | None,
        timespans: float | torch.Tensor | None,
        resets: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Check shapes and bring everything to batch-first ``x [B,T,F]``, ``h [B,S]``,
        ``ts [B,T]``, ``resets [B,T]`` (bool) or ``None``."""
        features = self.input_size
        layout = "[B, T, F]" if self.batch_first else "[T, B, F]"
        if not isinstance(x, torch.Tensor) or x.dim() not in (2, 3) or x.shape[-1] != features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise UserError(f"x must have shape {layout} or [T, F] with F = {features}, got {shape}")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(0)
        elif not self.batch_first:
            x = x.transpose(0, 1)
        batch, steps = x.shape[0], x.shape[1]
        if steps == 0:
            raise UserError("x must have at least one time step (T >= 1)")
        if batch == 0:
            raise UserError("x must have at least one sample (B >= 1), got an empty batch")
        self._check_dtype("x", x)
        h = self._prepare_state(hx, batch, unbatched, x)
        if not _inputs_finite(x, None if hx is None else h):
            if not _finite(x):
                raise UserError("x must be finite: it has NaN or inf entries (check the observations)")
            raise UserError("hx must be finite: it has NaN or inf entries (pass the state the model returned, or None)")
        ts = self._prepare_timespans(timespans, batch, steps, unbatched, x)
        rs = self._prepare_resets(resets, batch, steps, unbatched, x)
        return x, h, ts, rs

    def _prepare_state(
        self, hx: torch.Tensor | None, batch: int, unbatched: bool, x: torch.Tensor
    ) -> torch.Tensor:
        size = self.state_size
        if hx is None:
            return torch.zeros(batch, size, device=x.device, dtype=x.dtype)
        expected = (size,) if unbatched else (batch, size)
        if not isinstance(hx, torch.Tensor) or tuple(hx.shape) != expected:
            got = tuple(hx.shape) if isinstance(hx, torch.Tensor) else type(hx).__name__
            name = "[S]" if unbatched else "[B, S]"
            raise UserError(f"hx must have shape {name} = {list(expected)} (state_size {size}), got {got}")
        if hx.dtype != x.dtype:
            raise UserError(f"hx must have the dtype of x ({x.dtype}), got {hx.dtype}: convert it with hx.to(x.dtype)")
        return hx.unsqueeze(0) if unbatched else hx

    def _check_dtype(self, name: str, x: torch.Tensor) -> None:
        """Refuse inputs whose dtype is not the parameters' (the cells would fail deep inside or
        silently compute in another precision)."""
        dtype = self.__dict__.get("_param_dtype")
        if dtype is None:  # looking up a parameter costs microseconds: once, until _apply
            reference = next(self.parameters(), None)
            dtype = self.__dict__["_param_dtype"] = x.dtype if reference is None else reference.dtype
        if x.dtype == dtype:
            return
        if not x.dtype.is_floating_point:
            raise UserError(f"{name} must be a float tensor of the model's dtype {dtype}, got {x.dtype}")
        raise UserError(
            f"{name} has dtype {x.dtype} but the model's parameters are {dtype}: pass "
            f"{name}.to({dtype}) or convert the model with model.to({x.dtype})"
        )

    def _apply(self, *args: Any, **kwargs: Any) -> Any:
        """``nn.Module._apply`` (``.to``, ``.double``, ...), forgetting the cached parameter dtype."""
        self.__dict__.pop("_param_dtype", None)
        return super()._apply(*args, **kwargs)

    def _prepare_timespans(
        self, timespans: float | torch.Tensor | None, batch: int, steps: int, unbatched: bool, x: torch.Tensor
    ) -> torch.Tensor:
        if timespans is None:
            return torch.ones(batch, steps, device=x.device, dtype=x.dtype)
        if unbatched:
            allowed = f"a float, [T] or [T, 1] with T = {steps}"
        elif self.batch_first:
            allowed = f"a float, [B], [B, T] or [B, T, 1] with B = {batch}, T = {steps}"
        else:
            allowed = f"a float, [B], [T, B] or [T, B, 1] with B = {batch}, T = {steps}"
        ts = torch.as_tensor(timespans, device=x.device, dtype=x.dtype)
        shape = tuple(ts.shape)
        if ts.dim() == 3 and shape[-1] == 1:
            ts = ts[..., 0]
        if ts.dim() == 0:
            ts = ts.expand(batch, steps)
        elif unbatched:
            if ts.dim() == 2 and ts.shape[-1] == 1:
                ts = ts[:, 0]
            if tuple(ts.shape) != (steps,):
                raise UserError(f"timespans must be {allowed}, got shape {shape}")
            ts = ts.unsqueeze(0)
        elif ts.dim() == 1 and shape == (batch,):
            ts = ts.unsqueeze(1).expand(batch, steps)
        elif ts.dim() == 2 and tuple(ts.shape) == ((batch, steps) if self.batch_first else (steps, batch)):
            ts = ts if self.batch_first else ts.transpose(0, 1)
        else:
            raise UserError(f"timespans must be {allowed}, got shape {shape}")
        if ts.numel() and not _finite_non_negative(ts):
            raise UserError("timespans must be finite and >= 0")
        return ts

    def _prepare_resets(
        self, resets: torch.Tensor | None, batch: int, steps: int, unbatched: bool, x: torch.Tensor
    ) -> torch.Tensor | None:
        if resets is None:
            return None
        rs = torch.as_tensor(resets, device=x.device)
        expected: tuple[int, ...]
        if unbatched:
            expected, name = (steps,), f"[T] = [{steps}]"
        elif self.batch_first:
            expected, name = (batch, steps), f"[B, T] = [{batch}, {steps}]"
        else:
            expected, name = (steps, batch), f"[T, B] = [{steps}, {batch}]"
        if tuple(rs.shape) != expected:
            raise UserError(f"resets must have shape {name}, got {tuple(rs.shape)}")
        if rs.dtype != torch.bool:
            odd = rs[(rs != 0) & (rs != 1)]
            if odd.numel():
                raise UserError(f"resets must be booleans or 0/1 (1: an episode starts), got {odd[0].item()}")
        rs = rs.bool()
        if unbatched:
            return rs.unsqueeze(0)
        return rs if self.batch_first else rs.transpose(0, 1)
