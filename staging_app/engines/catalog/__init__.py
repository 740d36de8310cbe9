"""Staging catalog queries, one ``.sql`` file per query (same convention as migrations_app)."""

from pathlib import Path

_DIR = Path(__file__).parent
QUERIES: dict[str, str] = {path.stem: path.read_text() for path in sorted(_DIR.glob("*.sql"))}


def query(name: str) -> str:
    try:
        return QUERIES[name]
    except KeyError:
        raise KeyError(f"no staging catalog query named {name!r} in {_DIR}") from None
