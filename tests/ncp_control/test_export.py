"""ncp_control.export: the one-step policy equals the sequence model; TorchScript (in a fresh
process) and ONNX (in onnxruntime) files reproduce it over a whole episode; weights-only files
round-trip exactly and load without unpickling."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from ncp_control import CTRNN, LTC, AutoNCP, CfC
from ncp_control.export import (
    BoxActionClip,
    ObservationNormalizer,
    OneStepPolicy,
    OnnxPolicy,
    load_model,
    save_model,
    to_onnx,
    to_torchscript,
)

FEATURES, STEPS = 5, 80


def _models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {
        "cfc_ncp": CfC(FEATURES, AutoNCP(16, 2, seed=1, input_size=FEATURES)),
        "ltc_ncp": LTC(FEATURES, AutoNCP(16, 2, seed=2, input_size=FEATURES)),
        "ctrnn_mixed": CTRNN(FEATURES, 12, mixed_memory=True),
        "cfc_unwired": CfC(FEATURES, 10, backbone_units=16),
    }


def _episode() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    obs = torch.randn(STEPS, 1, FEATURES, generator=g)
    dt = 0.5 + torch.rand(STEPS, 1, generator=g)
    return obs, dt


def _policy(model: torch.nn.Module) -> OneStepPolicy:
    out = model.output_size
    normalizer = ObservationNormalizer(torch.linspace(-0.5, 0.5, FEATURES), torch.linspace(0.5, 2.0, FEATURES), 5.0)
    return OneStepPolicy(model, normalizer=normalizer, postprocess=BoxActionClip(-0.2 * torch.ones(out), torch.ones(out)),
                         time_unit=0.5).eval()


def _rollout(step, obs: torch.Tensor, dt: torch.Tensor, state_size: int) -> np.ndarray:
    h = torch.zeros(1, state_size)
    actions = []
    with torch.no_grad():
        for t in range(obs.shape[0]):
            a, h = step(obs[t], h, dt[t])
            actions.append(np.asarray(a))
    return np.stack(actions)


@pytest.mark.parametrize("name", list(_models()))
def test_one_step_equals_sequence_model(name: str) -> None:
    model = _models()[name].eval()
    obs, dt = _episode()
    with torch.no_grad():
        y, _ = model(obs.transpose(0, 1), timespans=dt.T)
    policy = OneStepPolicy(model)
    actions = _rollout(policy, obs, dt, policy.state_size)
    np.testing.assert_allclose(actions[:, 0], y[0].numpy(), atol=1e-5)


def test_normalizer_and_clip_follow_their_formulas() -> None:
    mean, var = np.array([0.5, -1.0]), np.array([4.0, 0.25])
    norm = ObservationNormalizer(mean, var, clip=1.5, epsilon=1e-8)
    obs = np.array([[2.0, -1.0], [10.0, -3.0]], np.float32)
    expected = np.clip((obs - mean) / np.sqrt(var + 1e-8), -1.5, 1.5)
    np.testing.assert_array_equal(norm(torch.as_tensor(obs)).numpy(), expected)
    clip = BoxActionClip(np.array([-1.0, -np.inf]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(clip(torch.tensor([[3.0, 5.0], [-3.0, -7.0]])).numpy(), [[1.0, 0.0], [-1.0, -7.0]])


FRESH_PROCESS = textwrap.dedent(
    """
    import sys, numpy as np, torch
    torch.set_num_threads(1)
    data = np.load(sys.argv[1])
    obs, dt = torch.as_tensor(data["obs"]), torch.as_tensor(data["dt"])
    out = {}
    for name in sys.argv[3:]:
        module = torch.jit.load(name + ".pt")
        h = torch.zeros(1, int(data["state_" + name.rsplit("/", 1)[-1]]))
        actions = []
        with torch.no_grad():
            for t in range(obs.shape[0]):
                a, h = module(obs[t], h, dt[t])
                actions.append(a.numpy())
        out[name.rsplit("/", 1)[-1]] = np.stack(actions)
    np.savez(sys.argv[2], **out)
    """
)


def test_torchscript_in_fresh_process_and_onnx_match_pytorch_over_an_episode(tmp_path: Path) -> None:
    obs, dt = _episode()
    models = _models()
    expected, states = {}, {}
    for name, model in models.items():
        policy = _policy(model)
        expected[name] = _rollout(policy, obs, dt, policy.state_size)
        states[f"state_{name}"] = policy.state_size
        to_torchscript(policy, tmp_path / f"{name}.pt")
        onnx_path = to_onnx(policy, tmp_path / f"{name}.onnx", opset=17)
        session = OnnxPolicy(onnx_path)
        onnx_actions = _rollout(
            lambda o, h, d, run=session: tuple(map(torch.as_tensor, run(o.numpy(), h.numpy(), d.numpy()))),
            obs, dt, policy.state_size)
        np.testing.assert_allclose(onnx_actions, expected[name], atol=1e-5, err_msg=name)
        assert np.abs(expected[name]).max() > 1e-3  # the actions are not trivially zero
    np.savez(tmp_path / "episode.npz", obs=obs.numpy(), dt=dt.numpy(), **states)
    script = tmp_path / "run_torchscript.py"
    script.write_text(FRESH_PROCESS)
    subprocess.run([sys.executable, str(script), str(tmp_path / "episode.npz"), str(tmp_path / "out.npz"),
                    *[str(tmp_path / n) for n in models]], check=True, timeout=120)
    result = np.load(tmp_path / "out.npz")
    for name in models:
        np.testing.assert_allclose(result[name], expected[name], atol=1e-5, err_msg=name)


def test_onnx_batch_is_dynamic_and_opset_is_checked(tmp_path: Path) -> None:
    policy = _policy(_models()["ltc_ncp"])
    path = to_onnx(policy, tmp_path / "p.onnx")
    import onnx

    assert max(op.version for op in onnx.load(str(path)).opset_import if op.domain in ("", "ai.onnx")) >= 17
    obs, state, dt = torch.randn(7, FEATURES), 0.1 * torch.randn(7, policy.state_size), torch.rand(7) + 0.1
    with torch.no_grad():
        a, h = policy(obs, state, dt)
    a2, h2 = OnnxPolicy(path)(obs.numpy(), state.numpy(), dt.numpy())
    np.testing.assert_allclose(a2, a.numpy(), atol=1e-5)
    np.testing.assert_allclose(h2, h.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="opset"):
        to_onnx(policy, tmp_path / "old.onnx", opset=13)


class _PythonScale(torch.nn.Module):
    """Data-dependent Python arithmetic: tracing freezes the number, so an export would be wrong."""

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return y * float(y.abs().sum())


def test_exports_that_disagree_with_pytorch_are_refused(tmp_path: Path) -> None:
    policy = OneStepPolicy(_models()["cfc_ncp"], head=_PythonScale()).eval()
    with pytest.raises(RuntimeError, match="differs from PyTorch"):
        to_torchscript(policy, tmp_path / "p.pt")
    with pytest.raises(RuntimeError, match="differs from PyTorch"):
        to_onnx(policy, tmp_path / "p.onnx")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", list(_models()))
def test_weights_only_round_trip_gives_identical_outputs(name: str, tmp_path: Path) -> None:
    model = _models()[name].eval()
    obs, dt = _episode()
    save_model(model, tmp_path / "w")
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["config.json", "model.safetensors"]
    loaded = load_model(tmp_path / "w")
    assert type(loaded) is type(model) and loaded.config() == model.config()
    saved, restored = model.state_dict(), loaded.state_dict()
    assert saved.keys() == restored.keys() and all(torch.equal(saved[k], restored[k]) for k in saved)
    # identical outputs through the per-step reference arithmetic
    original = _rollout(OneStepPolicy(model), obs, dt, model.state_size)
    assert np.array_equal(_rollout(OneStepPolicy(loaded), obs, dt, model.state_size), original)


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204 - runs code when unpickled
        return (Path.touch, (self.marker,))


def test_weights_loader_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    pickle.loads(pickle.dumps(_Payload(marker)))  # the payload is live: unpickling runs it
    assert marker.exists()
    marker.unlink()
    save_model(_models()["cfc_ncp"], tmp_path / "w")
    (tmp_path / "w" / "model.safetensors").write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_model(tmp_path / "w")
    assert not marker.exists()
    (tmp_path / "w" / "config.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="does not hold an ncp_control model"):
        load_model(tmp_path / "w")
