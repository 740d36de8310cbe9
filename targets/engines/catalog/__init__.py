"""Catalog queries, one ``.sql`` file per query, loaded once.

Every app keeps the SQL its engines read next to them and builds its own loader with
``SqlCatalog(directory)``; ``query("health_summary")`` here is the text of ``health_summary.sql``.
Python code names the query and binds parameters; it never builds catalog SQL from strings.
"""

from pathlib import Path


class SqlCatalog:
    def __init__(self, directory: Path):
        self.directory = directory
        self.queries: dict[str, str] = {path.stem: path.read_text() for path in sorted(directory.glob("*.sql"))}

    def query(self, name: str) -> str:
        try:
            return self.queries[name]
        except KeyError:
            raise KeyError(f"no catalog query named {name!r} in {self.directory}") from None


query = SqlCatalog(Path(__file__).parent).query
