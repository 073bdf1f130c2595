"""``NCPControl/QuadFlyToTarget-v0``: fly to a target seen by the drone's camera.

Modelled on the closed-loop drone studies of liquid networks out of distribution: the
policy is trained in one setting (summer, daylight, checkered ground, target 1.5-3 m
away, nothing else in view) and tested in shifted ones, chosen per environment
(constructor arguments or ``split``) or per episode (reset options): ``target_range``,
``season``, ``lighting``, ``background``, ``distractors`` (look-alike red spheres) and
``occlusion`` (fraction of the image covered by a patch). :data:`OOD_SPLITS` names the
standard shifts.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.names import DRONE_STATE_NAMES
from ncp_control.envs.quadrotor.base import (
    DRONE_HIGH,
    DRONE_LOW,
    POSITION_BOUND,
    QuadrotorEnv,
    VectorObservation,
    check_positive,
)
from ncp_control.envs.quadrotor.camera import (
    BACKGROUNDS,
    LIGHTING,
    PALETTES,
    NumpyCamera,
    SceneStyle,
    check_choice,
    sphere_colours,
)
from ncp_control.envs.quadrotor.hover import check_options

OBSERVATIONS = ("features", "camera", "state")
TARGET_RADIUS = 0.1

#: The nominal setting.
NOMINAL: dict[str, Any] = {
    "target_range": (1.5, 3.0),
    "season": "summer",
    "lighting": "day",
    "background": "checker",
    "distractors": 0,
    "occlusion": 0.0,
}

#: Named out-of-distribution shifts (each overrides part of :data:`NOMINAL`).
OOD_SPLITS: dict[str, dict[str, Any]] = {
    "nominal": {},
    "near": {"target_range": (0.6, 1.2)},
    "far": {"target_range": (3.5, 5.0)},
    "spring": {"season": "spring"},
    "autumn": {"season": "autumn"},
    "winter": {"season": "winter"},
    "overcast": {"lighting": "overcast"},
    "dusk": {"lighting": "dusk"},
    "night": {"lighting": "night"},
    "stripes": {"background": "stripes"},
    "noise": {"background": "noise"},
    "plain": {"background": "plain"},
    "distractors": {"distractors": 3},
    "occlusion": {"occlusion": 0.25},
}

MAX_RANGE = 5.0


def check_setting(setting: dict[str, Any]) -> dict[str, Any]:
    """Validate a (partial) scene setting.

    :param setting: keys of :data:`NOMINAL`.
    :return: the setting with normalised values.
    :raises ValueError: naming the bad key or value and what is allowed.
    """
    out = dict(setting)
    for key, value in setting.items():
        if key == "target_range":
            low, high = (float(v) for v in value)
            if not 0 < low <= high <= MAX_RANGE:
                raise ValueError(f"target_range must satisfy 0 < low <= high <= {MAX_RANGE} (m), got {value!r}")
            out[key] = (low, high)
        elif key == "season":
            check_choice("season", value, list(PALETTES))
        elif key == "lighting":
            check_choice("lighting", value, list(LIGHTING))
        elif key == "background":
            check_choice("background", value, BACKGROUNDS)
        elif key == "distractors":
            if not isinstance(value, (int, np.integer)) or not 0 <= value <= 8:
                raise ValueError(f"distractors must be an integer in [0, 8], got {value!r}")
            out[key] = int(value)
        elif key == "occlusion":
            if not 0.0 <= float(value) <= 0.5:
                raise ValueError(f"occlusion must be a fraction of the image in [0, 0.5], got {value!r}")
            out[key] = float(value)
        else:
            raise ValueError(f"unknown setting {key!r}; allowed: {sorted(NOMINAL)}")
    return out


class QuadFlyToTargetEnv(QuadrotorEnv):
    """Fly to within ``success_distance`` of a red sphere that starts in the camera's view.

    The drone starts near (0, 0, 1) m with a random heading; the target is drawn at a
    horizontal range from ``target_range``, within 20 degrees of the heading, 0.6-1.4 m high.

    Observations (``observation``):

    - ``"features"`` (float32 ``[10]``): the detector's azimuth and elevation (rad) and
      apparent angular size (rad) of the largest visible red sphere (the target, or a
      distractor that looks larger), a visible flag (1/0; zeros when nothing is seen or
      its centre is occluded), body rates (rad/s, 3), and the world's up direction in the
      body frame (3, from the attitude estimate). Their names (``observation_names``):
      ``azimuth``, ``elevation``, ``size``, ``visible``, ``roll_rate``, ``pitch_rate``,
      ``yaw_rate``, ``up_x``, ``up_y``, ``up_z``.
    - ``"camera"``: uint8 ``[height, width, 3]`` RGB image of :class:`NumpyCamera`.
    - ``"state"`` (float32 ``[22]``): target minus position and the drone state, as in hover
      (and named as there).

    Reward per step: ``5 (d_prev - d) - 0.01 |w|^2``; reaching the target adds 10 and ends
    the episode with ``info["success"]``; a crash adds ``crash_penalty``. ``info`` also holds
    ``target_visible``. Reset options: any key of :data:`NOMINAL`, or ``split``. The
    attribute ``task`` holds the environment's setting (keys of :data:`NOMINAL`), the one
    task-shift perturbations read; ``episode_setting`` the current episode's.

    :param observation: ``"features"``, ``"camera"`` or ``"state"``.
    :param split: a key of :data:`OOD_SPLITS` applied on top of the nominal setting.
    :param target_range: horizontal distance of the target (m), ``(low, high)``.
    :param season: a key of :data:`ncp_control.envs.quadrotor.camera.PALETTES`.
    :param lighting: a key of :data:`ncp_control.envs.quadrotor.camera.LIGHTING`.
    :param background: one of :data:`ncp_control.envs.quadrotor.camera.BACKGROUNDS`.
    :param distractors: number of look-alike spheres (0-8).
    :param occlusion: fraction of the image covered by an occluding patch (0-0.5).
    :param image_size: camera ``(height, width)`` in pixels.
    :param success_distance: distance to the target centre that counts as arrived (m).
    :param kwargs: arguments of :class:`ncp_control.envs.quadrotor.base.QuadrotorEnv`.
    """

    def __init__(
        self,
        observation: str = "features",
        split: str = "nominal",
        target_range: tuple[float, float] | None = None,
        season: str | None = None,
        lighting: str | None = None,
        background: str | None = None,
        distractors: int | None = None,
        occlusion: float | None = None,
        image_size: tuple[int, int] = (48, 64),
        success_distance: float = 0.3,
        **kwargs: Any,
    ) -> None:
        check_choice("observation", observation, OBSERVATIONS)
        check_choice("split", split, list(OOD_SPLITS))
        reach = MAX_RANGE + 1.0
        kwargs.setdefault("arena", ((-reach, reach), (-reach, reach), (0.0, 3.0)))
        super().__init__(**kwargs)
        self.observation = observation
        explicit = {
            "target_range": target_range, "season": season, "lighting": lighting,
            "background": background, "distractors": distractors, "occlusion": occlusion,
        }
        self.task = {**NOMINAL, **OOD_SPLITS[split], **check_setting({k: v for k, v in explicit.items() if v is not None})}
        self.success_distance = check_positive("success_distance", success_distance)
        if not isinstance(image_size, (tuple, list)) or len(image_size) != 2:
            raise ValueError(f"image_size must be (height, width) in pixels, each >= 8, got {image_size!r}")
        self.camera = NumpyCamera(int(image_size[0]), int(image_size[1]))
        self.camera_shape = (self.camera.height, self.camera.width)
        if observation == "features":
            self._vector = VectorObservation(
                np.array([-math.pi, -math.pi / 2, 0.0, 0.0, -40.0, -40.0, -40.0, -1.0, -1.0, -1.0]),
                np.array([math.pi, math.pi / 2, math.pi, 1.0, 40.0, 40.0, 40.0, 1.0, 1.0, 1.0]),
            )
        else:
            bound = np.full(3, POSITION_BOUND)
            self._vector = VectorObservation(np.concatenate([-bound, DRONE_LOW]), np.concatenate([bound, DRONE_HIGH]))
        self.observation_space = self._vector.space
        self.observation_names: tuple[str, ...] | None = (
            ("azimuth", "elevation", "size", "visible", "roll_rate", "pitch_rate", "yaw_rate", "up_x", "up_y", "up_z")
            if observation == "features" else ("target_dx", "target_dy", "target_dz", *DRONE_STATE_NAMES))
        if observation == "camera":
            self.observation_space = gym.spaces.Box(0, 255, shape=(*self.camera_shape, 3), dtype=np.uint8)
            self.observation_names = None
        self.target = np.zeros(3)
        self.spheres = np.zeros((1, 4))
        self.colours = np.zeros((1, 2, 3), dtype=np.uint8)
        self.style = SceneStyle()
        self.episode_setting: dict[str, Any] = dict(self.task)
        self._obs = self._vector.buffer
        self._previous = 0.0
        self._detection = (0.0, 0.0, 0.0, False)

    def _task_reset(self, options: dict[str, Any]) -> None:
        check_options(options, (*NOMINAL, "split"))
        options = dict(options)
        split = check_choice("split", options.pop("split", "nominal"), list(OOD_SPLITS))
        setting = {**self.task, **OOD_SPLITS[split], **check_setting(options)}
        self.episode_setting = setting
        rng = self.np_random
        yaw = float(rng.uniform(-math.pi, math.pi))
        start = np.array([0.0, 0.0, 1.0]) + rng.uniform(-0.1, 0.1, size=3)
        self._set_initial_state(start, 0.05, 0.05, yaw=yaw)
        low, high = setting["target_range"]
        distance = rng.uniform(low, high)
        bearing = yaw + rng.uniform(-1.0, 1.0) * math.radians(20.0)
        self.target[:] = (start[0] + distance * math.cos(bearing), start[1] + distance * math.sin(bearing), rng.uniform(0.6, 1.4))
        n = setting["distractors"]
        spheres = np.zeros((1 + n, 4))
        spheres[0, :3], spheres[0, 3] = self.target, TARGET_RADIUS
        colours = np.tile(np.asarray(PALETTES[setting["season"]]["target"], dtype=np.float64), (1 + n, 1))
        for i in range(1, n + 1):
            r = rng.uniform(1.0, 4.0)
            b = yaw + rng.uniform(-1.0, 1.0) * math.radians(40.0)
            spheres[i, :3] = (start[0] + r * math.cos(b), start[1] + r * math.sin(b), rng.uniform(0.3, 1.8))
            spheres[i, 3] = rng.uniform(0.6, 1.3) * TARGET_RADIUS
            colours[i] *= rng.uniform(0.85, 1.0)
        self.spheres, self.colours = spheres, sphere_colours(colours, setting["lighting"])
        occluder = None
        if setting["occlusion"] > 0:
            h, w = self.camera.height, self.camera.width
            side = math.sqrt(setting["occlusion"])
            oh, ow = max(1, int(round(side * h))), max(1, int(round(side * w)))
            r0 = int(rng.integers(0, h - oh + 1))
            c0 = int(rng.integers(0, w - ow + 1))
            occluder = (r0, r0 + oh, c0, c0 + ow)
        texture = rng.integers(0, 2, size=(16, 16)).astype(np.float64) if setting["background"] == "noise" else None
        self.style = SceneStyle(setting["season"], setting["lighting"], setting["background"], texture, occluder)
        self._previous = self._tracking_error()

    def _tracking_error(self) -> float:
        t, p = self.target, self._pos
        return math.sqrt((t[0] - p[0]) ** 2 + (t[1] - p[1]) ** 2 + (t[2] - p[2]) ** 2)

    def detect(self) -> tuple[float, float, float, bool]:
        """The colour-blob detector: the largest visible, unoccluded red sphere.

        :return: azimuth (rad), elevation (rad), apparent angular diameter (rad), and
            whether the detection is the true target (``False`` when nothing is seen).
        """
        rot = self._rot.reshape(3, 3)
        best = (0.0, 0.0, 0.0, False)
        occluder = self.style.occluder
        for k in range(len(self.spheres)):
            az, el, dist, inside = self.camera.project(self._pos, rot, self.spheres[k, :3])
            if not inside:
                continue
            if occluder is not None:
                row, col = self.camera.pixel(az, el)
                if occluder[0] <= row < occluder[1] and occluder[2] <= col < occluder[3]:
                    continue
            size = 2.0 * math.asin(min(1.0, self.spheres[k, 3] / max(dist, 1e-6)))
            if size > best[2]:
                best = (az, el, size, k == 0)
        return best

    def _task_observation(self) -> np.ndarray:
        if self.observation == "camera":
            return self.camera.render(self._pos, self._rot.reshape(3, 3), self.spheres, self.colours, self.style)
        obs = self._obs
        if self.observation == "state":
            np.subtract(self.target, self._pos, out=obs[0:3])
            self._drone_features(obs[3:22])
            return self._vector.output()
        self._detection = self.detect()
        az, el, size, _ = self._detection
        obs[0], obs[1], obs[2], obs[3] = az, el, size, 1.0 if size > 0 else 0.0
        obs[4:7] = self._rates
        obs[7:10] = self._rot[6:9]
        return self._vector.output()

    def _task_step(self) -> tuple[float, bool, bool, float]:
        d = self._tracking_error()
        w = self._rates
        reward = 5.0 * (self._previous - d) - 0.01 * float(w[0] * w[0] + w[1] * w[1] + w[2] * w[2])
        self._previous = d
        arrived = d < self.success_distance
        if arrived:
            reward += 10.0
        return reward, arrived, arrived, d

    def step(self, action: np.ndarray) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Advance one control step (see :meth:`QuadrotorEnv.step`); adds ``info["target_visible"]``."""
        obs, reward, terminated, truncated, info = super().step(action)
        info["target_visible"] = (self._detection if self.observation == "features" else self.detect())[3]
        return obs, reward, terminated, truncated, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode (see :meth:`QuadrotorEnv.reset`); options may change the setting."""
        obs, info = super().reset(seed=seed, options=options)
        info["target_visible"] = self.detect()[3]
        return obs, info

    def reference_setpoint(self) -> tuple[np.ndarray, float | None]:
        """:return: the target and the heading that faces it."""
        rel = self.target - self._pos
        return self.target, math.atan2(rel[1], rel[0])

    def _scene_points(self) -> list[tuple[np.ndarray, tuple[int, int, int]]]:
        points = [(s[:3], (200, 120, 120)) for s in self.spheres[1:]]
        return [*points, (self.target, (220, 30, 30))]

    def _camera_inset(self) -> np.ndarray | None:
        return self.camera.render(self._pos, self._rot.reshape(3, 3), self.spheres, self.colours, self.style)
