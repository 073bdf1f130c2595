"""``compose``: several perturbations in one wrapper layer give exactly the nested wrappers'
results (same seed, same trajectory, bit for bit), restore the physics on close, and are
rebuilt from their spec; the block-computed gust process equals its step-by-step recurrence."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers NCPControl/)
import numpy as np
import pytest
from ncp_control.envs import perturbations
from ncp_control.envs.perturbations.stack import Stack
from ncp_control.envs.perturbations.testing import PointMassEnv
from ncp_control.envs.perturbations.wind import GaussMarkov

Entries = list[Any]

#: (environment, stack): the benchmark's stack, every fusable family, schedules, level 0 parts,
#: a timing perturbation between fused groups.
CASES: list[tuple[str, Entries]] = [
    ("hover", [("gaussian_noise", 0.5), ("actuator_lag", 0.5), ("gust", 0.5)]),
    ("hover", [("uniform_noise", 1.0, {"schedule": "periodic:7"}), ("bias", 0.0), ("action_noise", 0.7),
               ("mass", 1.0, {"schedule": "step:5"}), ("gust", 1.0, {"schedule": "drift:9"}), ("impulse", 1.0, {"interval": 0.1})]),
    ("hover", [("dropout", 0.5), ("dt_jitter", 1.0), ("actuator_lag", 1.0), ("wind_sine", 1.0), ("motor_failure", 1.0)]),
    ("cheetah", [("stuck_sensor", 1.0), ("observation_delay", 1.0), ("sticky_action", 1.0), ("rate_limit", 1.0),
                 ("friction", 1.0), ("gust", 0.5), ("external_force", 1.0, {"schedule": "impulse:3:4"})]),
    ("cheetah", [("action_delay", 1.0), ("action_bias", 1.0), ("gain_loss", 1.0, {"schedule": "random_walk"}),
                 ("wind", 1.0), ("control_rate", 1.0), ("gaussian_noise", 1.0), ("damping", 1.0)]),
    ("point_mass", [("gust", 1.0), ("inertia", 1.0), ("gravity", 1.0), ("actuator_lag", 0.5), ("distractor", 1.0)]),
]


def make_env(key: str) -> gym.Env:
    """:param key: which environment. :return: a fresh instance."""
    if key == "hover":
        return gym.make("NCPControl/QuadHover-v0")
    if key == "cheetah":
        return gym.make("HalfCheetah-v5")
    return gym.wrappers.TimeLimit(PointMassEnv(), 500)


def run(env: gym.Env, seeds: list[int | None], steps: int = 25) -> list[Any]:
    """Episodes of seeded random actions (gentle ones); seed ``None``: an unseeded reset.

    :return: everything the agent gets: observations, rewards, flags and info records.
    """
    out: list[Any] = []
    rng = np.random.default_rng(11)
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        out.append((np.array(obs), info.get("perturbation")))
        for _ in range(steps):
            action = (0.2 * rng.uniform(-1.0, 1.0, env.action_space.shape)).astype(env.action_space.dtype)
            obs, reward, terminated, truncated, info = env.step(action)
            out.append((np.array(obs), float(reward), terminated, truncated, info.get("perturbation"), info.get("dt")))
            if terminated or truncated:
                break
    return out


def identical(a: list[Any], b: list[Any]) -> bool:
    """:return: whether two runs are equal bit for bit (arrays with ``array_equal``)."""
    return len(a) == len(b) and all(
        len(x) == len(y) and all(np.array_equal(u, v) if isinstance(u, np.ndarray) else u == v for u, v in zip(x, y))
        for x, y in zip(a, b)
    )


@pytest.mark.parametrize(("key", "entries"), CASES, ids=[f"{k}-{len(e)}" for k, e in CASES])
def test_compose_equals_the_nested_stack(key: str, entries: Entries) -> None:
    nested = perturbations.make_stack(make_env(key), entries)
    composed = perturbations.compose(make_env(key), entries)
    layers = sum(isinstance(w, (Stack, perturbations.Perturbation)) for w in _layers(composed))
    assert layers < len(entries), "consecutive fusable perturbations share a layer"
    seeds: list[int | None] = [3, None, 4, 3]
    reference = run(nested, seeds)
    assert identical(reference, run(composed, seeds))
    assert [r["name"] for r in reference[-1][4]] == [e[0] for e in entries]
    assert composed.observation_space == nested.observation_space and composed.action_space == nested.action_space


def _layers(env: gym.Env) -> list[gym.Env]:
    layers: list[gym.Env] = []
    while isinstance(env, gym.Wrapper):
        layers.append(env)
        env = env.env
    return layers


def test_level_zero_stack_is_the_unwrapped_env() -> None:
    entries: Entries = [(entry[0], 0.0, *entry[2:]) for entry in CASES[0][1] + CASES[1][1]]
    bare = run(make_env("hover"), [5, 6])
    composed = run(perturbations.compose(make_env("hover"), entries), [5, 6])
    assert len(bare) == len(composed)
    for x, y in zip(bare, composed):
        assert np.array_equal(x[0], y[0]) and (len(x) == 2 or x[1:4] == y[1:4])


@pytest.mark.parametrize("key", ["hover", "cheetah"])
def test_close_restores_the_physics(key: str) -> None:
    from tests.envs.test_perturbations import physics_snapshot, snapshots_equal

    env = make_env(key)
    nominal = physics_snapshot(env)
    entries: Entries = [("mass", 1.0), ("gust", 1.0), ("external_force", 1.0), ("gain_loss", 1.0, {"schedule": "step:3"})]
    composed = perturbations.compose(env, entries)
    run(composed, [1, 2], steps=10)
    assert not snapshots_equal(nominal, physics_snapshot(env))
    composed.close()
    assert snapshots_equal(nominal, physics_snapshot(env))


def test_spec_rebuilds_the_composed_stack() -> None:
    entries: Entries = [("gaussian_noise", 0.5), ("mass", 0.5, {"direction": -1}), ("gust", 1.0)]
    env = perturbations.compose(gym.make("HalfCheetah-v5"), entries)
    assert env.spec is not None
    rebuilt = gym.make(env.spec)
    assert isinstance(rebuilt, Stack) and [p.name for p in rebuilt.perturbations] == [e[0] for e in entries]
    assert identical(run(env, [4]), run(rebuilt, [4]))


def test_stack_refuses_timing_perturbations() -> None:
    with pytest.raises(ValueError, match="dt_jitter"):
        Stack(make_env("hover"), [("gaussian_noise", 0.5), ("dt_jitter", 0.5)])
    with pytest.raises(ValueError, match="level"):
        perturbations.compose(make_env("hover"), [("gaussian_noise", 0.5), ("gust", 1.5)])


def test_gauss_markov_blocks_follow_the_recurrence() -> None:
    decay, factor, start = 0.97, np.array([0.5, 1.0, 2.0]), np.array([1.0, -2.0, 0.5])
    process = GaussMarkov(decay, block=64)
    process.reset(np.random.default_rng(0), start, factor)
    blocked = np.array([process() for _ in range(200)])
    rng = np.random.default_rng(0)
    normals = np.concatenate([rng.standard_normal((64, 3)) for _ in range(4)])
    state, reference = start.copy(), []
    for n in normals[:200]:
        state = decay * state + factor * n
        reference.append(state)
    np.testing.assert_allclose(blocked, np.array(reference), rtol=1e-10, atol=1e-12)


def test_benchmark_times_compose_and_nested_against_the_bare_env(capsys: pytest.CaptureFixture[str]) -> None:
    from ncp_control.cli import bench_perturbations

    times = bench_perturbations.measure("NCPControl/QuadHover-v0", ["gaussian_noise", "gust"], 0.5, steps=30, rounds=2)
    assert set(times) == {"bare", "composed", "nested"} and all(len(t) == 2 and min(t) > 0 for t in times.values())
    assert bench_perturbations.main(["--steps", "30", "--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert "compose (one layer)" in out and "nested wrappers" in out and "median paired ratio" in out
    with pytest.raises(ValueError, match="--steps"):
        bench_perturbations.main(["--steps", "0"])


@pytest.mark.parametrize("name", ["gaussian_noise", "uniform_noise", "actuator_lag"])
def test_episode_closures_equal_the_general_hooks(name: str) -> None:
    """Under a constant schedule noise and lag step through closures over the episode's
    constants; ``step:0`` (full strength from the first step, but not constant) takes the
    general methods: same numbers, also when an inner timing perturbation varies ``dt``."""
    def build(schedule: str | None) -> perturbations.Perturbation:
        return perturbations.make(perturbations.make(make_env("hover"), "dt_jitter", 1.0), name, 1.0, schedule=schedule)

    fast, general = build(None), build("step:0")
    fast_run, general_run = run(fast, [2, 3]), run(general, [2, 3])
    assert fast._hooks is not None and fast._hooks[1] is not None and general._hooks is not None
    assert fast._hooks[1].__qualname__.endswith("<locals>.after") and general._hooks[1] == general._after
    assert len(fast_run) == len(general_run)
    for x, y in zip(fast_run, general_run):
        assert np.array_equal(x[0], y[0]) and (len(x) == 2 or (x[1:4] == y[1:4] and x[5] == y[5]))
    assert len({x[5] for x in fast_run if len(x) > 2}) > 1, "dt varied"
