"""The review page's dependency tab: partitions and inheritance children grouped per table with
the partition key called out, and the graph following view-on-view paths (column -> A -> B)."""

from migrations_app.engines.plan_analysis import analyze_plan
from migrations_app.plan_report import ReportView, dependency_chains, dependency_graph_html

SCHEMA = """
CREATE TABLE visits (id bigint, seen date NOT NULL, page text) PARTITION BY RANGE (seen);
CREATE TABLE visits_2025 PARTITION OF visits FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE visits_2026 PARTITION OF visits FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW pages AS SELECT page FROM visits;
CREATE VIEW page_counts AS SELECT page, count(*) FROM pages GROUP BY page;
"""


def test_partitions_are_one_row_with_the_partition_key_and_views_chain_through_each_other(target_db):
    target = target_db(SCHEMA)
    report = ReportView(analyze_plan("ALTER TABLE visits DROP COLUMN page;\nDROP TABLE visits;", target).to_dict())
    partitions = [r for r in report.dependency_rows if r["type"] == "PARTITION"]
    assert len(partitions) == 1
    assert partitions[0]["name"] == "2 partitions"
    assert partitions[0]["members"] == ["public.visits_2025", "public.visits_2026"]
    assert report.partition_keys == {"public.visits": "RANGE (seen)"}
    assert "partition key: RANGE (seen)" in partitions[0]["definition"]
    chains = dependency_chains(report)
    assert ["public.visits.page", "public.pages", "public.page_counts"] in chains
    assert ["public.visits.page", "public.page_counts"] not in chains  # never drawn straight onto the column
    assert "partition key: RANGE (seen)" in dependency_graph_html(report)
