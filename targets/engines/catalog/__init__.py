"""Catalog queries, one ``.sql`` file per query, loaded once.

Every app keeps the SQL its engines read next to them and builds its own loader with
``SqlCatalog(directory)``; ``query("health_summary")`` here is the text of ``health_summary.sql``.
Python code names the query and binds parameters; it never builds catalog SQL from strings.
"""

import re
from pathlib import Path

# A line "-- @include _name" stands for the text of _name.sql in the same directory (a fragment two
# queries share: its name starts with "_"; fragments may include fragments).
_INCLUDE = re.compile(r"^[ \t]*-- @include (_\w+)[ \t]*\n", re.MULTILINE)


def _expand(raw: dict[str, str], text: str, seen: tuple[str, ...]) -> str:
    def fragment(match: re.Match) -> str:
        name = match.group(1)
        if name not in raw:
            raise KeyError(f"{seen[-1]}.sql includes {name}.sql, which does not exist")
        if name in seen:
            raise ValueError(f"{name}.sql includes itself (through {' -> '.join(seen)})")
        body = _expand(raw, raw[name], (*seen, name))
        return body if body.endswith("\n") else body + "\n"
    return _INCLUDE.sub(fragment, text)


class SqlCatalog:
    def __init__(self, directory: Path):
        self.directory = directory
        raw = {path.stem: path.read_text() for path in sorted(directory.glob("*.sql"))}
        self.queries: dict[str, str] = {name: _expand(raw, text, (name,)) for name, text in raw.items()
                                        if not name.startswith("_")}

    def query(self, name: str) -> str:
        try:
            return self.queries[name]
        except KeyError:
            raise KeyError(f"no catalog query named {name!r} in {self.directory}") from None


query = SqlCatalog(Path(__file__).parent).query

