"""QuadFlyToTarget: the numpy camera, the feature detector and the out-of-distribution splits."""

from __future__ import annotations

import math

import gymnasium as gym
import ncp_control.envs  # noqa: F401
import numpy as np
import pytest
from ncp_control.envs.quadrotor.camera import LIGHTING, PALETTES, NumpyCamera, SceneStyle, sphere_colours
from ncp_control.envs.quadrotor.fly_to_target import OOD_SPLITS, TARGET_RADIUS

EYE = np.eye(3)
ORIGIN = np.array([0.0, 0.0, 1.0])
RED = sphere_colours(np.array([[225.0, 35.0, 35.0]]), "day")


def _red_mask(image: np.ndarray) -> np.ndarray:
    r, g, b = (image[..., i].astype(int) for i in range(3))
    return (r > 120) & (g < 80) & (b < 80)


def test_camera_draws_a_sphere_where_it_projects() -> None:
    camera = NumpyCamera(48, 64)
    ahead = camera.render(ORIGIN, EYE, np.array([[2.0, 0.0, 1.0, 0.1]]), RED, SceneStyle())
    assert ahead.shape == (48, 64, 3) and ahead.dtype == np.uint8
    mask = _red_mask(ahead)
    rows, cols = np.nonzero(mask)
    assert rows.mean() == pytest.approx(23.5, abs=1.0) and cols.mean() == pytest.approx(31.5, abs=1.0)
    # apparent diameter 2 atan(0.1 / 2) over a 90 degree, 64 pixel wide view: about 3.2 pixels
    assert 4 <= mask.sum() <= 16
    left = _red_mask(camera.render(ORIGIN, EYE, np.array([[2.0, 1.0, 1.0, 0.1]]), RED, SceneStyle()))
    assert np.nonzero(left)[1].mean() < 20  # +y (left in the body frame) is left in the picture
    behind = camera.render(ORIGIN, EYE, np.array([[-2.0, 0.0, 1.0, 0.1]]), RED, SceneStyle())
    assert not _red_mask(behind).any()


def test_camera_horizon_follows_attitude() -> None:
    camera = NumpyCamera(48, 64)
    level = camera.render(ORIGIN, EYE, np.zeros((0, 4)), RED, SceneStyle(background="plain"))
    sky = np.array(PALETTES["summer"]["horizon"])
    top_half = np.abs(level[:24].astype(int) - sky).sum(axis=-1).mean()
    bottom_half = np.abs(level[24:].astype(int) - sky).sum(axis=-1).mean()
    assert top_half < bottom_half  # sky above, ground below
    pitch = 0.3  # nose down: the horizon moves up the picture
    rot = np.array([[math.cos(pitch), 0, math.sin(pitch)], [0, 1, 0], [-math.sin(pitch), 0, math.cos(pitch)]])
    down = camera.render(ORIGIN, rot, np.zeros((0, 4)), RED, SceneStyle(background="plain"))
    assert (down[:, 32] != level[:, 32]).any(axis=-1).sum() > 5


def test_camera_project_gives_bearing_and_range() -> None:
    camera = NumpyCamera(48, 64)
    azimuth, elevation, distance, inside = camera.project(ORIGIN, EYE, np.array([2.0, 1.0, 1.5]))
    assert azimuth == pytest.approx(math.atan2(1.0, 2.0))
    assert elevation == pytest.approx(math.atan2(0.5, math.sqrt(5.0)))
    assert distance == pytest.approx(math.sqrt(5.25)) and inside
    assert not camera.project(ORIGIN, EYE, np.array([-2.0, 0.0, 1.0]))[3]


def test_seasons_lighting_and_backgrounds_change_the_picture() -> None:
    camera = NumpyCamera(48, 64)
    spheres = np.array([[2.0, 0.0, 1.0, 0.1]])

    def picture(**style) -> np.ndarray:
        lighting = style.get("lighting", "day")
        colours = sphere_colours(np.array([PALETTES["summer"]["target"]], dtype=float), lighting)
        return camera.render(ORIGIN, EYE, spheres, colours, SceneStyle(**style)).astype(float)

    summer, winter = picture(), picture(season="winter")
    assert np.abs(summer - winter).mean() > 30
    night = picture(lighting="night")
    assert night.mean() < 0.5 * summer.mean()
    plain = picture(background="plain")
    checker_tones = len(np.unique(summer[40:].reshape(-1, 3), axis=0))
    plain_tones = len(np.unique(plain[40:].reshape(-1, 3), axis=0))
    assert plain_tones < checker_tones
    assert set(LIGHTING) >= {"day", "dusk", "night"} and set(PALETTES) >= {"summer", "winter"}


def test_target_is_in_view_at_reset_and_features_match_its_geometry() -> None:
    env = gym.make("NCPControl/QuadFlyToTarget-v0")
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        u = env.unwrapped
        distance = np.linalg.norm(u.target - u.drone_state()["position"])
        assert info["target_visible"] and obs[3] == 1.0
        assert abs(obs[0]) < math.radians(25)
        assert obs[2] == pytest.approx(2 * math.asin(TARGET_RADIUS / distance), rel=1e-4)
        assert obs[7:10] == pytest.approx(u.drone_state()["rotation"][2], abs=1e-6)  # up, body frame


def test_camera_observation_shows_the_target() -> None:
    env = gym.make("NCPControl/QuadFlyToTarget-v0", observation="camera", target_range=(1.0, 1.5))
    for seed in range(5):
        image, _ = env.reset(seed=seed)
        assert image.shape == (48, 64, 3) and _red_mask(image).sum() >= 4


def test_occlusion_covers_the_requested_fraction() -> None:
    env = gym.make("NCPControl/QuadFlyToTarget-v0", observation="camera", occlusion=0.25, lighting="day")
    env.reset(seed=0)
    r0, r1, c0, c1 = env.unwrapped.style.occluder
    assert (r1 - r0) * (c1 - c0) / (48 * 64) == pytest.approx(0.25, abs=0.03)
    image = env.step(np.zeros(4, dtype=np.float32))[0]
    assert (image[r0:r1, c0:c1] == PALETTES["summer"]["occluder"]).all()


def test_distractors_can_capture_the_detector() -> None:
    clean = gym.make("NCPControl/QuadFlyToTarget-v0")
    assert all(clean.reset(seed=s)[1]["target_visible"] for s in range(20))
    crowded = gym.make("NCPControl/QuadFlyToTarget-v0", distractors=8)
    fooled = [not crowded.reset(seed=s)[1]["target_visible"] for s in range(20)]
    assert 0 < sum(fooled) < 20
    assert len(crowded.unwrapped.spheres) == 9


def test_splits_apply_per_environment_and_per_episode() -> None:
    assert {"far", "near", "winter", "night", "noise", "distractors", "occlusion"} <= set(OOD_SPLITS)
    far = gym.make("NCPControl/QuadFlyToTarget-v0", split="far")
    far.reset(seed=0)
    u = far.unwrapped
    assert np.hypot(*(u.target - u.drone_state()["position"])[:2]) > 3.3
    env = gym.make("NCPControl/QuadFlyToTarget-v0")
    env.reset(seed=0, options={"split": "winter", "distractors": 2})
    assert env.unwrapped.episode_setting["season"] == "winter" and len(env.unwrapped.spheres) == 3
    env.reset(seed=0)
    assert env.unwrapped.episode_setting["season"] == "summer" and len(env.unwrapped.spheres) == 1
    explicit = gym.make("NCPControl/QuadFlyToTarget-v0", split="winter", lighting="night")
    assert explicit.unwrapped.task["season"] == "winter" and explicit.unwrapped.task["lighting"] == "night"
