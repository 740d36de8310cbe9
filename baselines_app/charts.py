"""Plotly figures for the baselines pages, rendered as HTML fragments.

plotly.js itself is served from static/vendor (never a CDN); a fragment carries the figure as a
JSON data block (``dataflow_site.figures``, with ``<`` escaped, so query labels cannot break out)
that static/js/app.js draws: no inline script, as the Content-Security-Policy requires.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dataflow_site.figures import figure_html

BEFORE_COLOR, AFTER_COLOR, BAD_COLOR = "#2563eb", "#f59e0b", "#dc2626"


def _html(figure: go.Figure, height: int) -> str:
    figure.update_layout(height=height, margin=dict(l=40, r=20, t=40, b=40), template="plotly_white",
                         legend=dict(orientation="h", y=1.08))
    return figure_html(figure)


def samples_box_plot(rows: list[dict], before_label: str, after_label: str | None = None) -> str:
    """One box per query and side: ``rows`` have label, before (samples) and optionally after."""
    figure = go.Figure()
    labels = [r["label"] for r in rows]
    figure.add_trace(go.Box(name=before_label, marker_color=BEFORE_COLOR, boxpoints="all", jitter=0.3,
                            x=[r["label"] for r in rows for _ in r["before"]], y=[v for r in rows for v in r["before"]]))
    if after_label is not None:
        figure.add_trace(go.Box(name=after_label, marker_color=AFTER_COLOR, boxpoints="all", jitter=0.3,
                                x=[r["label"] for r in rows for _ in r.get("after", [])],
                                y=[v for r in rows for v in r.get("after", [])]))
    figure.update_layout(boxmode="group", yaxis_title="server time (ms, log)", yaxis_type="log",
                         xaxis=dict(categoryorder="array", categoryarray=labels))
    return _html(figure, 460)


def ratio_chart(comparisons: list[dict], threshold: float) -> str:
    """Horizontal bars of after/before per query, red beyond the threshold, with the threshold line."""
    timed = [c for c in comparisons if c.get("performance_ratio") is not None]
    figure = go.Figure(go.Bar(
        orientation="h", y=[c["query_label"] for c in timed], x=[c["performance_ratio"] for c in timed],
        marker_color=[BAD_COLOR if c["status"] == "DEGRADED" else BEFORE_COLOR for c in timed],
        text=[f"{c['performance_ratio']:.2f}x" for c in timed], textposition="outside",
        hovertext=[c.get("reason") or c["status"] for c in timed], name="ratio"))
    figure.add_vline(x=threshold, line_dash="dash", line_color=BAD_COLOR, annotation_text=f"threshold {threshold:g}x")
    figure.add_vline(x=1.0, line_color="#9ca3af")
    figure.update_layout(xaxis_title="after / before (median, log)", xaxis_type="log", showlegend=False)
    return _html(figure, max(260, 26 * len(timed) + 120))


def history_chart(series: dict[str, list[tuple]]) -> str:
    """``series``: query label -> [(measured_at, median_ms, run label)], one line per query."""
    figure = go.Figure()
    for label, points in series.items():
        figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                    name=label, hovertext=[p[2] for p in points]))
    figure.update_layout(yaxis_title="median server time (ms, log)", yaxis_type="log")
    return _html(figure, 420)
