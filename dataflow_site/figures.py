"""Plotly figures as data, never as script: the page carries the figure's JSON in a
``<script type="application/json">`` block (not executed, so the Content-Security-Policy allows
it) and ``static/js/app.js`` draws every such block with plotly.js, served from static/vendor."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# What Django's json_script escapes: inside the data block no "</script>" or "<!--" can appear.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
CONFIG = {"displaylogo": False, "responsive": True}


def figure_html(figure, *, config: dict | None = None) -> SafeString:
    """``figure``: a plotly ``Figure`` or a ``{"data": ..., "layout": ...}`` dict (not validated)."""
    import plotly.io as pio

    payload = pio.to_json({"data": figure["data"], "layout": figure["layout"], "config": config or CONFIG}
                          if isinstance(figure, dict) else
                          {**figure.to_plotly_json(), "config": config or CONFIG}, validate=False)
    return format_html('<div class="plotly-graph-div chart" data-chart>'
                       '<script type="application/json" class="chart-data">{}</script></div>',
                       mark_safe(payload.translate(_ESCAPES)))
