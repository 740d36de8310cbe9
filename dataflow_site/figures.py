"""Plotly figures as data, never as script: the page carries the figure's JSON in a
``<script type="application/json">`` block (not executed, so the Content-Security-Policy allows
it) and ``static/js/app.js`` draws every such block with plotly.js, served from static/vendor."""

from __future__ import annotations

from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# What Django's json_script escapes: inside the data block no "</script>" or "<!--" can appear.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
CONFIG = {"displaylogo": False, "responsive": True}
# The bundle static/js/app.js loads when a page has a chart (a page that opens on one loads it from
# <head>). Plan pages draw only bar and scatter traces: plotly.js's basic bundle (scatter, bar, pie;
# 1.2 MB) runs in half the time of the cartesian one (1.5 MB, box plots and more) in chromium, and
# that run is most of a cold plan page's time to its chart (benchmarks/bench_first_page.py).
PLOTLY = "vendor/plotly-cartesian.min.js"
PLOTLY_BASIC = "vendor/plotly-basic.min.js"


def figure_html(figure, *, config: dict | None = None, bundle: str = PLOTLY) -> SafeString:
    """``figure``: a plotly ``Figure`` or a ``{"data": ..., "layout": ...}`` dict (not validated);
    ``bundle``: the plotly.js bundle that draws it (one that has its trace types)."""
    import plotly.io as pio

    payload = pio.to_json({"data": figure["data"], "layout": figure["layout"], "config": config or CONFIG}
                          if isinstance(figure, dict) else
                          {**figure.to_plotly_json(), "config": config or CONFIG}, validate=False)
    return format_html('<div class="plotly-graph-div chart" data-chart data-plotly="{}">'
                       '<script type="application/json" class="chart-data">{}</script></div>',
                       static(bundle), mark_safe(payload.translate(_ESCAPES)))
