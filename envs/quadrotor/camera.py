"""A low-resolution forward camera drawn with numpy (ray casting), with scene styles.

The camera looks along the body x axis (image right = body -y, image down = body -z).
Each pixel's ray is intersected with the ground plane (a textured pattern), the sky (a
gradient) and spheres (the target and look-alike distractors, shaded towards their
rims); an optional occluding patch covers part of the image; the lighting scales and
tints the whole picture. The same geometry gives the ``features`` observation: the
bearing and apparent size of what a colour-blob detector would lock onto.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Colour palettes by season: sky top, sky at the horizon, ground (two tones), target, occluder.
PALETTES: dict[str, dict[str, tuple[int, int, int]]] = {
    "summer": {"sky": (80, 140, 230), "horizon": (190, 215, 240), "ground_a": (70, 135, 55),
               "ground_b": (95, 160, 70), "target": (225, 35, 35), "occluder": (55, 55, 60)},
    "spring": {"sky": (110, 170, 235), "horizon": (210, 225, 240), "ground_a": (120, 175, 85),
               "ground_b": (160, 200, 110), "target": (225, 35, 35), "occluder": (55, 55, 60)},
    "autumn": {"sky": (120, 145, 190), "horizon": (215, 200, 175), "ground_a": (150, 95, 40),
               "ground_b": (180, 125, 50), "target": (225, 35, 35), "occluder": (55, 55, 60)},
    "winter": {"sky": (165, 175, 195), "horizon": (225, 228, 235), "ground_a": (225, 228, 235),
               "ground_b": (200, 205, 215), "target": (225, 35, 35), "occluder": (55, 55, 60)},
}

#: Lighting: brightness factor and additive RGB tint.
LIGHTING: dict[str, tuple[float, tuple[float, float, float]]] = {
    "day": (1.0, (0.0, 0.0, 0.0)),
    "overcast": (0.8, (10.0, 10.0, 15.0)),
    "dusk": (0.6, (25.0, 0.0, -15.0)),
    "night": (0.25, (0.0, 5.0, 20.0)),
}

#: Ground textures.
BACKGROUNDS = ("checker", "stripes", "noise", "plain")


def check_choice(name: str, value: str, allowed: tuple[str, ...] | list[str]) -> str:
    """:return: ``value``. :raises ValueError: if it is not one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
    return value


def sphere_colours(colours: np.ndarray, lighting: str) -> np.ndarray:
    """Lit centre and darker rim colours of spheres under a lighting.

    :param colours: ``[n, 3]`` RGB base colours.
    :param lighting: a key of :data:`LIGHTING`.
    :return: uint8 ``[n, 2, 3]``.
    """
    brightness, tint = LIGHTING[lighting]
    base = np.asarray(colours, dtype=np.float64)[:, None, :] * np.array([1.0, 0.6])[None, :, None]
    return np.clip(base * brightness + np.array(tint), 0, 255).astype(np.uint8)


@dataclass
class SceneStyle:
    """How one episode's world looks.

    :param season: a key of :data:`PALETTES`.
    :param lighting: a key of :data:`LIGHTING`.
    :param background: one of :data:`BACKGROUNDS`.
    :param texture: for ``"noise"``, a ``[16, 16]`` array of 0/1 ground tiles.
    :param occluder: ``(row0, row1, col0, col1)`` of the occluding patch, or ``None``.
    """

    season: str = "summer"
    lighting: str = "day"
    background: str = "checker"
    texture: np.ndarray | None = None
    occluder: tuple[int, int, int, int] | None = None


class NumpyCamera:
    """Pinhole camera fixed to the drone body, rendering ``[height, width, 3]`` uint8 images.

    Rendering is a handful of whole-image numpy operations: rays are rotated to the world
    frame, sky pixels get a quantised elevation gradient and ground pixels a texture tone
    and a quantised fog level; one look-up in a 48-colour table (lighting already applied)
    gives the picture. Spheres are then drawn as two-tone discs (lit centre, darker rim) of their apparent
    size, only inside their projected bounding box.

    :param height: image rows.
    :param width: image columns.
    :param fov: horizontal field of view (rad).
    :param tile: ground pattern period (m).
    """

    LEVELS = 16

    def __init__(self, height: int = 48, width: int = 64, fov: float = math.radians(90.0), tile: float = 0.5) -> None:
        if height < 8 or width < 8:
            raise ValueError(f"image size must be at least 8 x 8 pixels, got {height} x {width}")
        if not 0 < fov < math.pi:
            raise ValueError(f"fov must be in (0, pi) rad, got {fov!r}")
        self.height, self.width, self.inv_tile = height, width, 1.0 / tile
        self.tan_h = math.tan(fov / 2)
        self.tan_v = self.tan_h * height / width
        cols = ((np.arange(width) + 0.5) / width * 2 - 1) * self.tan_h
        rows = ((np.arange(height) + 0.5) / height * 2 - 1) * self.tan_v
        rays = np.stack(np.broadcast_arrays(1.0, -cols[None, :], -rows[:, None]), axis=0).reshape(3, -1)
        self.rays = np.ascontiguousarray(rays / np.linalg.norm(rays, axis=0, keepdims=True), dtype=np.float32)
        n = height * width
        self._world = np.empty((3, n), dtype=np.float32)
        self._t = np.empty(n, dtype=np.float32)
        self._u = np.empty(n, dtype=np.float32)
        self._v = np.empty(n, dtype=np.float32)
        self._rot32 = np.empty((3, 3), dtype=np.float32)
        self._rows = (np.arange(height, dtype=np.float32) + 0.5)[:, None]
        self._cols = (np.arange(width, dtype=np.float32) + 0.5)[None, :]
        self._tables: dict[tuple[str, str], np.ndarray] = {}

    def table(self, season: str, lighting: str) -> np.ndarray:
        """Colours, lighting applied, packed as RGBX in 32-bit words: ground tone a by fog
        level (0-15), ground tone b by fog level (16-31), sky by elevation (32-47), occluder (48).

        :return: uint32 ``[49]``.
        """
        key = (season, lighting)
        if key not in self._tables:
            palette, (brightness, tint) = PALETTES[season], LIGHTING[lighting]
            level = np.linspace(0.0, 1.0, self.LEVELS)[:, None]
            sky, horizon = np.array(palette["sky"], float), np.array(palette["horizon"], float)
            rows = []
            for tone in ("ground_a", "ground_b"):
                rows.append(np.array(palette[tone], float) + level * (horizon - np.array(palette[tone], float)))
            rows.append(horizon + level * (sky - horizon))
            rows.append(np.array([palette["occluder"]], float))
            colours = np.clip(np.concatenate(rows) * brightness + np.array(tint), 0, 255)
            rgbx = np.zeros((len(colours), 4), dtype=np.uint8)
            rgbx[:, :3] = colours.astype(np.uint8)
            self._tables[key] = rgbx.view(np.uint32).ravel()
        return self._tables[key]

    def project(self, position: np.ndarray, rotation: np.ndarray, point: np.ndarray) -> tuple[float, float, float, bool]:
        """Where a world point appears.

        :param position: camera position ``[3]``.
        :param rotation: body-to-world rotation ``[3, 3]``.
        :param point: world point ``[3]``.
        :return: azimuth (rad, left positive), elevation (rad, up positive), distance (m),
            and whether it is inside the field of view.
        """
        dx, dy, dz = (float(point[i] - position[i]) for i in range(3))
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = rotation.tolist()
        x = r00 * dx + r10 * dy + r20 * dz  # body frame: R^T (point - position)
        y = r01 * dx + r11 * dy + r21 * dz
        z = r02 * dx + r12 * dy + r22 * dz
        distance = math.sqrt(x * x + y * y + z * z)
        inside = x > 1e-6 and abs(y / x) <= self.tan_h and abs(z / x) <= self.tan_v
        return math.atan2(y, x), math.atan2(z, math.hypot(x, y)), distance, inside

    def pixel(self, azimuth: float, elevation: float) -> tuple[float, float]:
        """:return: the (row, column) of a direction in front of the camera."""
        col = (1 - math.tan(azimuth) / self.tan_h) * self.width / 2
        row = (1 - math.tan(elevation) / math.cos(azimuth) / self.tan_v) * self.height / 2
        return row, col

    def render(
        self,
        position: np.ndarray,
        rotation: np.ndarray,
        spheres: np.ndarray,
        colours: np.ndarray,
        style: SceneStyle,
    ) -> np.ndarray:
        """Render one image.

        :param position: camera position ``[3]`` (m).
        :param rotation: body-to-world rotation ``[3, 3]``.
        :param spheres: ``[n, 4]`` centres and radii (m).
        :param colours: uint8 ``[n, 2, 3]`` lit and rim colours of the spheres (:func:`sphere_colours`).
        :param style: the scene style.
        :return: uint8 image ``[height, width, 3]`` (a new array each call; the RGB view of
            an RGBX buffer, so not C-contiguous).
        """
        self._rot32[:] = rotation
        world = np.matmul(self._rot32, self.rays, out=self._world)
        wx, wy, wz = world
        t, u, v = self._t, self._u, self._v
        k = self.inv_tile
        levels = self.LEVELS - 1
        # distance along each ray to the ground, in tiles (sky rays get a clamped, unused value)
        np.minimum(wz, -1e-3, out=t)
        np.divide(-float(position[2]) * k, t, out=t)
        np.multiply(t, wx, out=u)
        u += float(position[0]) * k
        np.multiply(t, wy, out=v)
        v += float(position[1]) * k
        index = self._pattern(u, v, style)  # tone 0 or 1 (a new array)
        index *= self.LEVELS
        np.multiply(t, levels / (20.0 * k), out=t)  # fog reaches the horizon colour at 20 m
        np.minimum(t, levels, out=t)
        index += t  # truncation below floors these non-negative levels
        np.multiply(wz, levels, out=u)
        u += 2 * self.LEVELS + 0.5
        np.copyto(index, u, where=wz >= -1e-3)
        packed = self.table(style.season, style.lighting)
        # one 4-byte gather per pixel; the picture is the RGB view of the RGBX result
        picture = packed.take(index.astype(np.int32)).view(np.uint8).reshape(self.height, self.width, 4)[..., :3]
        if len(spheres):
            self._draw_spheres(picture, position, rotation, spheres, colours, style)
        if style.occluder is not None:
            r0, r1, c0, c1 = style.occluder
            picture[r0:r1, c0:c1] = packed[3 * self.LEVELS : 3 * self.LEVELS + 1].view(np.uint8)[:3]
        return picture

    def _draw_spheres(
        self,
        picture: np.ndarray,
        position: np.ndarray,
        rotation: np.ndarray,
        spheres: np.ndarray,
        colours: np.ndarray,
        style: SceneStyle,
    ) -> None:
        """Draw spheres as discs, far to near, inside their projected bounding boxes."""
        px, py, pz = position.tolist()
        (r00, r01, r02), (r10, r11, r12), (r20, r21, r22) = rotation.tolist()
        rel, radii, distance = [], [], []
        for cx, cy, cz, radius in spheres.tolist():  # to the body frame: R^T (c - p)
            dx, dy, dz = cx - px, cy - py, cz - pz
            rel.append((r00 * dx + r10 * dy + r20 * dz, r01 * dx + r11 * dy + r21 * dz, r02 * dx + r12 * dy + r22 * dz))
            radii.append(radius)
            distance.append(math.sqrt(dx * dx + dy * dy + dz * dz))
        pixel_angle = 2 * self.tan_h / self.width
        order = sorted(range(len(rel)), key=distance.__getitem__, reverse=True) if len(rel) > 1 else [0]
        for k in order:
            x, y, z = rel[k]
            radius, dist = radii[k], distance[k]
            if x <= radius or dist <= radius:
                continue
            col = (1 - (y / x) / self.tan_h) * self.width / 2
            row = (1 - (z / x) / self.tan_v) * self.height / 2
            half = (radius / math.sqrt(dist * dist - radius * radius)) * (dist / x) ** 2 / pixel_angle + 1.5
            r0, r1 = max(int(row - half), 0), min(int(row + half) + 1, self.height)
            c0, c1 = max(int(col - half), 0), min(int(col + half) + 1, self.width)
            if r0 >= r1 or c0 >= c1:
                continue
            radius_px = half - 1.5
            rim = self._rows[r0:r1] - row
            rim *= rim
            across = self._cols[:, c0:c1] - col
            across *= across
            rim = rim + across
            rim *= 1.0 / (radius_px * radius_px)  # < 1 on the disc, < 0.4 its lit centre
            hit = rim < 1.0
            target = picture[r0:r1, c0:c1]
            np.copyto(target, colours[k, 1], where=hit[:, :, None])
            np.copyto(target, colours[k, 0], where=(rim < 0.4)[:, :, None])

    def _pattern(self, u: np.ndarray, v: np.ndarray, style: SceneStyle) -> np.ndarray:
        """:return: ground tone in {0, 1} (float32, a new array) at ground points ``(u, v)`` (tiles)."""
        if style.background == "plain":
            return np.zeros_like(u)
        fx = np.floor(u)
        if style.background == "stripes":
            return fx - 2 * np.floor(fx * 0.5)
        fy = np.floor(v)
        if style.background == "noise" and style.texture is not None:
            return style.texture[fx.astype(np.intp) & 15, fy.astype(np.intp) & 15].astype(np.float32)
        fx += fy
        return fx - 2 * np.floor(fx * 0.5)
