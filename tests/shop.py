"""The shared shop schema (``tests/fixtures/shop/schema.sql``) and the parts tests compose onto it.

``shop_sql("rows", "slow")`` is the schema followed by ``rows.sql`` and ``slow.sql``; a test with
data needs of its own appends its SQL to ``shop_sql()`` instead of writing the tables out again.
"""

from __future__ import annotations

from pathlib import Path

SHOP = Path(__file__).parent / "fixtures" / "shop"


def shop_sql(*parts: str) -> str:
    return "\n".join((SHOP / f"{name}.sql").read_text() for name in ("schema", *parts))
