"""Read-side helpers over a stored PlanAnalysisReport (``AnalysisRun.report``) for the review page.

The report is the JSON of ``engines.plan_analysis.analyze_plan(...).to_dict()``; this module only
reshapes it for templates and charts and never recomputes anything.
"""

from __future__ import annotations

import html
from functools import cached_property

from dataflow_site.figures import PLOTLY_BASIC, figure_html

IMPACT_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
IMPACT_COLOURS = {"CRITICAL": "#b42318", "HIGH": "#d9480f", "MEDIUM": "#b58100", "LOW": "#12805c",
                  "INFORMATIONAL": "#98a2b3"}
LEVEL_COLOURS = {"LOW": "#12805c", "MEDIUM": "#b58100", "HIGH": "#d9480f", "CRITICAL": "#b42318"}
# Dependents shown as one group per analysed object (a table with 200 partitions is one node)
GROUPED_TYPES = {"PARTITION": "partition", "CHILD_TABLE": "inheritance child", "INHERITED_COLUMN": "inherited column"}


class ReportView:
    """Over a whole report, or (``of_analysis``) over an analysis's stored summary and one page of
    its statements (``statements`` given, the first of them being statement ``first``)."""

    def __init__(self, report: dict | None, statements: list[dict] | None = None, first: int = 0):
        self.data = report or {}
        self._page, self._first = statements, first

    @classmethod
    def of_analysis(cls, analysis, first: int = 0, count: int = 0) -> "ReportView":
        """What the review page shows: the summary, and statements ``first`` to ``first + count - 1``
        read in SQL (never the whole report)."""
        from migrations_app.report_store import statements_slice, summary_of

        if analysis is None:
            return cls(None)
        return cls(summary_of(analysis), statements_slice(analysis, first, first + count), first)

    def __bool__(self):
        return bool(self.data)

    @cached_property
    def statements(self) -> list[dict]:
        """Statements (of the page, when paged) with each finding's rule text (problem, solution)
        joined in from ``rules``."""
        rules = self.data.get("rules") or {}
        statements = []
        for statement in (self.data.get("statements") or [] if self._page is None else self._page):
            findings = [{**(rules.get(f.get("rule")) or {}), **f} for f in statement.get("findings") or []]
            statements.append({**statement, "findings": findings})
        return statements

    def statement_for(self, index: int) -> dict | None:
        statements, index = self.statements, index - self._first
        return statements[index] if 0 <= index < len(statements) else None

    @property
    def static_only(self) -> bool:
        return bool(self.data.get("static_only"))

    @property
    def errors(self) -> list:
        return self.data.get("errors") or []

    @property
    def risk(self) -> dict:
        return self.data.get("risk") or {}

    @property
    def factors(self) -> list[dict]:
        return sorted(self.risk.get("factors") or [], key=lambda f: -(f.get("points") or 0))

    @property
    def factor_count(self) -> int:
        """All factors, where a summary keeps only the heaviest."""
        return self.risk.get("factor_count", len(self.risk.get("factors") or []))

    @property
    def floor_count(self) -> int:
        return self.risk.get("floor_count", len(self.risk.get("floors") or []))

    @property
    def rollback_statement_count(self) -> int:
        return self.rollback_review.get("statement_count", len(self.rollback_review.get("statements") or []))

    @property
    def rollback_factor_count(self) -> int:
        return self.rollback_risk.get("factor_count", len(self.rollback_risk.get("factors") or []))

    @property
    def floors(self) -> list[dict]:
        """Findings that raised the plan's level (risk_floors), highest first."""
        order = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2}
        return sorted(self.risk.get("floors") or [], key=lambda f: order.get(f.get("level"), 3))

    @property
    def rollback_review(self) -> dict:
        return self.data.get("rollback_review") or {}

    @property
    def rollback_risk(self) -> dict:
        return self.rollback_review.get("risk") or {}

    @property
    def mitigation(self) -> dict:
        return self.data.get("mitigation") or {}

    @property
    def mitigation_steps(self) -> list[dict]:
        return self.mitigation.get("steps") or []

    @property
    def finding_count(self) -> int:
        if "finding_count" in self.data:  # a summary's count of the whole report
            return self.data["finding_count"]
        return sum(len(s.get("findings") or []) for s in self.statements)

    @cached_property
    def dependencies(self) -> list[dict]:
        """Every dependency of every analysed object, flattened, with the object it hangs on."""
        rows = []
        for report in self.data.get("dependencies") or []:
            subject = ".".join(p for p in (report.get("schema"), report.get("table")) if p)
            if report.get("column"):
                subject += f".{report['column']}"
            for dep in report.get("dependencies") or []:
                rows.append({**dep, "subject": subject})
        rows.sort(key=lambda d: (IMPACT_ORDER.index(d.get("impact")) if d.get("impact") in IMPACT_ORDER else 9,
                                 d.get("type") or "", d.get("name") or ""))
        return rows

    @property
    def dependency_types(self) -> list[str]:
        return sorted({d.get("type") for d in self.dependencies if d.get("type")})

    @cached_property
    def dependency_rows(self) -> list[dict]:
        """The table's rows: partitions, inheritance children and their inherited columns are
        one row per analysed object and kind (with the members listed), not one row each."""
        rows, groups = [], {}
        for dep in self.dependencies:
            if dep.get("type") not in GROUPED_TYPES:
                rows.append({**dep, **_object_label(dep)})
                continue
            key = (dep["subject"], dep["type"])
            if key not in groups:
                groups[key] = {**dep, "members": [], "grouped": True}
                rows.append(groups[key])
            group = groups[key]
            group["members"].append(f"{dep.get('schema')}.{dep.get('name')}")
            if IMPACT_ORDER.index(dep.get("impact", "INFORMATIONAL")) < IMPACT_ORDER.index(group["impact"]):
                group["impact"] = dep["impact"]
        for group in groups.values():
            count = len(group["members"])
            group["name"] = f"{count} {GROUPED_TYPES[group['type']]}{'' if count == 1 else 's'}"
            key_def = self.partition_keys.get(group["subject"].rsplit(".", 1)[0] if group["type"] == "INHERITED_COLUMN"
                                              else group["subject"])
            group["definition"] = f"partition key: {key_def}" if key_def else ""
        return rows

    @cached_property
    def partition_keys(self) -> dict[str, str]:
        """Partition key of each analysed table that is partitioned (or a partition)."""
        keys = {}
        for report in self.data.get("dependencies") or []:
            key_def = (report.get("table_facts") or {}).get("partition_key_def")
            if key_def:
                keys[f"{report.get('schema')}.{report.get('table')}"] = key_def
        return keys

    @property
    def impact_counts(self) -> list[tuple[str, int]]:
        counts = {level: 0 for level in IMPACT_ORDER}
        for dep in self.dependencies:
            if dep.get("impact") in counts:
                counts[dep["impact"]] += 1
        return list(counts.items())

    @property
    def rename_impact(self) -> list[dict]:
        return self.data.get("rename_impact") or []

    @property
    def fk_impact(self) -> list[dict]:
        return self.data.get("fk_impact") or []


def _to_html(data: list[dict], layout: dict) -> str:
    """Plotly figure as an HTML data block (drawn by static/js/app.js). Figures are plain dicts
    serialised without plotly's validators: a fraction of a millisecond instead of tens per figure."""
    return figure_html({"data": data, "layout": layout}, bundle=PLOTLY_BASIC)  # bar and scatter only


def dependency_graph_html(report: ReportView) -> str:
    """Interactive dependency graph: touched objects in the middle, dependents around them by
    distance (a view built on another view is drawn behind it: column -> A -> B), partitions
    and inheritance children as one node per table, coloured by impact level; hover shows the
    definition and, for partitioned tables, the partition key."""
    import math

    rows = report.dependency_rows
    if not rows:
        return ""
    subjects = sorted({d["subject"] for d in rows})
    positions = {}
    for i, subject in enumerate(subjects):
        angle = 2 * math.pi * i / max(len(subjects), 1)
        radius = 0 if len(subjects) == 1 else 0.6
        positions[("subject", subject)] = (radius * math.cos(angle), radius * math.sin(angle))
    grouped: dict[tuple, list[dict]] = {}
    for dep in rows:
        grouped.setdefault((dep.get("type"), dep.get("schema"), dep.get("name")), []).append(dep)
    by_label = {f"{key[1]}.{key[2]}": key for key in grouped}
    depth = {key: max(len(d.get("path") or []) for d in group) or 1 for key, group in grouped.items()}
    nodes, per_ring = [], {}
    for key, group in grouped.items():
        ring = depth[key]
        index = per_ring.setdefault(ring, [])
        index.append(key)
    for ring, keys in per_ring.items():
        for i, key in enumerate(keys):
            angle = 2 * math.pi * i / max(len(keys), 1) + 0.35 * (ring - 1)
            radius = 1.4 + 1.3 * ring + 0.35 * (i % 2)
            positions[("dep", key)] = (radius * math.cos(angle), radius * math.sin(angle))
    for key, group in grouped.items():
        worst = min((IMPACT_ORDER.index(d.get("impact")) if d.get("impact") in IMPACT_ORDER else 4) for d in group)
        nodes.append((key, group, IMPACT_ORDER[worst]))

    edge_x, edge_y = [], []
    for chain in graph_chains(grouped, by_label):
        for start, end in zip(chain, chain[1:]):
            (x0, y0), (x1, y1) = positions[start], positions[end]
            edge_x += [x0, x1, None]
            edge_y += [y0, y1, None]
    subject_text = [f"{s}<br>partition key: {report.partition_keys[s]}" if s in report.partition_keys else s
                    for s in subjects]
    data = [
        {"type": "scatter", "x": edge_x, "y": edge_y, "mode": "lines", "line": {"width": 1, "color": "#c7ccd6"},
         "hoverinfo": "skip", "showlegend": False},
        {"type": "scatter", "x": [positions[("subject", s)][0] for s in subjects],
         "y": [positions[("subject", s)][1] for s in subjects], "mode": "markers+text", "text": subject_text,
         "textposition": "bottom center", "name": "changed",
         "marker": {"size": 26, "color": "#1f4fd1", "symbol": "square"},
         "hovertext": [f"<b>{html.escape(s)}</b><br>changed by this plan"
                       + (f"<br>partition key: {html.escape(report.partition_keys[s])}" if s in report.partition_keys else "")
                       for s in subjects], "hoverinfo": "text"},
    ]
    for level in IMPACT_ORDER:
        members = [(k, g) for k, g, lvl in nodes if lvl == level]
        if members:
            data.append({
                "type": "scatter", "x": [positions[("dep", k)][0] for k, _ in members],
                "y": [positions[("dep", k)][1] for k, _ in members], "mode": "markers+text", "name": level.title(),
                "text": [k[2] for k, _ in members], "textposition": "top center", "textfont": {"size": 10},
                "marker": {"size": [22 if g[0].get("grouped") else 16 for _, g in members], "color": IMPACT_COLOURS[level],
                           "symbol": ["diamond" if g[0].get("grouped") else "circle" for _, g in members],
                           "line": {"width": 1, "color": "#fff"}},
                "hovertext": [_hover(k, g) for k, g in members], "hoverinfo": "text"})
    layout = {"height": 560, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "plot_bgcolor": "#fff",
              "xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"},
              "legend": {"orientation": "h", "y": -0.02}, "hoverlabel": {"align": "left"}}
    return _to_html(data, layout)


def graph_chains(grouped: dict, by_label: dict) -> list[list[tuple]]:
    """Each dependent's chain of graph nodes: the changed object, then every view (or
    generated column) the dependency goes through, then the dependent itself."""
    chains = []
    for key, group in grouped.items():
        for dep in group:
            chain = [("subject", dep["subject"])]
            chain += [("dep", by_label[label]) for label in (dep.get("path") or [])[:-1] if label in by_label]
            chains.append(chain + [("dep", key)])
    return chains


def dependency_chains(report: ReportView) -> list[list[str]]:
    """The graph's edges as readable chains (``subject -> A -> B``), for tests and the table."""
    grouped: dict[tuple, list[dict]] = {}
    for dep in report.dependency_rows:
        grouped.setdefault((dep.get("type"), dep.get("schema"), dep.get("name")), []).append(dep)
    by_label = {f"{key[1]}.{key[2]}": key for key in grouped}
    return sorted([node[1] if node[0] == "subject" else f"{node[1][1]}.{node[1][2]}" for node in chain]
                  for chain in graph_chains(grouped, by_label))


def _hover(key, group) -> str:
    dep = group[0]
    definition = html.escape((dep.get("definition") or "")[:400]).replace("\n", "<br>")
    reason = html.escape(dep.get("reason") or "")
    subjects = ", ".join(sorted({html.escape(d["subject"]) for d in group}))
    title = html.escape(key[2] or "") if dep.get("grouped") else f"{html.escape(key[1] or '')}.{html.escape(key[2] or '')}"
    members = ""
    if dep.get("grouped"):
        listed = dep["members"][:12]
        members = "<br>" + "<br>".join(html.escape(m) for m in listed) + (" …" if len(dep["members"]) > 12 else "")
    path = dep.get("path") or []
    via = f"<br>via {' → '.join(html.escape(p) for p in path)}" if len(path) > 1 else ""
    return (f"<b>{html.escape(key[0] or '')}</b> {title}<br>"
            f"impact: {dep.get('impact')} · on {subjects}{via}<br>{reason}{members}<br>"
            f"<span style='font-family:monospace'>{definition}</span>")


def risk_chart_html(report: ReportView) -> str:
    categories = report.risk.get("category_scores") or {}
    if not categories:
        return ""
    names = list(categories)
    values = [categories[n] if isinstance(categories[n], (int, float)) else categories[n].get("score", 0) for n in names]
    data = [{"type": "bar", "x": values, "y": [n.replace("_", " ") for n in names], "orientation": "h",
             "marker": {"color": [LEVEL_COLOURS[_band(v)] for v in values]},
             "text": [f"{v:.0f}" for v in values], "textposition": "outside", "hoverinfo": "x+y"}]
    shapes, annotations = [], []
    for edge, label in ((30, "LOW"), (60, "MEDIUM"), (80, "HIGH")):
        shapes.append({"type": "line", "x0": edge + 0.5, "x1": edge + 0.5, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"dash": "dot", "color": "#98a2b3"}})
        annotations.append({"x": edge + 0.5, "y": 1.08, "yref": "paper", "text": f"{label} ≤{edge}", "showarrow": False,
                            "font": {"size": 10}})
    layout = {"height": 270, "margin": {"l": 10, "r": 30, "t": 30, "b": 40}, "plot_bgcolor": "#fff",
              "xaxis": {"range": [0, 105], "title": {"text": "score", "standoff": 4}}, "yaxis": {"automargin": True},
              "shapes": shapes, "annotations": annotations}
    return _to_html(data, layout)


def _band(score: float) -> str:
    if score <= 30:
        return "LOW"
    if score <= 60:
        return "MEDIUM"
    if score <= 80:
        return "HIGH"
    return "CRITICAL"


def _object_label(dep: dict) -> dict:
    """What the Object cell shows: a real object's qualified name; a column's NOT NULL is a
    property of the column, not an object called "full_name NOT NULL"."""
    if dep.get("type") == "NOT_NULL" and dep.get("columns"):
        return {"object_note": "NOT NULL on",
                "object_name": f"{dep.get('schema')}.{dep.get('table')}.{dep['columns'][0]}"}
    return {"object_note": "", "object_name": f"{dep.get('schema')}.{dep.get('name')}"}

