"""The compiled sequence path equals the per-step loop: outputs and gradients with respect to
inputs, initial state and every parameter, for every cell, mode and wiring, with per-sample
timespans (zeros included) and resets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ncp_control import CTRNN, LTC, AutoNCP, CfC, FullyConnected, Random
from ncp_control.fast import available, fast_unroll, quick_infer
from ncp_control.sequence import LiquidRNN

pytestmark = pytest.mark.skipif(not available(), reason="the 'fast' extra (numba) is not installed")

B, T, F = 3, 9, 5


def _inputs(seed: int, state_size: int, batch: int = B) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, T, F, generator=gen)
    h0 = 0.5 * torch.randn(batch, state_size, generator=gen)
    ts = 2.0 * torch.rand(batch, T, generator=gen)
    ts[0, 2] = 0.0
    ts[min(1, batch - 1), 5] = 7.5
    resets = torch.zeros(batch, T, dtype=torch.bool)
    resets[min(1, batch - 1), 4] = resets[min(2, batch - 1), 0] = True
    return x, h0, ts, resets


def _run(model: LiquidRNN, implementation: str, seed: int = 0, batch: int = B) -> tuple[list[torch.Tensor], ...]:
    model.implementation = implementation
    x, h0, ts, resets = _inputs(seed, model.state_size, batch)
    x.requires_grad_(True)
    h0.requires_grad_(True)
    y, h_last = model(x, h0, ts, resets)
    weights = torch.linspace(-1.0, 1.0, y.numel()).reshape(y.shape)
    loss = (y * weights).sum() + (h_last * h_last).sum()
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, [x, h0, *params])
    return [y, h_last], list(grads)


def assert_same(a: list[torch.Tensor], b: list[torch.Tensor], tol: float = 1e-5) -> None:
    """Equal to ``tol``, relative to each tensor's largest entry where that exceeds 1."""
    assert len(a) == len(b)
    for got, want in zip(a, b):
        scale = max(1.0, float(want.detach().abs().max()))
        diff = float((got - want).detach().abs().max())
        assert diff <= tol * scale, diff


def check(model: LiquidRNN, seed: int = 0, batch: int = B) -> None:
    torch.manual_seed(seed)
    for p in model.parameters():  # move away from the initial values (zeros, ones)
        p.data.add_(0.1 * torch.randn_like(p))
    out_ref, grad_ref = _run(model, "reference", seed, batch)
    out_fast, grad_fast = _run(model, "fast", seed, batch)
    assert_same(out_fast, out_ref)
    assert_same(grad_fast, grad_ref)


def _assert_fast_used(model: LiquidRNN) -> None:
    x, h0, ts, resets = _inputs(1, model.state_size)
    assert fast_unroll(model, x, h0, ts, resets) is not None


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
@pytest.mark.parametrize("backbone_layers", [0, 1])
def test_cfc_unwired(mode: str, backbone_layers: int) -> None:
    model = CfC(F, 6, mode=mode, backbone_units=7, backbone_layers=backbone_layers)
    _assert_fast_used(model)
    check(model)


@pytest.mark.parametrize("timespan", [None, 0.5, 0.0])
def test_cfc_one_timespan_merges_time_heads(timespan: float | None) -> None:
    """One timespan for the whole batch: the time gate's heads are merged before the
    kernels; outputs and gradients of both time heads still equal the loop's."""
    from ncp_control.fast.cfc.params import layer_layout, layer_params, pack

    cell = CfC(F, 4).cell
    for timespan_, heads in ((0.5, 3), (None, 4)):
        packed = pack(layer_layout(cell, timespan_), cell.sparsity_mask, layer_params(cell))
        assert packed[3].shape[1] == heads * 4  # [G, K]
    for model in (
        CfC(F, 6, backbone_units=7),
        CfC(F, 6, mode="no_gate", backbone_layers=0),
        CfC(F, AutoNCP(10, 2, seed=3)),
    ):
        torch.manual_seed(0)
        for p in model.parameters():
            p.data.add_(0.1 * torch.randn_like(p))
        results = []
        for implementation in ("reference", "fast"):
            model.implementation = implementation
            x = torch.randn(B, T, F, generator=torch.Generator().manual_seed(1), requires_grad=True)
            y, h_last = model(x, None, timespan)
            loss = (y * torch.linspace(-1.0, 1.0, y.numel()).reshape(y.shape)).sum() + h_last.square().sum()
            results.append([y, h_last, *torch.autograd.grad(loss, [x, *model.parameters()])])
        assert_same(results[1], results[0])


@pytest.mark.parametrize("activation", ["tanh", "relu", "silu", "gelu"])
def test_cfc_backbone_activations(activation: str) -> None:
    check(CfC(F, 4, activation=activation, backbone_units=6, proj_size=2))


@pytest.mark.parametrize("mode", ["default", "no_gate", "pure"])
def test_cfc_wired(mode: str) -> None:
    model = CfC(F, AutoNCP(10, 2, seed=3), mode=mode)
    _assert_fast_used(model)
    check(model)


def test_cfc_wired_projection_and_single_layer_wiring() -> None:
    check(CfC(F, AutoNCP(9, 3, seed=1), proj_size=2))
    check(CfC(F, Random(7, 3, sparsity_level=0.4, random_seed=2)))


@pytest.mark.parametrize("implicit", [True, False])
@pytest.mark.parametrize("wiring", ["ncp", "full"])
def test_ltc_semi_implicit(implicit: bool, wiring: str) -> None:
    w = AutoNCP(10, 3, seed=5) if wiring == "ncp" else FullyConnected(6, 2)
    model = LTC(F, w, implicit_param_constraints=implicit)
    _assert_fast_used(model)
    check(model)


@pytest.mark.parametrize("batch", [1, 2, 7, 8, 21])
def test_ltc_every_batch_size(batch: int) -> None:
    """Small batches take the edge-vectorised synapse pass, large ones the batch-vectorised
    one: both equal the loop, with and without gradients."""
    from ncp_control.fast.ltc.kernels import STAGED_BELOW_BATCH

    assert 2 < STAGED_BELOW_BATCH <= 8
    for wiring in (AutoNCP(10, 3, seed=5), FullyConnected(6, 2)):
        model = LTC(F, wiring)
        check(model, batch=batch)
        x, h0, ts, resets = _inputs(4, model.state_size, batch)
        with torch.no_grad():
            model.implementation = "reference"
            ref = model(x, h0, ts, resets)
            model.implementation = "fast"
            assert_same(list(model(x, h0, ts, resets)), list(ref))


def test_ltc_mappings_and_unfolds() -> None:
    check(LTC(F, AutoNCP(8, 2, seed=7), input_mapping="linear", output_mapping=None, ode_unfolds=3))
    check(LTC(F, AutoNCP(8, 2, seed=7), input_mapping=None, output_mapping="linear", ode_unfolds=1))


def test_dense_and_sparse_synapses_agree() -> None:
    from ncp_control.fast.ltc import ltc_semi_implicit_sequence

    model = LTC(F, AutoNCP(12, 3, seed=4))
    x, h0, ts, resets = _inputs(2, model.state_size)
    keep = (~resets).float()
    sparse = ltc_semi_implicit_sequence(model.cell, x, h0, ts, keep, sparse=True)
    dense = ltc_semi_implicit_sequence(model.cell, x, h0, ts, keep, sparse=False)
    assert_same([sparse], [dense])


def test_unsupported_models_fall_back_to_the_loop() -> None:
    for model in (
        CfC(F, 6, mixed_memory=True),
        LTC(F, AutoNCP(8, 2, seed=1), solver="rk4"),
        CTRNN(F, AutoNCP(8, 2, seed=1), solver="euler"),
        CfC(F, 6, backbone_layers=2),
    ):
        x, h0, ts, resets = _inputs(0, model.state_size)
        assert fast_unroll(model, x, h0, ts, resets) is None
        check(model)
    model64 = CfC(F, 6).double()
    model64.implementation = "fast"
    x = torch.randn(B, T, F, dtype=torch.float64)
    assert (
        fast_unroll(
            model64, x, torch.zeros(B, 6, dtype=torch.float64), torch.ones(B, T, dtype=torch.float64), None
        )
        is None
    )
    y, _ = model64(x)
    model64.implementation = "reference"
    assert torch.equal(y, model64(x)[0])
    # float32 inputs, but a parameter the kernels would read, or the output map's, is not
    wired, unwired = CfC(F, AutoNCP(10, 2, seed=3), proj_size=2), CfC(F, 6)
    wired.cell.fc.double()
    unwired.cell.time_a.double()
    for model in (wired, unwired):
        x, h0, ts, resets = _inputs(0, model.state_size)
        assert fast_unroll(model, x, h0, ts, resets) is None


def test_no_grad_and_single_step_match() -> None:
    models = (
        CfC(F, AutoNCP(10, 2, seed=3)),
        CfC(F, AutoNCP(10, 2, seed=3), mode="pure", proj_size=3),
        CfC(F, 5),
        CfC(F, 5, mode="no_gate", backbone_layers=0),
        CfC(F, 5, mode="pure", activation="gelu"),
        CfC(F, 5, activation="silu", proj_size=2),
        LTC(F, AutoNCP(10, 2, seed=3)),
        LTC(F, FullyConnected(6, 2), implicit_param_constraints=False, input_mapping="linear"),
    )
    for model in models:
        torch.manual_seed(0)
        for p in model.parameters():
            p.data.add_(0.1 * torch.randn_like(p))
        x, h0, ts, resets = _inputs(3, model.state_size)
        with torch.no_grad():
            model.implementation = "reference"
            ref = model(x, h0, ts, resets)
            step_ref = model(x[:1, :1], h0[:1], ts[:1, :1])
            batch_step_ref = model(x[:, :1], h0, ts[:, :1], resets[:, :1])
            plain_ref = model(x, h0, ts)
            model.implementation = "fast"
            fast = model(x, h0, ts, resets)
            step_fast = model(x[:1, :1], h0[:1], ts[:1, :1])
            batch_step_fast = model(x[:, :1], h0, ts[:, :1], resets[:, :1])
            plain_fast = model(x, h0, ts)
        assert_same(list(fast), list(ref))
        assert_same(list(step_fast), list(step_ref))
        assert_same(list(batch_step_fast), list(batch_step_ref))
        assert_same(list(plain_fast), list(plain_ref))


def test_frozen_models_with_autograd_on_match() -> None:
    """Grad mode on but nothing requires grad: the kernels run without saving (work blocks
    instead of saved activations) and still equal the loop."""
    for model in (CfC(F, 6, backbone_units=7), CfC(F, 6, activation="silu"), CfC(F, AutoNCP(10, 2, seed=3))):
        for p in model.parameters():
            p.requires_grad_(False)
        x, h0, ts, resets = _inputs(5, model.state_size)
        model.implementation = "reference"
        ref = model(x, h0, ts, resets)
        model.implementation = "fast"
        assert_same(list(model(x, h0, ts, resets)), list(ref))


def test_control_loop_shortcut_matches_the_loop() -> None:
    models = (
        CfC(F, AutoNCP(10, 2, seed=3)),
        CfC(F, AutoNCP(10, 2, seed=3), proj_size=3),
        CfC(F, 5),
        CfC(F, 5, mode="pure", return_sequences=False),
        LTC(F, AutoNCP(10, 2, seed=3)),
        LTC(F, FullyConnected(6, 2), input_mapping="linear", return_sequences=False),
    )
    for model in models:
        torch.manual_seed(0)
        for p in model.parameters():
            p.data.add_(0.1 * torch.randn_like(p))
        x, h0, _, _ = _inputs(4, model.state_size)
        for xx, hx, timespan in ((x, h0, None), (x[:1, :1], h0[:1], 0.3), (x[:, :1], None, 2.0), (x, None, 0.0)):
            with torch.no_grad():
                model.implementation = "reference"
                ref = model(xx, hx, timespan)
                model.implementation = "fast"
                assert quick_infer(model, xx, hx, 1.0 if timespan is None else timespan) is not None
                got = model(xx, hx, timespan)
            assert_same(list(got), list(ref))
        with torch.no_grad():  # the shared zero state and timespans stay untouched
            first = model(x)[0].clone()
            model(x, h0, 0.7)
            assert torch.equal(model(x)[0], first)


def test_control_loop_shortcut_declines_what_it_does_not_check() -> None:
    model = CfC(F, AutoNCP(10, 2, seed=3))
    x = torch.randn(B, T, F)
    with torch.no_grad():
        assert quick_infer(model, x.double(), None, 1.0) is None
        assert quick_infer(model, x.requires_grad_(True), None, 1.0) is None
        x.requires_grad_(False)
        assert quick_infer(model, x[0], None, 1.0) is None
        assert quick_infer(model, x[..., :2], None, 1.0) is None
        assert quick_infer(model, x, torch.zeros(B, 99), 1.0) is None
        assert quick_infer(LTC(F, AutoNCP(10, 2, seed=3), solver="euler"), x, None, 1.0) is None
        assert quick_infer(CTRNN(F, AutoNCP(10, 2, seed=3)), x, None, 1.0) is None
        with pytest.raises(ValueError, match="hx must have shape"):
            model(x, torch.zeros(B, 99))
        with pytest.raises(ValueError, match="finite and >= 0"):
            model(x, None, float("nan"))
        with pytest.raises(ValueError, match="x must have shape"):
            model(x[..., :2])
        model.implementation = "reference"
        ref = model(x[0], None, 0.5)
        model.implementation = "fast"
        assert_same(list(model(x[0], None, 0.5)), list(ref))


@pytest.mark.parametrize("implicit", [True, False])
def test_ctrnn_semi_implicit(implicit: bool) -> None:
    model = CTRNN(F, AutoNCP(8, 2, seed=2), implicit_param_constraints=implicit)
    _assert_fast_used(model)
    check(model)
    check(CTRNN(F, FullyConnected(5, 2), ode_unfolds=2))
    with torch.no_grad():
        x = torch.randn(B, T, F)
        model.implementation = "reference"
        ref = model(x)
        model.implementation = "fast"
        assert_same(list(model(x)), list(ref))


@pytest.mark.parametrize("offset", [-1, 0])
def test_backward_products_on_either_side_of_the_untransposed_threshold(offset: int) -> None:
    """From ``UNTRANSPOSED_MIN_ROWS`` samples on, the backward kernels multiply by transposed
    copies of the weights instead of passing MKL's transpose flag; both sides equal the loop."""
    from ncp_control.fast.arrays import UNTRANSPOSED_MIN_ROWS, backward_operand

    batch = UNTRANSPOSED_MIN_ROWS + offset
    check(CfC(F, 6, backbone_units=7), batch=batch)
    check(CfC(F, AutoNCP(10, 3, seed=5), mode="pure"), batch=batch)
    check(CTRNN(F, AutoNCP(8, 2, seed=2)), batch=batch)
    w_t = np.arange(12, dtype=np.float32).reshape(3, 4)
    operand, trans = backward_operand(w_t, batch)
    if offset < 0:
        assert trans and operand is w_t
    else:
        assert not trans and operand.flags.c_contiguous and np.array_equal(operand, w_t.T)


@pytest.mark.parametrize("kind", ["cfc", "ltc"])
def test_no_grad_path_sees_parameter_updates(kind: str) -> None:
    def make(seed: int) -> LiquidRNN:
        torch.manual_seed(seed)
        wiring = AutoNCP(10, 2, seed=3)
        return CfC(F, wiring) if kind == "cfc" else LTC(F, wiring)

    model, other = make(0), make(1)
    x = torch.randn(B, T, F)

    def outputs(m: LiquidRNN, implementation: str) -> torch.Tensor:
        m.implementation = implementation
        with torch.no_grad():
            return m(x)[0]

    before = outputs(model, "fast")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model(x)[0].square().sum().backward()
    optimizer.step()
    after = outputs(model, "fast")
    assert not torch.allclose(before, after)
    assert_same([after], [outputs(model, "reference")])
    model.load_state_dict(other.state_dict())
    assert_same([outputs(model, "fast")], [outputs(other, "reference")])


@pytest.mark.parametrize("mode", ["default", "pure"])
def test_second_backward_through_one_graph(mode: str) -> None:
    """The backbone's backward pass writes over saved gates: a second pass through the same
    graph (retain_graph) still gives the same gradients, equal to the loop's."""
    model = CfC(F, 8, mode=mode)
    torch.manual_seed(5)
    for p in model.parameters():
        p.data.add_(0.1 * torch.randn_like(p))
    params = list(model.parameters())
    x, h0, ts, resets = _inputs(6, model.state_size)
    grads = {}
    for implementation in ("reference", "fast"):
        model.implementation = implementation
        y, h_last = model(x, h0, ts, resets)
        loss = y.square().sum() + h_last.sum()
        first = torch.autograd.grad(loss, params, retain_graph=True)
        second = torch.autograd.grad(loss, params)
        assert all(torch.equal(a, b) for a, b in zip(first, second)), implementation
        grads[implementation] = list(first)
    assert_same(grads["fast"], grads["reference"])


@pytest.mark.parametrize("kind", ["cfc", "cfc_wired", "ltc", "ctrnn"])
def test_second_derivatives_raise_a_clear_error(kind: str) -> None:
    """create_graph=True: the first derivatives are the usual ones; differentiating them
    again says to use the reference implementation (before, LTC's were silently wrong)."""
    wiring = AutoNCP(8, 2, seed=0)
    model = {"cfc": lambda: CfC(F, 8), "cfc_wired": lambda: CfC(F, wiring), "ltc": lambda: LTC(F, wiring)}.get(
        kind, lambda: CTRNN(F, wiring)
    )()
    params = list(model.parameters())
    x = torch.randn(B, T, F, generator=torch.Generator().manual_seed(7))
    plain = torch.autograd.grad(model(x)[0].square().sum(), params)
    grads = torch.autograd.grad(model(x)[0].square().sum(), params, create_graph=True)
    assert all(torch.equal(a, b) for a, b in zip(grads, plain))
    penalty = torch.stack([(g * g).sum() for g in grads]).sum()
    with pytest.raises(RuntimeError, match="implementation = 'reference'"):
        torch.autograd.grad(penalty, params, allow_unused=True)
    model.implementation = "reference"
    grads = torch.autograd.grad(model(x)[0].square().sum(), params, create_graph=True)
    torch.autograd.grad(torch.stack([(g * g).sum() for g in grads]).sum(), params, allow_unused=True)


def test_pooled_buffers_never_shared_with_live_tensors() -> None:
    """Sequences long enough for pooled work arrays, two graphs alive at once: outputs and
    gradients still equal the per-step loop's."""
    from ncp_control.fast import buffers

    buffers.release_buffers()
    model = CfC(F, 32)
    torch.manual_seed(3)
    for p in model.parameters():
        p.data.add_(0.1 * torch.randn_like(p))
    gen = torch.Generator().manual_seed(4)
    xs = [torch.randn(16, 48, F, generator=gen) for _ in range(2)]
    results = {}
    for implementation in ("reference", "fast"):
        model.implementation = implementation
        ys = [model(x)[0] for x in xs]  # both graphs alive before either backward
        grads = [torch.autograd.grad(y.square().sum(), list(model.parameters())) for y in ys]
        results[implementation] = [*ys, *(g for gs in grads for g in gs)]
    assert len(buffers._POOL) > 0
    assert_same(results["fast"], results["reference"])


def test_buffer_reuse_only_when_free() -> None:
    from ncp_control.fast.buffers import MIN_POOLED_BYTES, buffer, release_buffers

    release_buffers()
    shape = (4, MIN_POOLED_BYTES // 16)
    held = torch.from_numpy(buffer(shape))
    other = buffer(shape)
    assert other.ctypes.data != held.numpy().ctypes.data
    address = other.ctypes.data
    del other
    again = buffer(shape)
    assert again.ctypes.data == address
    assert again.shape == shape and again.flags["C_CONTIGUOUS"]


def test_buffer_pool_drops_free_arrays_past_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from ncp_control.fast import buffers

    buffers.release_buffers()
    monkeypatch.setattr(buffers, "POOL_LIMIT_BYTES", 4 * buffers.MIN_POOLED_BYTES)
    rows = buffers.MIN_POOLED_BYTES // 4
    held = buffers.buffer((2, rows))  # in use: stays
    free = buffers.buffer((1, rows))
    del free
    buffers.buffer((1, rows + 64))  # no room: the free array makes way
    sizes = sorted(raw.size for raw, _ in buffers._POOL)
    assert sizes == sorted([2 * rows + buffers.ALIGN - 1, rows + 64 + buffers.ALIGN - 1])
    assert held.base is not None and any(raw is held.base for raw, _ in buffers._POOL)
    buffers.release_buffers()


def test_work_arrays_start_on_64_byte_boundaries() -> None:
    """MKL's small products are slower into outputs off a 64-byte boundary: pooled, small and
    kernel-made work arrays all start on one."""
    from ncp_control.fast.blas import empty_aligned
    from ncp_control.fast.buffers import MIN_POOLED_BYTES, buffer, release_buffers

    release_buffers()
    arrays = [buffer((3, 5)), buffer((1, 7, 9)), buffer((4, MIN_POOLED_BYTES // 16)), buffer((3, MIN_POOLED_BYTES))]
    arrays += [empty_aligned(rows, cols) for rows in (1, 3, 64) for cols in (1, 7, 128)]
    for arr in arrays:
        assert arr.ctypes.data % 64 == 0, arr.shape
        assert arr.flags["C_CONTIGUOUS"] and arr.dtype == np.float32
