"""Plotly figures for the baselines pages, rendered as HTML fragments.

plotly.js itself is served from static/vendor (never a CDN); a fragment carries the figure as a
JSON data block (``dataflow_site.figures``, with ``<`` escaped, so query labels cannot break out)
that static/js/app.js draws: no inline script, as the Content-Security-Policy requires.

Query labels are long SQL-ish names: they go on the vertical axis of horizontal charts, wrapped,
never rotated under a category axis where they overlap. Log axes carry 1-2-5 ticks (0.5, 1, 2,
5, 10 ...) instead of plotly's minor digits, and every chart is as tall as its rows need.
"""

from __future__ import annotations

import math
import textwrap

import plotly.graph_objects as go

from dataflow_site.figures import figure_html

BEFORE_COLOR, AFTER_COLOR, BAD_COLOR = "#2563eb", "#f59e0b", "#dc2626"
LABEL_WIDTH = 28  # characters per line of a wrapped query label
ROW_PX, AXES_PX = 34, 110


def wrap_label(label: str, width: int = LABEL_WIDTH) -> str:
    """A query label on lines of at most ``width`` characters (plotly breaks lines at <br>)."""
    return "<br>".join(textwrap.wrap(str(label), width, break_long_words=True, break_on_hyphens=False)) or str(label)


def log_ticks(low: float, high: float, unit: str = "") -> dict:
    """1-2-5 tick values covering [low, high] on a log axis, and the range that fits them snugly."""
    low, high = max(min(low, high), 1e-6), max(low, high, 1e-6)
    values = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 2):
        for mantissa in (1, 2, 5):
            values.append(mantissa * 10 ** exponent)
    inside = [v for v in values if low / 2.5 <= v <= high * 2.5] or values
    # 15% of a decade of air on each side, not the decades plotly would pad with
    span = (math.log10(low) - 0.15, math.log10(high) + 0.15)
    return {"type": "log", "tickvals": inside, "ticktext": [f"{_number(v)}{unit}" for v in inside],
            "range": list(span)}


def _number(value: float) -> str:
    return f"{value:g}" if value >= 0.001 else f"{value:.0e}"


def _html(figure: go.Figure, height: int, *, left: int = 40) -> str:
    figure.update_layout(height=height, margin=dict(l=left, r=24, t=44, b=44), template="plotly_white",
                         legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return figure_html(figure)


def _row_px(labels: list[str], boxes: int = 1) -> int:
    """Height of one query's row: room for every line of its wrapped label and for its boxes."""
    lines = max((label.count("<br>") + 1 for label in labels), default=1)
    return max(ROW_PX * boxes, 16 * lines + 14)


def _label_margin(labels: list[str]) -> int:
    longest = max((len(line) for label in labels for line in label.split("<br>")), default=10)
    return min(60 + 7 * longest, 300)


def samples_box_plot(rows: list[dict], before_label: str, after_label: str | None = None) -> str:
    """One horizontal box per query and side: ``rows`` have label, before (samples) and optionally after."""
    figure = go.Figure()
    labels = [wrap_label(r["label"]) for r in rows]
    values = [v for r in rows for v in r["before"]] + [v for r in rows for v in r.get("after", [])]
    figure.add_trace(go.Box(name=before_label, marker_color=BEFORE_COLOR, boxpoints="all", jitter=0.3,
                            orientation="h", y=[label for r, label in zip(rows, labels) for _ in r["before"]],
                            x=[v for r in rows for v in r["before"]]))
    if after_label is not None:
        figure.add_trace(go.Box(name=after_label, marker_color=AFTER_COLOR, boxpoints="all", jitter=0.3,
                                orientation="h", y=[label for r, label in zip(rows, labels) for _ in r.get("after", [])],
                                x=[v for r in rows for v in r.get("after", [])]))
    positive = [v for v in values if v and v > 0] or [1.0]
    figure.update_layout(boxmode="group", xaxis=dict(title="server time (ms, log scale)", **log_ticks(min(positive), max(positive))),
                         yaxis=dict(categoryorder="array", categoryarray=list(reversed(labels)), automargin=True))
    per_row = _row_px(labels, 2 if after_label is not None else 1)
    return _html(figure, max(220, per_row * len(rows) + AXES_PX), left=_label_margin(labels))


def ratio_chart(comparisons: list[dict], threshold: float) -> str:
    """Horizontal bars of after/before per query, red beyond the threshold, with the threshold line."""
    timed = [c for c in comparisons if c.get("performance_ratio") is not None]
    labels = [wrap_label(c["query_label"]) for c in timed]
    ratios = [max(c["performance_ratio"], 1e-6) for c in timed]
    figure = go.Figure(go.Bar(
        orientation="h", y=labels, x=ratios,
        marker_color=[BAD_COLOR if c["status"] == "DEGRADED" else BEFORE_COLOR for c in timed],
        text=[f"{c['performance_ratio']:.2f}x" for c in timed], textposition="outside", cliponaxis=False,
        hovertext=[c.get("reason") or c["status"] for c in timed], name="ratio"))
    figure.add_vline(x=threshold, line_dash="dash", line_color=BAD_COLOR)
    # an annotation's x on a log axis is the exponent (add_vline's own annotation lands at 10**threshold)
    figure.add_annotation(x=math.log10(threshold), xref="x", y=1, yref="y domain", yanchor="bottom", showarrow=False,
                          text=f"threshold {threshold:g}x", font=dict(color=BAD_COLOR))
    figure.add_vline(x=1.0, line_color="#9ca3af")
    # bars start at the axis' left edge: keep 1x inside so a faster query reads as shorter than "no change"
    low, high = min(ratios + [1.0, threshold]), max(ratios + [1.0, threshold])
    figure.update_layout(xaxis=dict(title="after / before (median, log scale)", **log_ticks(low / 1.5, high * 1.5, "x")),
                         yaxis=dict(autorange="reversed", automargin=True), showlegend=False)
    return _html(figure, max(200, _row_px(labels) * len(timed) + AXES_PX), left=_label_margin(labels))


def history_chart(series: dict[str, list[tuple]]) -> str:
    """``series``: query label -> [(measured_at, median_ms, run label)], one line per query."""
    figure = go.Figure()
    medians = [p[1] for points in series.values() for p in points if p[1] and p[1] > 0] or [1.0]
    for label, points in series.items():
        figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines+markers",
                                    name=wrap_label(label, 40), hovertext=[p[2] for p in points]))
    figure.update_layout(yaxis=dict(title="median server time (ms, log scale)", **log_ticks(min(medians), max(medians))))
    return _html(figure, 360 + 22 * max(0, len(series) - 4))
