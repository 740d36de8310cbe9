"""Charts read at a glance: query labels on the vertical axis (wrapped, never rotated), log axes
ticked 1-2-5 over the data's own range, heights that follow the number of queries."""

import json
import re

from baselines_app import charts

LONG = "SELECT orders JOIN customers ON customer_id WHERE status = $1 ORDER BY created_at"


def figure_of(html: str) -> dict:
    payload = re.search(r'<script type="application/json" class="chart-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(payload)


def comparisons(n: int) -> list[dict]:
    return [{"query_label": f"{LONG} #{i}", "performance_ratio": 0.8 + i, "status": "DEGRADED" if i > 2 else "PASS"}
            for i in range(n)]


def test_the_ratio_chart_puts_wrapped_query_labels_on_the_vertical_axis():
    figure = figure_of(charts.ratio_chart(comparisons(3), 2.0))
    bar = figure["data"][0]
    assert bar["orientation"] == "h"
    assert all("<br>" in label and max(len(line) for line in label.split("<br>")) <= charts.LABEL_WIDTH
               for label in bar["y"])
    assert "tickangle" not in figure["layout"].get("yaxis", {})


def test_the_ratio_chart_log_axis_reads_one_two_five_and_hugs_the_data():
    axis = figure_of(charts.ratio_chart(comparisons(4), 2.0))["layout"]["xaxis"]  # ratios 0.8 .. 3.8
    assert axis["type"] == "log"
    assert {"0.5x", "1x", "2x", "5x"} <= set(axis["ticktext"])
    assert all(re.fullmatch(r"[125](0*|\.0*)?x|0\.0*[125]x", t) for t in axis["ticktext"]), axis["ticktext"]
    threshold_note = figure_of(charts.ratio_chart(comparisons(4), 2.0))["layout"]["annotations"][0]
    assert threshold_note["text"] == "threshold 2x" and abs(threshold_note["x"] - 0.30103) < 1e-4  # log10(2)
    low, high = axis["range"]  # log10 units: from about 0.5 to about 6, not 0.01 to 100
    assert -0.6 < low < -0.1 and 0.5 < high < 1.0


def test_charts_grow_with_their_rows_instead_of_a_fixed_mostly_empty_area():
    small = figure_of(charts.ratio_chart(comparisons(2), 2.0))["layout"]["height"]
    large = figure_of(charts.ratio_chart(comparisons(12), 2.0))["layout"]["height"]
    assert small < 300 < 12 * charts.ROW_PX <= large


def test_the_box_plot_is_horizontal_with_a_readable_log_axis():
    rows = [{"label": f"{LONG} #{i}", "before": [1.2, 1.5, 2.0], "after": [3.0, 4.5, 40.0]} for i in range(3)]
    figure = figure_of(charts.samples_box_plot(rows, "before", "after"))
    assert [trace["orientation"] for trace in figure["data"]] == ["h", "h"]
    axis = figure["layout"]["xaxis"]
    assert axis["type"] == "log" and {"1", "2", "5", "10", "20", "50"} <= set(axis["ticktext"])
    assert 0 < figure["layout"]["margin"]["l"] <= 300


def test_the_history_chart_ticks_its_log_axis_one_two_five():
    series = {"SELECT 1": [("2026-01-01T00:00:00", 0.4, "run 1"), ("2026-01-02T00:00:00", 12.0, "run 2")]}
    axis = figure_of(charts.history_chart(series))["layout"]["yaxis"]
    assert axis["type"] == "log" and {"0.5", "1", "2", "5", "10"} <= set(axis["ticktext"])
