"""The kailash-dataflow column dependency analyzer as an anchor for bench_dependencies.py.

Run with an interpreter that has ``kailash-dataflow`` installed (it brings asyncpg); it reads
one JSON request per line (``{"dsn", "table", "column", "cold"}``) and answers with the
elapsed milliseconds of one ``analyze_column_dependencies`` call, on one kept connection
(warm) or on a connection opened for that call (cold).
"""

import asyncio
import json
import sys
import time

import asyncpg
from dataflow.migrations.dependency_analyzer import DependencyAnalyzer


async def main() -> None:
    analyzer = DependencyAnalyzer()
    kept: dict[str, asyncpg.Connection] = {}
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        request = json.loads(line)
        started = time.perf_counter()
        if request["cold"]:
            conn = await asyncpg.connect(request["dsn"])
            try:
                await analyzer.analyze_column_dependencies(request["table"], request["column"], conn)
            finally:
                await conn.close()
        else:
            if request["dsn"] not in kept:
                kept[request["dsn"]] = await asyncpg.connect(request["dsn"])
            await analyzer.analyze_column_dependencies(request["table"], request["column"], kept[request["dsn"]])
        print(json.dumps({"ms": (time.perf_counter() - started) * 1000}), flush=True)
    for conn in kept.values():
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
