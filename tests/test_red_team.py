"""Red team (issue 16): every bad input found by a demanding user, as a test that failed before its fix.

Each test names the finding. Longer end-to-end versions live beside the code they test
(tests/scripts/test_train_cli.py, tests/agents/test_recipes.py, test_run_lifecycle.py, test_sweep.py).
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers NCPControl/ ids)
import numpy as np
import pytest
from ncp_control.agents.recipes import hyperparams_file
from ncp_control.agents.runs import RunConfig, load_hyperparams, new_model
from ncp_control.agents.sweep import parse_sweep
from ncp_control.cli.cli import main
from ncp_control.envs.perturbations import make as make_perturbation

from ncp_control.errors import UserError

TINY = {"n_steps": 32, "batch_size": 32, "seq_len": 16, "n_epochs": 1}


# ---------------------------------------------------------------- the command line and recipes
def test_normalize_of_a_shipped_recipe_builds_on_the_run_path():
    params = load_hyperparams(hyperparams_file(), "NCPControl/PendulumNoVel-v1", "CfCPolicy")
    normalize = params.pop("normalize")
    for key in ("n_envs", "n_timesteps", "policy"):
        params.pop(key)
    model = new_model(RunConfig("NCPControl/PendulumNoVel-v1", hyperparams={**params, **TINY}, normalize=normalize))
    assert model.get_vec_normalize_env() is not None and model.get_vec_normalize_env().norm_obs


def test_rl_zoo_normalize_and_env_kwargs_are_understood(tmp_path):
    path = tmp_path / "hp.yml"
    path.write_text("Pendulum-v1:\n  normalize: true\n  env_kwargs: {g: 9.0}\n  n_envs: 2\n")
    params = load_hyperparams(path, "Pendulum-v1")
    assert params["normalize"] == {"norm_obs": True, "norm_reward": True} and params["env_kwargs"] == {"g": 9.0}


def test_shared_seq_len_does_not_reach_sb3_ppo():
    spec = {"envs": ["Pendulum-v1"], "policies": ["CfCPolicy", {"name": "ppo", "policy": "MlpPolicy", "algo": "PPO"}],
            "hyperparams": {"seq_len": 16, "n_steps": 64}}
    ppo = parse_sweep(spec).jobs[1]
    assert ppo.config.hyperparams == {"n_steps": 64}


def test_a_failed_start_writes_nothing(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "Pendulum-v1", "--policy", "CfCPolicyy", "--out", str(out), "--no-progress"]) == 2
    assert not out.exists()


def test_internal_value_errors_are_not_user_errors(monkeypatch, tmp_path):
    def bug(*_args, **_kwargs):
        raise ValueError("axes don't match array")

    monkeypatch.setattr("ncp_control.cli.commands.train.train_run", bug)
    with pytest.raises(ValueError, match="axes"):
        main(["train", "Pendulum-v1", "--policy", "MlpPolicy", "--out", str(tmp_path / "r"), "--no-progress"])


def test_yaml_syntax_error_in_train_is_one_line(tmp_path, capsys):
    bad = tmp_path / "hp.yml"
    bad.write_text("n_steps: [64\n")
    assert main(["train", "Pendulum-v1", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is not valid YAML" in err and "\n" not in err


def test_bad_env_kwarg_types_are_one_line(tmp_path, capsys):
    assert main(["train", "NCPControl/LaneKeeping-v0", "--env-kwargs", "{speed: fast}", "--out",
                 str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert "env_kwargs" in err and "\n" not in err


@pytest.mark.parametrize("key, value", [("seeds", "zero"), ("episodes", 1.5), ("hyperparams", [1])])
def test_sweep_keys_of_the_wrong_type(key, value):
    with pytest.raises(UserError, match=f"'{key}'"):
        parse_sweep({"envs": ["Pendulum-v1"], "policies": ["CfCPolicy"], key: value})


# ---------------------------------------------------------------- silent wrong results: envs
@pytest.mark.parametrize("env_id, name, value", [
    ("NCPControl/QuadHover-v0", "mass", float("nan")),
    ("NCPControl/QuadHover-v0", "mass", 0.0),
    ("NCPControl/QuadHover-v0", "mass", -0.03),
    ("NCPControl/LaneKeeping-v0", "steering_gain", -1.0),
    ("NCPControl/LaneKeeping-v0", "tyre_friction", float("nan")),
])
def test_impossible_physical_parameters_are_refused(env_id, name, value):
    env = gym.make(env_id)
    nominal = env.unwrapped.physical_params()[name]
    with pytest.raises(ValueError, match=name):
        env.unwrapped.set_physical_params(**{name: np.full(nominal.shape, value)})
    np.testing.assert_array_equal(env.unwrapped.physical_params()[name], nominal)


@pytest.mark.parametrize("env_id", ["NCPControl/QuadHover-v0", "NCPControl/LaneKeeping-v0"])
def test_nan_and_wrong_length_actions_are_refused(env_id):
    env = gym.make(env_id)
    env.reset(seed=0)
    size = env.action_space.shape[0]
    with pytest.raises(ValueError, match="finite"):
        env.step(np.full(size, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match=f"must have {size} values"):
        env.step(np.zeros(size + 1, dtype=np.float32))


def test_palette_on_a_state_observation_is_refused():
    env = gym.make("NCPControl/LaneKeeping-v0")
    with pytest.raises(ValueError, match="only camera images"):
        make_perturbation(env, "palette", level=1.0)


# ---------------------------------------------------------------- the device
def test_liquid_ppo_defaults_to_the_cpu_and_warns_on_cuda():
    from ncp_control.agents import LiquidPPO

    model = LiquidPPO("CfCPolicy", "Pendulum-v1", **TINY)
    assert model.device.type == "cpu"
    with pytest.warns(UserWarning, match="CUDA"):
        from ncp_control.agents.device import recurrent_device

        recurrent_device("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert recurrent_device("cpu") == "cpu"


# ---------------------------------------------------------------- silent wrong results: networks
@pytest.mark.parametrize("solver", ["euler", "rk4"])
@pytest.mark.parametrize("units", [8, 32])
def test_explicit_ltc_solvers_stay_finite_for_long_timespans(solver, units):
    import torch

    from ncp_control import LTC

    torch.manual_seed(0)
    explicit = LTC(3, units, solver=solver)
    implicit = LTC(3, units)
    implicit.load_state_dict(explicit.state_dict())
    x = torch.randn(2, 4, 3) * 3
    with torch.no_grad():
        for timespan in (1.0, 5.0, 10.0, 100.0):
            y, h = explicit(x, timespans=timespan)
            assert torch.isfinite(y).all() and torch.isfinite(h).all(), timespan
            # both near the same fixed point, not merely finite
            assert (y - implicit(x, timespans=timespan)[0]).abs().max() < 0.2, timespan


def test_explicit_solvers_refuse_a_timespan_too_long_to_sub_step():
    import torch

    from ncp_control import CTRNN, LTC

    for model in (LTC(3, 8, solver="euler"), CTRNN(3, 8, solver="rk4")):
        with pytest.raises(UserError, match="semi_implicit"):
            model(torch.zeros(1, 1, 3), timespans=1e7)


@pytest.mark.parametrize("timespan", [1e10, 1e20])
def test_fast_cfc_gradients_equal_the_loop_for_huge_timespans(timespan):
    import torch

    from ncp_control import CfC

    grads = []
    for implementation in ("fast", "reference"):
        torch.manual_seed(0)
        model = CfC(3, 8, implementation=implementation)
        x = torch.randn(2, 5, 3, requires_grad=True)
        y, h = model(x, timespans=timespan)
        (y.sum() + h.sum()).backward()
        grads.append([x.grad, *(p.grad for p in model.parameters())])
    for fast, reference in zip(*grads):
        assert torch.isfinite(fast).all()
        torch.testing.assert_close(fast, reference, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind", ["CfC", "LTC", "CTRNN"])
@pytest.mark.parametrize("grad", [False, True])
def test_sequence_models_refuse_non_finite_inputs_and_states(kind, grad):
    import torch

    import ncp_control

    model = getattr(ncp_control, kind)(3, 8)
    with torch.set_grad_enabled(grad):
        for bad in (float("nan"), float("inf"), -float("inf")):
            with pytest.raises(UserError, match="x must be finite"):
                model(torch.full((1, 1, 3), bad))
            with pytest.raises(UserError, match="hx must be finite"):
                model(torch.zeros(1, 1, 3), torch.full((1, 8), bad))
            with pytest.raises(UserError, match="x must be finite"):
                model(torch.full((1, 1, 3), bad), torch.zeros(1, 8), 0.5)  # the control loop's shortcut


@pytest.mark.parametrize("value", [0.5, 2.0, -1.0])
def test_float_resets_must_be_0_or_1(value):
    import torch

    from ncp_control import CfC

    model = CfC(3, 8)
    x, h = torch.randn(1, 2, 3), torch.randn(1, 8)
    with pytest.raises(UserError, match="resets must be booleans or 0/1"):
        model(x, h, resets=torch.tensor([[value, 0.0]]))
    ones = model(x, h, resets=torch.tensor([[1.0, 0.0]]))[0]
    torch.testing.assert_close(ones, model(x, h, resets=torch.tensor([[True, False]]))[0], rtol=0, atol=0)


def test_episode_start_must_be_0_or_1_in_predict():
    from ncp_control.agents import LiquidPPO

    model = LiquidPPO("CfCPolicy", "Pendulum-v1", **TINY)
    with pytest.raises(UserError, match="episode_start must be booleans or 0/1"):
        model.predict(np.zeros(3, np.float32), episode_start=np.array([0.5]))


def test_batch_size_not_a_multiple_of_seq_len_is_refused():
    from ncp_control.agents import LiquidPPO

    with pytest.raises(UserError, match="batch_size must be a multiple of seq_len"):
        LiquidPPO("CfCPolicy", "Pendulum-v1", **{**TINY, "batch_size": 40})


def test_time_unit_must_be_finite():
    from ncp_control.agents import LiquidPPO
    from ncp_control.agents.timing import timespans_from_infos

    with pytest.raises(UserError, match="time_unit must be a finite"):
        LiquidPPO("CfCPolicy", "Pendulum-v1", time_unit=float("inf"), **TINY)
    with pytest.raises(UserError, match="dt_nominal must be a finite"):  # the deprecated alias names itself
        LiquidPPO("CfCPolicy", "Pendulum-v1", dt_nominal=float("inf"), **TINY)
    with pytest.raises(UserError, match="time_unit must be a finite"):
        timespans_from_infos([{"dt": 0.05}], float("inf"))


@pytest.mark.parametrize("dt", [-0.05, float("nan"), float("inf")])
def test_a_bad_info_dt_is_refused(dt):
    from ncp_control.agents.timing import timespans_from_infos

    with pytest.raises(UserError, match=r"info\['dt'\] of env 1"):
        timespans_from_infos([{"dt": 0.05}, {"dt": dt}], 0.05)


def test_deployed_policy_refuses_nan_and_negative_dt(tmp_path):
    from ncp_control.agents import LiquidPPO
    from ncp_control.agents.export import load_policy, save_policy

    save_policy(LiquidPPO("CfCPolicy", "Pendulum-v1", **TINY), tmp_path / "policy")
    policy = load_policy(tmp_path / "policy")
    obs = np.zeros(3, np.float32)
    for dt in (float("nan"), -1.0):
        with pytest.raises(UserError, match="dt must be finite and >= 0"):
            policy.predict(obs, dt=dt)
    with pytest.raises(UserError, match="episode_start must be booleans or 0/1"):
        policy.predict(obs, episode_start=[2.0])
    with pytest.raises(UserError, match="observation must be finite"):
        policy.predict(np.full(3, np.nan, np.float32))


# ---------------------------------------------------------------- unclear errors made clear
def test_dtype_mismatch_names_x_and_the_fix():
    import torch

    from ncp_control import LTC, CfC

    for model in (CfC(3, 8), LTC(3, 8)):
        with pytest.raises(UserError, match=r"x has dtype torch.float64 .* model.to"):
            model(torch.zeros(1, 2, 3, dtype=torch.float64))
        with pytest.raises(UserError, match="hx must have the dtype of x"):
            model(torch.zeros(1, 2, 3), torch.zeros(1, 8, dtype=torch.float64))


def test_an_empty_batch_is_refused():
    import torch

    from ncp_control import LTC

    with pytest.raises(UserError, match=r"B >= 1"):
        LTC(3, 8)(torch.zeros(0, 2, 3))


def test_model_from_config_without_units():
    from ncp_control import CfC, model_from_config

    config = CfC(3, 8).config()
    del config["units"]
    with pytest.raises(UserError, match="config has no 'units'"):
        model_from_config(config)


def test_compose_with_a_bare_name():
    from ncp_control.envs.perturbations import compose

    with pytest.raises(ValueError, match=r"list of \(name, level\)"):
        compose(gym.make("NCPControl/QuadHover-v0"), "gust")


def test_liquid_ppo_load_of_another_algorithm_and_of_a_missing_file(tmp_path):
    from ncp_control.agents import LiquidPPO
    from stable_baselines3 import PPO

    PPO("MlpPolicy", "Pendulum-v1", n_steps=32, batch_size=32).save(tmp_path / "ppo")
    with pytest.raises(UserError, match="holds a PPO model, not LiquidPPO"):
        LiquidPPO.load(tmp_path / "ppo.zip")
    with pytest.raises(UserError, match="no model file"):
        LiquidPPO.load(str(tmp_path / "nope.zip.zip"))


def test_n_steps_zero():
    from ncp_control.agents import LiquidPPO

    with pytest.raises(UserError, match="n_steps must be >= 1"):
        LiquidPPO("CfCPolicy", "Pendulum-v1", **{**TINY, "n_steps": 0})


def test_recurrent_ppo_with_dict_observations_learns():
    from gymnasium import spaces
    from ncp_control.agents.recurrent_ppo import RecurrentCfCPolicy
    from sb3_contrib import RecurrentPPO

    class DictObs(gym.ObservationWrapper):
        def __init__(self, env: gym.Env) -> None:
            super().__init__(env)
            self.observation_space = spaces.Dict({"state": env.observation_space,
                                                  "extra": spaces.Box(-1, 1, (2,), np.float32)})

        def observation(self, observation):
            return {"state": observation, "extra": np.zeros(2, np.float32)}

    env = DictObs(gym.make("Pendulum-v1"))
    model = RecurrentPPO(RecurrentCfCPolicy, env, n_steps=16, batch_size=16, n_epochs=1, policy_kwargs={"units": 8})
    model.learn(16)
    assert model.predict(env.reset(seed=0)[0])[0].shape == (1,)


def test_sb3_ppo_with_a_liquid_policy_says_use_liquid_ppo():
    import ncp_control.agents as agents
    from stable_baselines3 import PPO

    with pytest.raises(UserError, match=r"agents.LiquidPPO\(CfCPolicy"):
        PPO(agents.CfCPolicy, "Pendulum-v1", n_steps=32, batch_size=32).learn(32)
