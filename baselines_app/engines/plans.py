"""Plan shapes from ``EXPLAIN (FORMAT JSON)`` output and the words for how a plan changed.

A shape is what a DBA reads first in a plan: the node types in order, which relation each scan
reads and through which index. Two shapes compare per relation, so a degradation can say
"Index Scan using orders_customer_idx on orders became Seq Scan on orders".
"""

from __future__ import annotations

from collections import Counter

SCAN_NODES = {
    "Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan",
    "Tid Scan", "Tid Range Scan", "Sample Scan", "Foreign Scan",
}
BUFFER_KEYS = (
    "Shared Hit Blocks", "Shared Read Blocks", "Shared Dirtied Blocks", "Shared Written Blocks",
    "Temp Read Blocks", "Temp Written Blocks",
)


def describe_node(node: dict) -> str:
    text = node.get("Node Type", "?")
    if node.get("Operation") and node.get("Node Type") == "ModifyTable":
        text = node["Operation"]
    if node.get("Index Name"):
        text += f" using {node['Index Name']}"
    if node.get("Relation Name"):
        text += f" on {node['Relation Name']}"
    return text


def _walk(node: dict):
    yield node
    for child in node.get("Plans", ()) or ():
        yield from _walk(child)


def plan_shape(explain_document: dict) -> dict:
    """``explain_document`` is the single element of EXPLAIN's JSON array."""
    root = explain_document["Plan"]
    nodes = []
    scans: dict[str, list[str]] = {}
    indexes = set()
    for node in _walk(root):
        description = describe_node(node)
        nodes.append(description)
        if node.get("Index Name"):
            indexes.add(node["Index Name"])
        if node.get("Node Type") in SCAN_NODES and node.get("Relation Name"):
            if node.get("Node Type") == "Bitmap Heap Scan":
                # The Bitmap Index Scans below name the indexes but not the relation: fold them in.
                used = sorted({n["Index Name"] for n in _walk(node) if n.get("Index Name")})
                description = f"Bitmap Heap Scan using {', '.join(used)} on {node['Relation Name']}"
            scans.setdefault(node["Relation Name"], []).append(description)
    triggers = [
        {"name": t.get("Trigger Name"), "relation": t.get("Relation"), "time_ms": t.get("Time"), "calls": t.get("Calls")}
        for t in explain_document.get("Triggers", ()) or ()
    ]
    return {
        "nodes": nodes,
        "scans": {relation: sorted(values) for relation, values in sorted(scans.items())},
        "indexes": sorted(indexes),
        "triggers": triggers,
    }


def plan_buffers(explain_document: dict) -> dict[str, int]:
    root = explain_document["Plan"]
    return {key: int(root.get(key, 0) or 0) for key in BUFFER_KEYS if key in root}


def shape_signature(shape: dict) -> tuple:
    return tuple(shape.get("nodes", ()))


def most_common_shape(shapes: list[dict]) -> dict:
    """The shape seen in most runs (runs with different keys may plan differently)."""
    if not shapes:
        return {}
    counts = Counter(shape_signature(s) for s in shapes)
    winner = counts.most_common(1)[0][0]
    return next(s for s in shapes if shape_signature(s) == winner)


def lost_indexes(before: dict, after: dict) -> list[str]:
    return sorted(set(before.get("indexes", ())) - set(after.get("indexes", ())))


def describe_plan_change(before: dict, after: dict) -> str | None:
    """Human words for the difference between two shapes; None when they are the same."""
    if not before or not after:
        return None
    if shape_signature(before) == shape_signature(after):
        return None
    before_scans = before.get("scans", {})
    after_scans = after.get("scans", {})
    changes = []
    for relation in sorted(set(before_scans) | set(after_scans)):
        b, a = before_scans.get(relation, []), after_scans.get(relation, [])
        if b == a:
            continue
        if b and a:
            changes.append(f"{', '.join(b)} became {', '.join(a)}")
        elif b:
            changes.append(f"{', '.join(b)} is gone")
        else:
            changes.append(f"new {', '.join(a)}")
    if changes:
        return "; ".join(changes)
    return f"plan nodes changed: {' > '.join(before.get('nodes', []))} became {' > '.join(after.get('nodes', []))}"
