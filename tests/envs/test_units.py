"""The same task in other units (``ncp_control.envs.units``)."""

from __future__ import annotations

import gymnasium as gym
import ncp_control.envs  # noqa: F401  (registers the NCPControl/ ids)
import numpy as np
import pytest
from ncp_control.envs.units import make_rescaled_env


def test_rescaled_cartpole_is_the_novel_task_times_constants() -> None:
    base = gym.make("NCPControl/CartPoleNoVel-v1")
    scaled = gym.make("NCPControl/CartPoleNoVelRescaled-v1")
    obs_base, _ = base.reset(seed=3)
    obs_scaled, _ = scaled.reset(seed=3)
    np.testing.assert_allclose(obs_scaled, obs_base * 1000.0, rtol=1e-6)
    np.testing.assert_allclose(scaled.observation_space.high, base.observation_space.high * 1000.0)
    for action in [0, 1, 1, 0, 1]:
        obs_base, reward_base, term_base, trunc_base, _ = base.step(action)
        obs_scaled, reward_scaled, term_scaled, trunc_scaled, _ = scaled.step(action)
        np.testing.assert_allclose(obs_scaled, obs_base * 1000.0, rtol=1e-6)
        assert reward_scaled == pytest.approx(100.0 * reward_base)
        assert (term_scaled, trunc_scaled) == (term_base, trunc_base)
        assert obs_scaled.dtype == obs_base.dtype


@pytest.mark.parametrize("name", ["observation_scale", "reward_scale"])
def test_rescaled_env_refuses_non_positive_scales(name: str) -> None:
    kwargs = {"observation_scale": 1.0, "reward_scale": 1.0, name: 0.0}
    with pytest.raises(ValueError, match=name):
        make_rescaled_env("NCPControl/CartPoleNoVel-v1", **kwargs)
