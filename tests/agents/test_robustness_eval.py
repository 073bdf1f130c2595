"""Robustness evaluation on Pendulum-v1 with local perturbation doubles (no training needed)."""

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from ncp_control.agents.common.eval_policies import as_eval_policy
from ncp_control.agents.robustness import (
    Suite,
    SuiteEntry,
    cell_summary,
    evaluate_random,
    evaluate_robustness,
    evaluate_robustness_sweep,
    read_results,
    reference_policy,
    run_episodes,
)
from sb3_contrib import RecurrentPPO
from stable_baselines3 import PPO, SAC, TD3


class ObsNoise(gym.ObservationWrapper):
    def __init__(self, env, level):
        super().__init__(env)
        self.level = level
        self.rng = np.random.default_rng(0)

    def reset(self, *, seed=None, options=None):
        self.rng = np.random.default_rng(seed)
        return super().reset(seed=seed, options=options)

    def observation(self, obs):
        return (obs + self.level * self.rng.normal(size=obs.shape)).astype(np.float32)


class ActionGain(gym.ActionWrapper):
    def __init__(self, env, level):
        super().__init__(env)
        self.level = level

    def action(self, action):
        return action * (1.0 - self.level)


class Jitter(gym.Wrapper):
    """Reports a varying elapsed time, like the timing perturbations."""

    def __init__(self, env, level):
        super().__init__(env)
        self.level = level
        self.count = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.count += 1
        info["dt"] = 0.05 * (1.0 + self.level * (self.count % 2))
        return obs, reward, terminated, truncated, info


def wrap(env, name, level):
    return {"noise": ObsNoise, "gain": ActionGain, "jitter": Jitter}[name](env, level)


SUITE_A = Suite("toy_obs", (SuiteEntry("noise", "observation", (0.0, 0.5, 1.0)),), wrap)
SUITE_B = Suite("toy_act", (SuiteEntry("gain", "action", (0.5, 1.0)), SuiteEntry("jitter", "timing", (1.0,))), wrap)


@pytest.fixture(scope="module")
def ppo():
    return PPO("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs={"net_arch": [16]})


@pytest.fixture(scope="module")
def recurrent():
    return RecurrentPPO("MlpLstmPolicy", "Pendulum-v1", seed=0, policy_kwargs={"lstm_hidden_size": 8, "net_arch": [8]})


@pytest.fixture(scope="module")
def liquid():
    from ncp_control.agents import LiquidPPO

    return LiquidPPO("CfCPolicy", "Pendulum-v1", n_steps=64, batch_size=64, seq_len=16, seed=0,
                     policy_kwargs={"units": 8})


def _make_jittered():
    return Jitter(gym.make("Pendulum-v1"), 1.0)


def _sequential_returns(model, seeds, steps=200, make=lambda: gym.make("Pendulum-v1"), with_dt=False):
    """The reference: one env, one episode at a time, sb3-contrib style state handling."""
    out = []
    for seed in seeds:
        env = make()
        obs, _ = env.reset(seed=seed)
        state, start, total = None, np.array([True]), 0.0
        extra = {"dt": np.array([0.05], dtype=np.float32)} if with_dt else {}
        for _ in range(steps):
            action, state = model.predict(obs[None], state=state, episode_start=start, deterministic=True, **extra)
            start = np.array([False])
            obs, reward, terminated, truncated, info = env.step(action[0])
            if with_dt:
                extra = {"dt": np.array([info["dt"]], dtype=np.float32)}
            total += reward
            if terminated or truncated:
                break
        out.append(total)
    return out


@pytest.fixture(scope="module")
def sac():
    return SAC("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs={"net_arch": [16]})


@pytest.fixture(scope="module")
def td3():
    return TD3("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs={"net_arch": [16]})


@pytest.mark.parametrize("name", ["ppo", "recurrent", "sac", "td3"])
def test_lockstep_batch_equals_sequential_episodes(name, request):
    model = request.getfixturevalue(name)
    seeds = [3, 4, 5]
    rows = run_episodes(as_eval_policy(model), lambda: gym.make("Pendulum-v1"), seeds)
    np.testing.assert_allclose([r["return"] for r in rows], _sequential_returns(model, seeds), rtol=1e-5)
    assert all(r["length"] == 200 for r in rows)


def test_lockstep_liquid_ppo_gets_state_starts_and_dt(liquid):
    """LiquidPPO under timestep jitter: the evaluation must pass each env's info["dt"] to predict."""
    seeds = [1, 2]
    rows = run_episodes(as_eval_policy(liquid), _make_jittered, seeds)
    expected = _sequential_returns(liquid, seeds, make=_make_jittered, with_dt=True)
    np.testing.assert_allclose([r["return"] for r in rows], expected, rtol=1e-5)
    without_dt = _sequential_returns(liquid, seeds, make=_make_jittered, with_dt=False)
    assert not np.allclose(without_dt, expected)  # dt reaches the network: ignoring it changes the episodes


def test_sweep_table_rows_paired_and_resumable(tmp_path, ppo, recurrent):
    results = tmp_path / "results.csv"
    frame = evaluate_robustness_sweep(
        {"ppo": ppo, "lstm": {7: recurrent}}, "Pendulum-v1", [SUITE_A, SUITE_B], n_episodes=3, seed=10, results=results
    )
    table = read_results(results)
    # random: clean only; each model: clean + noise(0.5, 1) + gain(0.5, 1) + jitter(1) = 6 cells of 3 episodes
    assert len(table) == 3 + 2 * 6 * 3
    assert len(frame) == len(table)
    counts = table.groupby(["model", "perturbation", "level"]).size()
    assert (counts == 3).all()
    assert set(table["seed"]) == {10, 11, 12}
    assert (table.loc[table["model"] == "lstm", "train_seed"] == 7).all()
    assert not ((table["perturbation"] == "noise") & (table["level"] == 0.0)).any()  # level 0 is the clean cell
    # the action-gain level 1 zeroes every action: the same return for both models, seed by seed (paired)
    dead = table[(table["perturbation"] == "gain") & (table["level"] == 1.0)].sort_values(["model", "seed"])
    np.testing.assert_allclose(dead[dead["model"] == "ppo"]["return"], dead[dead["model"] == "lstm"]["return"])
    # resume: nothing is redone, nothing lost
    before = results.read_bytes()
    evaluate_robustness_sweep({"ppo": ppo, "lstm": {7: recurrent}}, "Pendulum-v1", [SUITE_A, SUITE_B], n_episodes=3,
                              seed=10, results=results)
    assert results.read_bytes() == before
    cells = cell_summary(table)
    assert set(cells["model"]) == {"ppo", "lstm"}
    clean = cells[cells["perturbation"] == "none"]
    assert np.allclose(clean["retention"], 1.0)


def test_partial_table_completes_every_cell_once(tmp_path, ppo):
    results = tmp_path / "results.parquet"
    evaluate_robustness(ppo, "Pendulum-v1", SUITE_A, n_episodes=2, results=results, name="ppo")
    first = read_results(results)
    evaluate_robustness(ppo, "Pendulum-v1", SUITE_B, n_episodes=2, results=results, name="ppo")
    table = read_results(results)
    assert len(first) == 3 * 2
    assert len(table) == 6 * 2
    assert not table.duplicated(["model", "perturbation", "level", "seed"]).any()
    pd.testing.assert_frame_equal(table.iloc[: len(first)].reset_index(drop=True), first)
    with pytest.raises(ValueError, match="evaluation seeds"):  # other seeds would mix into finished cells
        evaluate_robustness(ppo, "Pendulum-v1", SUITE_A, n_episodes=3, results=results, name="ppo")


def test_controller_dt_and_random_baseline():
    class Damping:
        """A stateful P controller on the pendulum's angular velocity; counts its resets."""

        def __init__(self):
            self.resets = 0

        def reset(self):
            self.resets += 1

        def act(self, obs):
            return np.clip(np.array([-0.5 * obs[2]], dtype=np.float32), -2, 2)

    frame = evaluate_robustness(Damping(), "Pendulum-v1", SUITE_B, n_episodes=2, name="pid")
    assert len(frame) == 4 * 2
    assert frame["action_smoothness"].notna().all()

    seen = []

    class TimeAware:
        def predict(self, obs, state=None, episode_start=None, deterministic=False, dt=None):
            seen.append(np.array(dt))
            return np.zeros((len(obs), 1), dtype=np.float32), state

    jitter = Suite("t", (SuiteEntry("jitter", "timing", (1.0,)),), wrap)
    evaluate_robustness(TimeAware(), "Pendulum-v1", jitter, n_episodes=2, name="t")
    dts = np.concatenate(seen[-200:])
    assert set(np.round(dts.astype(float), 6).tolist()) == {0.05, 0.1}

    a = evaluate_random("Pendulum-v1", n_episodes=3, seed=0)
    b = evaluate_random("Pendulum-v1", n_episodes=3, seed=0)
    np.testing.assert_array_equal(a["return"], b["return"])
    assert a["return"].nunique() == 3


def test_bad_input_messages():
    with pytest.raises(ValueError, match="unknown env id"):
        evaluate_robustness(lambda env: None, "NoSuchEnv-v9", SUITE_A, n_episodes=1)
    with pytest.raises(ValueError, match="levels must be in"):
        evaluate_robustness(lambda env: None, "Pendulum-v1", SUITE_A, levels=[2.0], n_episodes=1)
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate_robustness(lambda env: None, "Pendulum-v1", SUITE_A, n_episodes=0)


def test_reference_controllers_of_our_tasks():
    """The quadrotor reference reads the env's state (``act()``), one controller per episode."""
    dead = Suite("g", (SuiteEntry("gain", "action", (1.0,)),), wrap)
    frame = evaluate_robustness(reference_policy("NCPControl/QuadHover-v0"), "NCPControl/QuadHover-v0", dead,
                                n_episodes=2, name="reference")
    clean = frame[frame["perturbation"] == "none"]
    assert (clean["success"] == 1.0).all() and (clean["crash"] == 0.0).all()
    assert clean["tracking_error"].notna().all()
    assert frame.loc[frame["perturbation"] == "gain", "return"].max() < clean["return"].min()
    with pytest.raises(ValueError, match="no reference controller"):
        reference_policy("Pendulum-v1")
