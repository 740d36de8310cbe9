"""Catalog queries, one ``.sql`` file per query, loaded once.

``QUERIES["health_summary"]`` is the text of ``health_summary.sql``. Python code names the
query and binds parameters; it never builds catalog SQL from strings.
"""

from pathlib import Path

_DIR = Path(__file__).parent


def _load() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted(_DIR.glob("*.sql"))}


QUERIES: dict[str, str] = _load()


def query(name: str) -> str:
    try:
        return QUERIES[name]
    except KeyError:
        raise KeyError(f"no catalog query named {name!r} in {_DIR}") from None
