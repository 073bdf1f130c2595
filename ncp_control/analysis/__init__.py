"""Inspecting liquid networks: expressivity, neuron traces, trained wiring, summaries.

Torch only; plots need matplotlib (and networkx for wiring diagrams), imported when drawing.

Example::

    from ncp_control import LTC, AutoNCP
    from ncp_control.analysis import record_traces, plot_traces, summarize, format_summary

    model = LTC(4, AutoNCP(19, 2, input_size=4))
    traces = record_traces(model, torch.randn(200, 4))
    print(traces.pc1_share(), format_summary(summarize(model)))
    plot_traces(traces, "traces.png")
"""

from ncp_control.analysis.expressivity import (
    KINDS,
    circle_inputs,
    compare,
    format_table,
    median_lengths,
    plot_expressivity,
    random_stack,
    trajectory_lengths,
)
from ncp_control.analysis.pca import arc_length, pca
from ncp_control.analysis.structure import (
    GROUPS,
    draw_trained_wiring,
    neuron_groups,
    synapse_strengths,
    wiring_of,
)
from ncp_control.analysis.summary import format_summary, summarize
from ncp_control.analysis.traces import NeuronTraces, plot_pca, plot_traces, record_traces

__all__ = [
    "GROUPS",
    "KINDS",
    "NeuronTraces",
    "arc_length",
    "circle_inputs",
    "compare",
    "draw_trained_wiring",
    "format_summary",
    "format_table",
    "median_lengths",
    "neuron_groups",
    "pca",
    "plot_expressivity",
    "plot_pca",
    "plot_traces",
    "random_stack",
    "record_traces",
    "summarize",
    "synapse_strengths",
    "trajectory_lengths",
    "wiring_of",
]
