"""Watching policies: episode videos at the environment's real time, several policies side by
side with overlays, and the neurons of liquid networks beside them.

- :mod:`~ncp_control.agents.watch.video`: frame timing and the writers (PNG frames, GIF, MP4);
- :mod:`~ncp_control.agents.watch.compose`: panels side by side on one clock;
- :mod:`~ncp_control.agents.watch.overlay`: the text above each panel;
- :mod:`~ncp_control.agents.watch.neurons`: a liquid network's activity beside its episode;
- :mod:`~ncp_control.agents.watch.episode`: :func:`watch`, which runs and records them.
"""

from ncp_control.agents.watch.episode import Panel, Watched, watch
from ncp_control.agents.watch.neurons import NeuronPanel, NeuronProbe
from ncp_control.agents.watch.overlay import Moment, overlay_lines
from ncp_control.agents.watch.video import VideoWriter, frame_period, video_kind

__all__ = ["Moment", "NeuronPanel", "NeuronProbe", "Panel", "VideoWriter", "Watched", "frame_period",
           "overlay_lines", "video_kind", "watch"]
