"""The Content-Security-Policy is strict (scripts from our own origin only: no inline script, no
eval) and the templates give it nothing to refuse: no inline <script>, no on* handler, no style
attribute. The browser check is tests/browser/test_csp_browser.py."""

import re
from pathlib import Path

from dataflow_site.figures import figure_html

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [p for p in ROOT.glob("*/templates/**/*.html") if ".venv" not in p.parts] + list(ROOT.glob("templates/**/*.html"))


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def test_every_page_carries_a_policy_that_allows_scripts_only_from_our_origin(client_for, engineer):
    for response in (client_for(None).get("/accounts/login/"), client_for(engineer).get("/")):
        policy = _policy(response)
        assert policy["script-src"] == ["'self'"]
        assert policy["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["style-src"] and "'unsafe-eval'" not in str(policy)
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def test_no_template_has_an_inline_script_an_event_handler_or_a_style_attribute():
    assert TEMPLATES
    offenders = []
    for path in TEMPLATES:
        text = path.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", r"\son[a-z]+\s*=",
                        r"\sstyle\s*=", r"javascript:"):
            offenders += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in re.finditer(pattern, text)]
    assert offenders == []


def test_a_figure_is_a_json_data_block_that_no_label_can_break_out_of():
    html = figure_html({"data": [{"type": "bar", "x": [1], "y": ["</script><script>alert(1)</script>"]}],
                        "layout": {}})
    assert html.count("<script") == 1 and html.count("</script>") == 1
    assert '<script type="application/json" class="chart-data">' in html
    assert "<script>alert" not in html and "alert(1)" in html
