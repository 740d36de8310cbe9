"""Demo data for `manage.py seed_demo`: the demo_shop target database, users and plans."""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg
from django.conf import settings
from psycopg import sql

from dataflow_site.roles import DBA, ENGINEER, MANAGER

DEMO_DIR = Path(__file__).parent
DEMO_DATABASE = "demo_shop"
DEMO_USERS = (("dba", DBA), ("dba2", DBA), ("manager", MANAGER), ("engineer", ENGINEER))
DEMO_MARKER = "dataflow demo database (created by seed_demo)"
# Personal data of the demo shop, masked in every staging copy.
DEMO_MASKING_RULES = {
    "public.customers.email": {"strategy": "fake_email"},
    "public.customers.full_name": {"strategy": "fixed", "value": "Demo Customer"},
}


def app_server_params(dbname: str) -> dict:
    db = settings.DATABASES["default"]
    params = {"host": db["HOST"] or "localhost", "port": int(db["PORT"] or 5432), "dbname": dbname,
              "user": db["USER"] or "postgres"}
    if db["PASSWORD"]:
        params["password"] = db["PASSWORD"]
    return params


def ensure_demo_database(log=print) -> bool:
    """Create and load demo_shop on the app's PostgreSQL server. Returns True if it was (re)loaded."""
    with psycopg.connect(autocommit=True, **app_server_params("postgres")) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DEMO_DATABASE]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEMO_DATABASE)))
            admin.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(DEMO_DATABASE), sql.Literal(DEMO_MARKER)))
    with psycopg.connect(**app_server_params(DEMO_DATABASE)) as conn:
        loaded = conn.execute("SELECT to_regclass('public.customers') IS NOT NULL").fetchone()[0]
        if loaded:
            return False
        log(f"Loading {DEMO_DATABASE}: schema and about 600,000 rows …")
        # One transaction: a half-loaded demo database is never left behind.
        with conn.transaction():
            conn.execute((DEMO_DIR / "demo_shop_schema.sql").read_text())
            conn.execute((DEMO_DIR / "demo_shop_data.sql").read_text().replace("ANALYZE;", ""))
    with psycopg.connect(autocommit=True, **app_server_params(DEMO_DATABASE)) as conn:
        conn.execute("ANALYZE")
    return True


def ensure_demo_users(credentials_file: Path, log=print) -> list[tuple[str, str]]:
    """Create the demo users once; their shared password is printed once and kept in .dataflow/."""
    from django.contrib.auth.models import Group, User

    created = []
    password = None
    for username, role in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        if password is None:
            password = secrets.token_urlsafe(9)
        user = User.objects.create_user(username=username, password=password, email=f"{username}@demo.local")
        user.groups.add(Group.objects.get(name=role))
        created.append((username, role))
    if created:
        credentials_file.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{username} / {password}  ({role})" for username, role in created]
        with credentials_file.open("a") as handle:
            handle.write("\n".join(lines) + "\n")
        credentials_file.chmod(0o600)
        log("Demo users created (development only):")
        for line in lines:
            log("  " + line)
    return created


def ensure_demo_target(log=print, dbname: str = DEMO_DATABASE):
    """Register the demo target (named demo_shop); ``dbname`` is the database it points at (tests
    seed the demo on a throwaway copy of demo_shop)."""
    from targets.models import AuditEvent, TargetDatabase

    params = app_server_params(dbname)
    target, created = TargetDatabase.objects.get_or_create(
        name=DEMO_DATABASE,
        defaults={"host": params["host"], "port": params["port"], "dbname": dbname, "user": params["user"],
                  "environment": TargetDatabase.Environment.PRODUCTION, "sslmode": "prefer",
                  "notes": "Demo shop seeded by `manage.py seed_demo`. Treated as production so every gate applies."},
    )
    if created:
        target.password = params.get("password", "")
        target.save(update_fields=["password_encrypted"])
        AuditEvent.record(None, "target.created", target, data={**target.audit_data(), "source": "seed_demo"})
        log(f"Registered target {DEMO_DATABASE} ({target.describe()}).")
    from staging_app.models import TargetMaskingRules

    TargetMaskingRules.objects.get_or_create(target=target, defaults={"rules": DEMO_MASKING_RULES})
    return target


# Plans at each risk level (the analysis runs for real against demo_shop) ----------------------

DEMO_PLANS = [
    ("dba", "Add shipping weight to products",
     "Products need a weight for the new carrier integration.",
     "ALTER TABLE products ADD COLUMN weight_grams integer"),
    ("dba2", "Clear the bronze legacy status",
     "Bronze tier was retired in 2025; clear it before the column goes.",
     "UPDATE customers SET legacy_status = NULL WHERE legacy_status = 'bronze'"),
    ("dba", "Drop customers.legacy_status",
     "The runbook example: the legacy status column is unused by the application since v4.",
     "ALTER TABLE customers DROP COLUMN legacy_status"),
    ("dba2", "Reset order history",
     "Wipe orders before the data warehouse cut-over (cascades to items and invoices).",
     "TRUNCATE public.orders CASCADE"),
    ("dba", "Widen customers.email",
     "Draft: RFC 5321 allows addresses up to 320 characters.",
     "ALTER TABLE customers ALTER COLUMN email TYPE varchar(320)"),
]


def ensure_demo_plans(target, log=print) -> int:
    """Create the demo plans once and analyse all but the last (left as a draft)."""
    from django.contrib.auth.models import User

    from migrations_app import workflow
    from migrations_app.models import MigrationPlan
    from migrations_app.plan_sql import script_to_operations
    from migrations_app.tasks import run_plan_analysis

    if MigrationPlan.objects.filter(target=target).exists():
        return 0
    for index, (author_name, title, description, script) in enumerate(DEMO_PLANS):
        author = User.objects.get(username=author_name)
        plan = workflow.create_plan(author, target=target, title=title, description=description,
                                    operations=script_to_operations(script, "public", target))
        if index == len(DEMO_PLANS) - 1:
            continue
        run = workflow.request_analysis(plan, author)
        run_plan_analysis(run.pk)
        plan.refresh_from_db()
        log(f"Demo plan: {title} -> {plan.risk_level} {plan.risk_score} ({plan.get_status_display()})")
    return len(DEMO_PLANS)
