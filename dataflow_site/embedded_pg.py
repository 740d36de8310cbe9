"""The embedded PostgreSQL server used when ``DATABASE_URL`` is not set.

``pgserver`` ships PostgreSQL binaries in a wheel. The server listens on a Unix socket
inside ``.dataflow/pgdata`` and keeps running after the process that started it exits, so
``manage.py`` commands, the web server, the django-q2 cluster and the tests all share it.
A second start finds the running postmaster and reuses it.
"""

import os
from pathlib import Path

APP_DATABASE = "dataflow"


def _server(data_dir: Path):
    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = data_dir.parent / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    # pgserver keeps an inter-process lock under the runtime dir; keep it inside .dataflow.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        return pgserver.get_server(data_dir, cleanup_mode=None)


def embedded_database_url(data_dir: Path) -> str:
    """Start (or reuse) the embedded server and return a URL for the app database."""
    import psycopg

    server = _server(data_dir)
    admin_uri = server.get_uri("postgres")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [APP_DATABASE]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{APP_DATABASE}"')
    return server.get_uri(APP_DATABASE)


def bin_dir() -> Path:
    """Directory of the bundled PostgreSQL client programs (pg_dump, psql, ...)."""
    import pgserver._commands as commands

    return Path(commands.POSTGRES_BIN_PATH)


def stop(data_dir: Path) -> None:
    import subprocess

    pg_ctl = bin_dir() / "pg_ctl"
    subprocess.run(["su", "pgserver", "-c", f"{pg_ctl} -D {data_dir} -w stop"] if os.geteuid() == 0 else [str(pg_ctl), "-D", str(data_dir), "-w", "stop"], check=False)
