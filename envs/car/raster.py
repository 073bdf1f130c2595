"""Numpy rasteriser of the road around the car: a forward camera and a top-down map.

Both views map each pixel to a point on flat ground in the car's frame (``d`` metres ahead,
``x`` metres to the left). In both, every image row sees one forward distance, so the road's
centreline is found once per row (interpolated from the centreline samples transformed into the
car frame), and each pixel is then classified by its offset from the lane centre: grass (with
mown stripes that move as the car drives), shoulder, asphalt, white edge lines, a dashed yellow
centre line. Colours come from a look-up table per (row, surface), built once per palette, so the
per-step cost is a handful of vectorised comparisons and one gather.

The road is a two-lane road with right-hand traffic: the car's lane spans
``[-w/2, w/2]`` around the lane centre, the centre line is at ``+w/2`` (left) and the opposite lane
beyond it.
"""

from __future__ import annotations

import math

import numpy as np
from ncp_control.envs.car.road import Road

SKY, GRASS, GRASS_DARK, SHOULDER, ASPHALT, WHITE, YELLOW = range(7)
#: Colours (RGB) of each surface, per season.
SEASONS: dict[str, dict[int, tuple[int, int, int]]] = {
    "summer": {SKY: (140, 185, 235), GRASS: (72, 140, 55), GRASS_DARK: (62, 124, 48), SHOULDER: (150, 140, 115),
               ASPHALT: (88, 88, 92), WHITE: (235, 235, 235), YELLOW: (230, 190, 40)},
    "spring": {SKY: (160, 205, 245), GRASS: (110, 175, 80), GRASS_DARK: (96, 160, 70), SHOULDER: (150, 140, 115),
               ASPHALT: (92, 92, 96), WHITE: (235, 235, 235), YELLOW: (230, 190, 40)},
    "autumn": {SKY: (170, 180, 200), GRASS: (160, 115, 50), GRASS_DARK: (140, 96, 44), SHOULDER: (125, 105, 85),
               ASPHALT: (80, 78, 78), WHITE: (220, 220, 215), YELLOW: (215, 170, 45)},
    "winter": {SKY: (200, 206, 216), GRASS: (232, 236, 242), GRASS_DARK: (218, 224, 232), SHOULDER: (200, 204, 210),
               ASPHALT: (118, 120, 126), WHITE: (250, 250, 250), YELLOW: (220, 190, 80)},
}
#: Lighting: ambient brightness, RGB tint, headlight strength and reach (m), sky colour override.
LIGHTING: dict[str, dict[str, object]] = {
    "day": {"ambient": 1.0, "tint": (1.0, 1.0, 1.0), "headlight": 0.0, "reach": 1.0, "sky": None},
    "dusk": {"ambient": 0.6, "tint": (1.15, 0.85, 0.7), "headlight": 0.25, "reach": 25.0, "sky": (200, 120, 90)},
    "night": {"ambient": 0.1, "tint": (0.9, 0.95, 1.1), "headlight": 0.9, "reach": 22.0, "sky": (12, 14, 30)},
}
CAR_COLOUR = (200, 30, 30)
#: Road layout (m).
SHOULDER_WIDTH = 0.6
LINE_WIDTH = 0.15
DASH_PERIOD = 9.0
STRIPE_PERIOD = 4.0
#: Surfaces by distance band from the centre line (the road is symmetric about it), per variant
#: (grass stripe, centre dash): band 0 centre line, 1 asphalt, 2 edge line, 3 shoulder, 4 grass.
BANDS = 5
VARIANTS = [(stripe, dash) for stripe in (False, True) for dash in (False, True)]


class View:
    """Pixel-to-ground geometry of one view.

    :param rows_d: forward distance seen by each row (m), shape ``[H]``; ``nan`` above the horizon.
    :param x: lateral position of each pixel (m, positive left), shape ``[H, W]``.
    :param max_distance: rows farther than this are drawn as haze.
    """

    def __init__(self, rows_d: np.ndarray, x: np.ndarray, max_distance: float) -> None:
        self.height, self.width = x.shape
        self.sky = np.isnan(rows_d)
        self.haze = ~self.sky & (rows_d > max_distance)
        self.valid = ~(self.sky | self.haze)
        self.rows_d = np.where(self.valid, rows_d, 0.0)
        self.x = np.where(self.valid[:, None], x, 0.0).astype(np.float32)
        pixel = np.abs(np.diff(self.x, axis=1)).mean(axis=1) if self.width > 1 else np.zeros(self.height)
        self.line_half = np.maximum(0.5 * LINE_WIDTH, 0.5 * pixel)
        self.d_min = float(self.rows_d[self.valid].min()) if self.valid.any() else 0.0
        self.d_max = float(self.rows_d[self.valid].max()) if self.valid.any() else 0.0
        self._bands: dict[float, tuple[np.ndarray, ...]] = {}
        self._template: tuple[np.ndarray, np.ndarray] | None = None
        rows = np.arange(self.height) * len(VARIANTS) * BANDS
        self.sky_index = self.height * len(VARIANTS) * BANDS
        self.fixed_index = np.where(self.sky, self.sky_index, np.where(self.haze, self.sky_index + BANDS, rows))
        self.car_mask: np.ndarray | None = None
        # Sky and haze rows are all above the ground rows; only ground rows are computed per frame.
        self.ground = int(np.argmax(self.valid)) if self.valid.any() else self.height
        if not self.valid[self.ground :].all():
            raise ValueError("a view must see sky or haze above the ground rows, never below them")
        self.ground_d = self.rows_d[self.ground :]
        self.ground_x = np.ascontiguousarray(self.x[self.ground :])
        self.ground_index = self.fixed_index[self.ground :]
        #: Work arrays reused by :func:`rasterise` (ground rows): distances, bands, table indices.
        shape = self.ground_x.shape
        self.scratch = (np.empty(shape, np.float32), np.empty(shape, np.uint8), np.empty(shape, np.intp))

    def template(self, table: np.ndarray) -> np.ndarray:
        """A new image with the sky and haze rows drawn (the ground rows are left to fill).

        :param table: a colour table of this view (:func:`colour_table`).
        :return: ``uint8`` ``[H, W, 3]``.
        """
        if self._template is None or self._template[0] is not table:
            image = np.zeros((self.height, self.width, 3), np.uint8)
            image[: self.ground] = table[self.fixed_index[: self.ground]].view(np.uint8).reshape(-1, 1, 3)
            self._template = (table, image)
        return self._template[1].copy()

    def bands(self, lane_width: float) -> tuple[np.ndarray, ...]:
        """:return: the four band edges (m from the centre line) of the ground rows, each ``[H_ground, 1]``, float32."""
        if lane_width not in self._bands:
            lh = self.line_half[self.ground :]
            edges = (lh, lane_width - lh, lane_width + lh, np.full_like(lh, lane_width + SHOULDER_WIDTH))
            self._bands[lane_width] = tuple(e.astype(np.float32)[:, None] for e in edges)
        return self._bands[lane_width]

    @classmethod
    def camera(cls, height: int, width: int, fov_deg: float = 90.0, pitch_deg: float = 8.0,
               mount_height: float = 1.3, max_distance: float = 60.0) -> View:
        """A forward pinhole camera on the car's roof.

        :param height: image rows.
        :param width: image columns.
        :param fov_deg: horizontal field of view (degrees).
        :param pitch_deg: downward pitch (degrees).
        :param mount_height: height above the road (m).
        :param max_distance: farthest ground drawn, beyond is haze (m).
        """
        focal = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
        v = (np.arange(height) + 0.5 - height / 2) / focal
        u = -(np.arange(width) + 0.5 - width / 2) / focal  # positive to the left
        pitch = math.radians(pitch_deg)
        forward = math.cos(pitch) - v * math.sin(pitch)
        down = math.sin(pitch) + v * math.cos(pitch)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(down > 1e-6, mount_height / down, np.nan)
        return cls(t * forward, t[:, None] * u[None, :], max_distance)

    @classmethod
    def top_down(cls, size: int, metres: float, behind: float) -> View:
        """An orthographic map view with the car in the middle, heading up.

        :param size: image rows and columns.
        :param metres: side of the square seen (m).
        :param behind: metres shown behind the car.
        """
        rows_d = metres - behind - (np.arange(size) + 0.5) * metres / size
        cols = metres / 2 - (np.arange(size) + 0.5) * metres / size
        view = cls(rows_d, np.broadcast_to(cols, (size, size)).copy(), max_distance=np.inf)
        view.car_mask = (rows_d[:, None] > -2.3) & (rows_d[:, None] < 2.2) & (np.abs(cols)[None, :] < 0.9)
        return view


def colour_table(view: View, season: str, lighting: str, headlights: bool = True) -> np.ndarray:
    """The colour of each (row, variant, band), then the sky and haze blocks, packed as RGBA words.

    :param view: the view.
    :param season: a key of :data:`SEASONS`.
    :param lighting: a key of :data:`LIGHTING`.
    :param headlights: whether the car's headlights light the ground (off for the map view).
    :return: array of 3-byte RGB records (dtype ``V3``), shape ``[H * 4 * 5 + 10]``.
    """
    palette = {k: np.asarray(c, dtype=np.float64) for k, c in SEASONS[season].items()}
    light = LIGHTING[lighting]
    tint = np.asarray(light["tint"], dtype=np.float64)
    gain = np.full(view.height, float(light["ambient"]))  # type: ignore[arg-type]
    if headlights and float(light["headlight"]) > 0:  # type: ignore[arg-type]
        reach = float(light["reach"])  # type: ignore[arg-type]
        gain = gain + float(light["headlight"]) * np.where(view.valid, np.exp(-view.rows_d / reach), 0.0)  # type: ignore[arg-type]
    variants = np.stack([
        np.stack([palette[YELLOW if dash else ASPHALT], palette[ASPHALT], palette[WHITE], palette[SHOULDER],
                  palette[GRASS_DARK if stripe else GRASS]])
        for stripe, dash in VARIANTS
    ])  # [4, 5, 3]
    ground = variants[None] * gain[:, None, None, None] * tint
    sky = palette[SKY] if light["sky"] is None else np.asarray(light["sky"], dtype=np.float64)
    haze = 0.5 * (palette[GRASS] * float(light["ambient"]) * tint + sky)  # type: ignore[arg-type]
    rgb = np.concatenate([ground.reshape(-1, 3), np.repeat(sky[None], BANDS, 0), np.repeat(haze[None], BANDS, 0)])
    return np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8)).view("V3").ravel()


def rasterise(view: View, table: np.ndarray, road: Road, s: float, e_y: float, e_psi: float,
              lane_width: float, draw_car: bool = False) -> np.ndarray:
    """Draw the road as seen from the car.

    :param view: the view geometry.
    :param table: its colour table (:func:`colour_table`).
    :param road: the road.
    :param s: the car's arc length (m).
    :param e_y: its lateral offset from the lane centre (m).
    :param e_psi: its heading error (rad).
    :param lane_width: width of one lane (m).
    :param draw_car: draw the car at the origin (for the map view).
    :return: ``uint8`` image of shape ``[H, W, 3]``.
    """
    xr, yr, theta = road.pose_at(s)
    psi = theta + e_psi
    xc = xr - e_y * math.sin(theta)
    yc = yr + e_y * math.cos(theta)
    ws, wz, wh = road.window(s + min(view.d_min, 0.0) - 5.0, s + view.d_max + 5.0)
    # Centreline samples in the car frame: translate, then rotate by -psi (complex arithmetic).
    local = (wz - complex(xc, yc)) * complex(math.cos(psi), -math.sin(psi))
    fwd = np.maximum.accumulate(local.real)
    # Lateral position of the centre line (the lane centre plus half a lane), in the car frame.
    rel = wh - psi
    lat = local.imag + 0.5 * lane_width / np.cos(rel)
    g = view.ground
    image = view.template(table)
    if g < view.height:
        d = view.ground_d
        centre = np.interp(d, fwd, lat).astype(np.float32)[:, None]
        squeeze = np.cos(np.interp(d, fwd, rel)).astype(np.float32)[:, None]
        s_row = np.interp(d, fwd, ws)
        a, band, index = view.scratch
        np.subtract(view.ground_x, centre, out=a)
        np.abs(a, out=a)
        a *= squeeze  # distance from the centre line, measured across the road
        t1, t2, t3, t4 = view.bands(lane_width)
        np.greater(a, t1, out=band, casting="unsafe")
        band += a > t2
        band += a > t3
        band += a > t4
        stripe = np.mod(s_row, STRIPE_PERIOD) < 0.5 * STRIPE_PERIOD
        dash = np.mod(s_row, DASH_PERIOD) < 0.5 * DASH_PERIOD
        base = view.ground_index + BANDS * (2 * stripe + dash)
        np.add(band, base[:, None], out=index)
        np.take(table, index, out=image.view("V3").reshape(view.height, view.width)[g:], mode="clip")
    if draw_car and view.car_mask is not None:
        image[view.car_mask] = CAR_COLOUR
    return image
