import json

import pytest
from django.core.management import call_command


def _dsn(target):
    return f"host={target.host} port={target.port} dbname={target.dbname} user={target.user}"


def test_analyze_dependencies_prints_json_with_type_schema_name_table_impact(catalog_target, capsys):
    call_command("analyze_dependencies", "--dsn", _dsn(catalog_target), "--schema", "Sales Data", "Customers", "tenant", "--json")
    data = json.loads(capsys.readouterr().out)
    assert [{k: d[k] for k in ("type", "schema", "name", "table", "impact")} for d in data["dependencies"]] == [
        {"type": "POLICY", "schema": "Sales Data", "name": "tenant_isolation", "table": "Customers", "impact": "CRITICAL"}]


def test_analyze_rename_prints_the_plan(catalog_target, capsys):
    call_command("analyze_rename", "--dsn", _dsn(catalog_target), "--schema", "Sales Data", "Customers", "clients")
    out = capsys.readouterr().out
    assert 'ALTER TABLE "Sales Data"."Customers" RENAME TO clients;' in out and "-- rollback" in out


@pytest.mark.parametrize("args", [["nosuch"], ["Customers", "nosuch"]])
def test_input_errors_exit_with_status_2_and_a_message(catalog_target, capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        call_command("analyze_dependencies", "--dsn", _dsn(catalog_target), "--schema", "Sales Data", *args)
    assert exit_info.value.code == 2
    assert "does not exist" in capsys.readouterr().err


def test_connection_errors_exit_with_status_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("analyze_rename", "--dsn", "host=127.0.0.1 port=1 dbname=x connect_timeout=2", "a", "b")
    assert exit_info.value.code == 2
    assert "cannot connect" in capsys.readouterr().err
