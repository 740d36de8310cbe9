"""The embedded PostgreSQL (pgserver) that `make run` and `make test` use when DATABASE_URL is unset."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from dataflow_site.embedded_pg import APP_DATABASE, embedded_database_url, stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_second_start_reuses_the_running_server(tmp_path):
    data_dir = tmp_path / "pgdata"
    first = embedded_database_url(data_dir)
    try:
        with psycopg.connect(first) as conn:
            pid = conn.execute("SELECT pg_postmaster_start_time(), current_database()").fetchone()
        # a separate process, as manage.py commands and the django-q2 cluster are
        second = subprocess.run(
            [sys.executable, "-c", "import sys; from pathlib import Path; from dataflow_site.embedded_pg import "
             "embedded_database_url; print(embedded_database_url(Path(sys.argv[1])))", str(data_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip().splitlines()[-1] == first
        with psycopg.connect(first) as conn:
            again = conn.execute("SELECT pg_postmaster_start_time(), current_database()").fetchone()
        assert again == pid and again[1] == APP_DATABASE
    finally:
        stop(data_dir)
