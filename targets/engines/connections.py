"""Connections to a target database.

Every engine gets its connections through ``TargetConnection``: it sets
``application_name`` (so a DBA sees us in ``pg_stat_activity``), a connect timeout, and,
for analysis, a read-only session with a statement timeout, all in the startup packet
(no extra round trip). The password never appears in ``repr``, ``describe()`` or an error.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict

DEFAULT_APPLICATION_NAME = "dataflow"
DEFAULT_CONNECT_TIMEOUT = 5
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000


class TargetConnectionError(Exception):
    """The target cannot be reached or refused the connection. The message is safe to show."""


@dataclasses.dataclass(frozen=True)
class TargetConnection:
    host: str
    port: int
    dbname: str
    user: str
    password: str = dataclasses.field(default="", repr=False)
    sslmode: str = "prefer"
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    application_name: str = DEFAULT_APPLICATION_NAME

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_dsn(cls, dsn: str, **overrides) -> "TargetConnection":
        """Build from a libpq URI or key=value string (for scripts and the command line)."""
        try:
            params = conninfo_to_dict(dsn)
        except psycopg.ProgrammingError as exc:
            raise TargetConnectionError(f"invalid connection string: {_first_line(exc)}") from None
        values = dict(
            host=params.get("host") or "localhost",
            port=int(params.get("port") or 5432),
            dbname=params.get("dbname") or params.get("user") or "postgres",
            user=params.get("user") or "postgres",
            password=params.get("password") or "",
            sslmode=params.get("sslmode") or "prefer",
        )
        if params.get("connect_timeout"):
            values["connect_timeout"] = int(params["connect_timeout"])
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_target(cls, target, **overrides) -> "TargetConnection":
        """Build from a ``TargetDatabase`` (duck-typed, so this module stays free of Django)."""
        values = dict(
            host=target.host,
            port=int(target.port),
            dbname=target.dbname,
            user=target.user,
            password=target.password,
            sslmode=target.sslmode,
        )
        for setting, field in (("TARGET_CONNECT_TIMEOUT", "connect_timeout"), ("TARGET_STATEMENT_TIMEOUT_MS", "statement_timeout_ms")):
            value = _django_setting(setting)
            if value is not None:
                values[field] = value
        values.update(overrides)
        return cls(**values)

    def for_database(self, dbname: str) -> "TargetConnection":
        """The same server and credentials, another database (staging copies, admin work)."""
        return dataclasses.replace(self, dbname=dbname)

    def with_options(self, **changes) -> "TargetConnection":
        return dataclasses.replace(self, **changes)

    # -- description ------------------------------------------------------------------
    def describe(self) -> str:
        """``user@host:port/dbname``: safe for pages and logs."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"

    def __str__(self) -> str:  # never the password
        return self.describe()

    def conninfo_kwargs(self, *, dbname: str | None = None, application_name: str | None = None,
                        read_only: bool = False, statement_timeout_ms: int | None = None,
                        extra_options: str = "") -> dict:
        options = []
        if read_only:
            options.append("-c default_transaction_read_only=on")
        timeout = self.statement_timeout_ms if statement_timeout_ms is None else statement_timeout_ms
        if read_only or statement_timeout_ms is not None:
            options.append(f"-c statement_timeout={int(timeout)}")
        if extra_options:
            options.append(extra_options)
        kwargs = dict(
            host=self.host,
            port=self.port,
            dbname=dbname or self.dbname,
            user=self.user,
            sslmode=self.sslmode,
            connect_timeout=self.connect_timeout,
            application_name=application_name or self.application_name,
        )
        if self.password:
            kwargs["password"] = self.password
        if options:
            kwargs["options"] = " ".join(options)
        return kwargs

    def libpq_env(self) -> dict[str, str]:
        """Environment for libpq command line tools (pg_dump, psql): the password never goes on argv."""
        env = {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGDATABASE": self.dbname,
            "PGUSER": self.user,
            "PGSSLMODE": self.sslmode,
            "PGCONNECT_TIMEOUT": str(self.connect_timeout),
            "PGAPPNAME": self.application_name,
        }
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    # -- connecting -------------------------------------------------------------------
    def connect(self, *, autocommit: bool = False, read_only: bool = False,
                statement_timeout_ms: int | None = None, dbname: str | None = None,
                application_name: str | None = None, extra_options: str = "") -> psycopg.Connection:
        """Open a psycopg connection. Raises ``TargetConnectionError`` with a safe message."""
        kwargs = self.conninfo_kwargs(dbname=dbname, application_name=application_name, read_only=read_only,
                                      statement_timeout_ms=statement_timeout_ms, extra_options=extra_options)
        try:
            return psycopg.connect(autocommit=autocommit, **kwargs)
        except psycopg.OperationalError as exc:
            raise TargetConnectionError(
                f"cannot connect to {self.describe()}: {_first_line(exc)}"
            ) from None

    @contextmanager
    def read_only(self, *, statement_timeout_ms: int | None = None) -> Iterator[psycopg.Connection]:
        """A read-only session with a statement timeout, closed on exit (analysis, health checks)."""
        conn = self.connect(read_only=True, statement_timeout_ms=statement_timeout_ms)
        try:
            yield conn
        finally:
            try:
                conn.rollback()
            finally:
                conn.close()

    def server_version(self) -> str:
        with self.read_only() as conn:
            return conn.execute("SELECT version()").fetchone()[0]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    # libpq puts the useful part first; later lines repeat the host list.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[:2]) if lines else exc.__class__.__name__


def _django_setting(name: str):
    try:
        from django.conf import settings

        if settings.configured:
            return getattr(settings, name, None)
    except Exception:  # Django missing or settings broken: the engine defaults apply
        return None
    return None
