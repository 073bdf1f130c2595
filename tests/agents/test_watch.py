"""Episode videos: real-time frame timing, side-by-side panels, overlays that say the episode's numbers."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import imageio_ffmpeg
import numpy as np
import pytest
from ncp_control.agents import LiquidPPO
from ncp_control.agents.common.env_util import make_env
from ncp_control.agents.common.eval_policies import ModelPolicy, reference_policy
from ncp_control.agents.common.evaluation import run_episodes
from ncp_control.agents.watch import Panel, frame_period, overlay_lines, video_kind, watch
from ncp_control.agents.watch.compose import GAP, grid
from ncp_control.agents.watch.neurons import MIN_HEIGHT, PANEL_WIDTH, neuron_probe
from ncp_control.agents.watch.overlay import header_height
from ncp_control.agents.watch.video import Timeline, instants
from ncp_control.envs.perturbations import compose
from PIL import Image

from ncp_control.errors import UserError

LANE, HOVER = "NCPControl/LaneKeeping-v0", "NCPControl/QuadHover-v0"


def _maker(env_id: str, perturbations: list[tuple[str, float]] | None = None, **kwargs):
    def make() -> gym.Env:
        env = make_env(env_id, {**kwargs, "render_mode": "rgb_array"})
        return compose(env, perturbations) if perturbations else env
    return make


def test_frame_period_follows_the_control_period() -> None:
    assert frame_period("mp4", 0.05) == frame_period("frames", 0.05) == 0.05
    assert frame_period("gif", 0.05) == pytest.approx(0.05)  # 5 hundredths: as is
    assert frame_period("gif", 0.01) == pytest.approx(0.02)  # browsers slow delays under 0.02 s down
    assert frame_period("gif", 1 / 30) == pytest.approx(0.03)  # whole hundredths
    assert [video_kind(p) for p in ("a.mp4", "b.GIF", "frames")] == ["mp4", "gif", "frames"]
    with pytest.raises(UserError, match="--render takes a folder"):
        video_kind("out.avi")


def test_timeline_shows_the_newest_frame_at_each_instant() -> None:
    timeline = Timeline()
    for time, frame in [(0.0, "a"), (0.03, "b"), (0.05, "c"), (0.12, "d")]:  # irregular steps (dt jitter)
        timeline.add(time, frame)
    timeline.ended = True
    assert [timeline.at(0.02 * i) for i in range(7)] == ["a", "a", "b", "c", "c", "c", "d"]
    assert instants(0.12, 0.02) == 7


@pytest.mark.parametrize("env_id", [LANE, HOVER])
def test_gif_and_mp4_play_at_the_envs_real_time(env_id: str, tmp_path: Path) -> None:
    fps = float(make_env(env_id).metadata["render_fps"])  # lane keeping 20, the quadrotor 100
    steps = 12
    panel = Panel("reference", reference_policy(env_id), _maker(env_id))
    mp4 = watch([panel], 3, tmp_path / "episode.mp4", max_steps=steps)
    reader = imageio_ffmpeg.read_frames(str(mp4.path))
    meta = next(reader)
    assert meta["fps"] == pytest.approx(fps)
    assert sum(1 for _ in reader) == mp4.frames == steps + 1  # the reset frame, then one per step
    gif = watch([panel], 3, tmp_path / "episode.gif", max_steps=steps)
    period = max(round(100 / fps), 2) / 100  # whole hundredths, at least 0.02 s
    with Image.open(gif.path) as image:
        durations = []
        for index in range(image.n_frames):
            image.seek(index)
            durations.append(image.info["duration"])
    assert gif.frames == instants(steps / fps, period)
    assert sum(durations) == pytest.approx(1000 * period * gif.frames)  # real time: the episode's duration
    assert all(d % round(1000 * period) == 0 for d in durations)  # identical frames may merge, never shorten


def test_side_by_side_video_size_frames_and_overlay_numbers(tmp_path: Path) -> None:
    model = LiquidPPO("CfCPolicy", LANE, n_steps=16, batch_size=16, seq_len=8, seed=0)
    shift = [("friction", 0.5)]
    make = _maker(LANE, shift)
    env = make()
    probe = neuron_probe(model, env)
    env.close()
    assert probe is not None and probe.input_names[:2] == ["e_y", "e_psi"]  # the env's observation names
    panels = [Panel("CfC-NCP", ModelPolicy(model), make, probe), Panel("reference", reference_policy(LANE), make)]
    watched = watch(panels, 5, tmp_path / "frames", max_steps=15, neurons=True)
    frames = sorted((tmp_path / "frames").glob("frame_*.png"))
    assert len(frames) == watched.frames == 16  # 15 steps of 0.05 s at 20 fps, and the reset frame
    # the env's 256 x 768 frame with the overlay above (padded to the neuron panel's height), neurons beside
    cell = (max(header_height() + 256, MIN_HEIGHT), 768 + PANEL_WIDTH)
    rows, columns = grid(2, cell)
    assert (rows, columns) == watched.layout == (2, 1)  # two 1148-pixel panels do not fit in a 1920-pixel row
    with Image.open(frames[-1]) as image:
        assert image.size == (columns * (cell[1] + GAP) - GAP, rows * (cell[0] + GAP) - GAP)
        pixels = np.asarray(image)
    assert pixels[:header_height()].std() > 10  # text drawn on the overlay band
    # the same seed and shift, run alone, give the numbers the overlays show
    for panel, moments in zip(panels, watched.moments):
        row = run_episodes(panel.policy, _maker(LANE, shift), [5], max_steps=15)[0]
        last = moments[-1]
        assert last.step == row["length"] == 15 and last.total == pytest.approx(row["return"], abs=1e-9)
        assert last.time == pytest.approx(15 * 0.05)
        assert [p["name"] for p in last.perturbations] == ["friction"] and last.perturbations[0]["level"] == 0.5
        assert f"return {row['return']:.1f}" in overlay_lines(last)[1] and "friction 0.50" in overlay_lines(last)[3]
        assert [m.step for m in moments] == list(range(16))
