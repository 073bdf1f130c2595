"""Image observation perturbations: brightness, contrast, pixel noise, occlusion.

They apply to image observations: a Box of shape (H, W), (H, W, C) or (C, H, W) with
C in {1, 3, 4} and finite bounds (uint8 0..255 or float 0..1). Magnitudes are fractions of
the intensity range ``high - low``, so they mean the same for uint8 and float images.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from ncp_control.envs.perturbations.observation import ObservationPerturbation
from ncp_control.envs.perturbations.schedules import Schedule


class ImagePerturbation(ObservationPerturbation):
    """Base of image perturbations: finds the spatial axes and intensity range."""

    supports = "image observations: a Box (H, W), (H, W, C) or (C, H, W) with finite bounds (our camera modes)"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        shape = self._low.shape
        if len(shape) == 2:
            self._spatial = (0, 1)
        elif len(shape) == 3 and shape[-1] in (1, 3, 4):
            self._spatial = (0, 1)
        elif len(shape) == 3 and shape[0] in (1, 3, 4):
            self._spatial = (1, 2)
        else:
            raise ValueError(f"perturbation {self.name!r} needs an image observation; supported: {self.supports}; got shape {shape}")
        if not (np.isfinite(self._low).all() and np.isfinite(self._high).all()):
            raise ValueError(f"perturbation {self.name!r} needs finite observation bounds; supported: {self.supports}")
        self._lo = float(np.min(self._low))
        self._range = float(np.max(self._high)) - self._lo
        self._integer = np.issubdtype(self._dtype, np.integer)

    def _finish(self, obs: np.ndarray) -> np.ndarray:
        if self._integer:
            obs = np.rint(obs)
        return super()._finish(obs)


class ImageBrightness(ImagePerturbation):
    """Brightness shift: +40% of the intensity range at level 1 (``direction=-1``: darker).

    :param direction: +1 brighter, -1 darker.
    """

    name = "image_brightness"
    unit = "fraction of intensity range"
    default_scale = 0.4
    description = "image brightness shift"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None, direction: int = 1) -> None:
        super().__init__(env, level, scale, schedule, seed)
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 (brighter) or -1 (darker), got {direction!r}")
        self.direction = direction

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        return self._finish(obs.astype(np.float32) + self.direction * self.magnitude * self._range)


class ImageContrast(ImagePerturbation):
    """Contrast loss: pixels pulled towards the image mean, by 80% at level 1."""

    name = "image_contrast"
    unit = "fraction of contrast lost"
    default_scale = 0.8
    description = "image contrast reduction"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._check_scale_at_most_one("fraction")

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        pixels = obs.astype(np.float32)
        mean = pixels.mean()
        return self._finish(mean + (pixels - mean) * (1.0 - self.magnitude))


class ImageNoise(ImagePerturbation):
    """Gaussian pixel noise: standard deviation 20% of the intensity range at level 1."""

    name = "image_noise"
    unit = "fraction of intensity range (std)"
    default_scale = 0.2
    description = "Gaussian pixel noise"

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        noise = self.rng.standard_normal(obs.shape, dtype=np.float32)
        return self._finish(obs.astype(np.float32) + self.magnitude * self._range * noise)


class ImageOcclusion(ImagePerturbation):
    """An opaque rectangle covering 50% of the image area at level 1, placed at random per
    episode (same aspect ratio as the image), filled with the lowest intensity."""

    name = "image_occlusion"
    unit = "fraction of image area"
    default_scale = 0.5
    description = "occluding patch over the image"

    def __init__(self, env: gym.Env, level: float, scale: float | None = None, schedule: Schedule | str | None = None,
                 seed: int | None = None) -> None:
        super().__init__(env, level, scale, schedule, seed)
        self._check_scale_at_most_one("fraction")

    def _start_episode(self, obs: np.ndarray) -> None:
        self._corner = self.rng.random(2)

    def _observe(self, obs: np.ndarray) -> np.ndarray:
        axis_h, axis_w = self._spatial
        height, width = obs.shape[axis_h], obs.shape[axis_w]
        side = np.sqrt(self.magnitude)
        patch_h, patch_w = int(round(side * height)), int(round(side * width))
        if patch_h == 0 or patch_w == 0:
            return obs
        top = int(self._corner[0] * (height - patch_h))
        left = int(self._corner[1] * (width - patch_w))
        out = np.array(obs, copy=True)
        index: list[Any] = [slice(None)] * obs.ndim
        index[axis_h], index[axis_w] = slice(top, top + patch_h), slice(left, left + patch_w)
        out[tuple(index)] = self._lo
        return out
