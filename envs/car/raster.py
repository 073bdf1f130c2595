"""Numpy rasteriser of the road around the car: a forward camera and a top-down map.

Both views map each pixel to a point on flat ground in the car's frame (``d`` metres ahead,
``x`` metres to the left). In both, every image row sees one forward distance, so the road's
centreline is found once per row (interpolated from the centreline samples transformed into the
car frame), and each pixel is then classified by its offset from the lane centre: grass (with
mown stripes that move as the car drives), shoulder, asphalt, white edge lines, a dashed yellow
centre line. Colours come from a look-up table per (row, class), built once per palette, so the
per-step cost is a handful of vectorised comparisons and one gather.

The road is a two-lane road with right-hand traffic: the car's lane spans
``[-w/2, w/2]`` around the lane centre, the centre line is at ``+w/2`` (left) and the opposite lane
beyond it.
"""

from __future__ import annotations

import math

import numpy as np

from envs.car.road import Road

SKY, GRASS, GRASS_DARK, SHOULDER, ASPHALT, WHITE, YELLOW, HAZE, CAR = range(9)
#: Colours (RGB) of each class, per season.
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


class View:
    """Pixel-to-ground geometry of one view.

    :param rows_d: forward distance seen by each row (m), shape ``[H]``; ``nan`` above the horizon.
    :param x: lateral position of each pixel (m, positive left), shape ``[H, W]``.
    :param max_distance: rows farther than this are drawn as haze.
    """

    def __init__(self, rows_d: np.ndarray, x: np.ndarray, max_distance: float) -> None:
        self.height, self.width = x.shape
        self.max_distance = max_distance
        self.sky = np.isnan(rows_d)
        self.haze = ~self.sky & (rows_d > max_distance)
        self.valid = ~(self.sky | self.haze)
        self.rows_d = np.where(self.valid, rows_d, 0.0)
        self.x = np.where(self.valid[:, None], x, 0.0)
        pixel = np.abs(np.diff(self.x, axis=1)).mean(axis=1) if self.width > 1 else np.zeros(self.height)
        self.line_half = np.maximum(0.5 * LINE_WIDTH, 0.5 * pixel)[:, None]
        self.row_index = np.arange(self.height)[:, None]
        self.d_min = float(self.rows_d[self.valid].min()) if self.valid.any() else 0.0
        self.d_max = float(self.rows_d[self.valid].max()) if self.valid.any() else 0.0

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
        return cls(rows_d, np.broadcast_to(cols, (size, size)).copy(), max_distance=np.inf)


def colour_table(view: View, season: str, lighting: str, headlights: bool = True) -> np.ndarray:
    """The colour of each class in each row of a view.

    :param view: the view.
    :param season: a key of :data:`SEASONS`.
    :param lighting: a key of :data:`LIGHTING`.
    :param headlights: whether the car's headlights light the ground (off for the map view).
    :return: ``uint8`` array of shape ``[H, 9, 3]``.
    """
    base = np.zeros((9, 3))
    for k, c in SEASONS[season].items():
        base[k] = c
    base[HAZE] = 0.5 * (base[GRASS] + base[SKY])
    base[CAR] = CAR_COLOUR
    light = LIGHTING[lighting]
    tint = np.asarray(light["tint"], dtype=np.float64)
    ambient = float(light["ambient"])  # type: ignore[arg-type]
    gain = np.full(view.height, ambient)
    if headlights and float(light["headlight"]) > 0:  # type: ignore[arg-type]
        reach = float(light["reach"])  # type: ignore[arg-type]
        gain = gain + float(light["headlight"]) * np.where(view.valid, np.exp(-view.rows_d / reach), 0.0)  # type: ignore[arg-type]
    table = base[None, :, :] * gain[:, None, None] * tint[None, None, :]
    sky = light["sky"]
    table[:, SKY] = base[SKY] if sky is None else np.asarray(sky)
    table[:, CAR] = base[CAR]
    return np.clip(table, 0, 255).astype(np.uint8)


def rasterise(view: View, table: np.ndarray, road: Road, s: float, e_y: float, e_psi: float,
              lane_width: float, draw_car: bool = False) -> np.ndarray:
    """Draw the road as seen from the car.

    :param view: the view geometry.
    :param table: its colour table (:func:`colour_table`), shape ``[H, 9, 3]``.
    :param road: the road.
    :param s: the car's arc length (m).
    :param e_y: its lateral offset from the lane centre (m).
    :param e_psi: its heading error (rad).
    :param lane_width: width of one lane (m).
    :param draw_car: draw the car's outline at the origin (for the map view).
    :return: ``uint8`` image of shape ``[H, W, 3]``.
    """
    xr, yr, theta = road.pose_at(s)
    psi = theta + e_psi
    xc = xr - e_y * math.sin(theta)
    yc = yr + e_y * math.cos(theta)
    ws, wx, wy, wh = road.window(s + min(view.d_min, 0.0) - 5.0, s + view.d_max + 5.0)
    dx = wx - xc
    dy = wy - yc
    cos_p, sin_p = math.cos(psi), math.sin(psi)
    fwd = np.maximum.accumulate(dx * cos_p + dy * sin_p)
    lat = -dx * sin_p + dy * cos_p
    d = view.rows_d
    centre = np.interp(d, fwd, lat)
    rel = np.interp(d, fwd, wh - psi)
    s_row = np.interp(d, fwd, ws)
    q = (view.x - centre[:, None]) * np.cos(rel)[:, None]  # offset from the lane centre, positive left
    half = 0.5 * lane_width
    grass = np.where(np.mod(s_row, STRIPE_PERIOD) < 0.5 * STRIPE_PERIOD, GRASS, GRASS_DARK)
    cls = np.where((q > -half - SHOULDER_WIDTH) & (q < half + lane_width + SHOULDER_WIDTH), SHOULDER, grass[:, None])
    cls[(q > -half) & (q < half + lane_width)] = ASPHALT
    lh = view.line_half
    cls[(np.abs(q + half) < lh) | (np.abs(q - half - lane_width) < lh)] = WHITE
    dash = (np.mod(s_row, DASH_PERIOD) < 0.5 * DASH_PERIOD)[:, None]
    cls[(np.abs(q - half) < lh) & dash] = YELLOW
    cls[view.sky] = SKY
    cls[view.haze] = HAZE
    if draw_car:
        cls[(d[:, None] > -2.3) & (d[:, None] < 2.2) & (np.abs(view.x) < 0.9)] = CAR
    return table[view.row_index, cls]
