"""Helpers to read pglast JSON parse trees: node unpacking, names, types, expression volatility."""

from __future__ import annotations

from migrations_app.engines.statements.model import TouchedObject


AE, SUE, SRE, SHARE, RE = "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE", "ROW EXCLUSIVE"
LOCK_STMT_MODES = {1: "ACCESS SHARE", 2: "ROW SHARE", 3: RE, 4: SUE, 5: SHARE, 6: SRE, 7: "EXCLUSIVE", 8: AE}


def one_node(node: dict | None) -> tuple[str, dict]:
    if not node:
        return "", {}
    key = next(iter(node))
    return key, node[key]


def string_values(items) -> list[str]:
    return [i["String"]["sval"] for i in items or [] if "String" in i]


def type_name(tn: dict | None) -> dict:
    """``{'name': 'varchar', 'schema': 'pg_catalog' | None, 'mods': [20], 'array': bool, 'sql': 'varchar(20)'}``."""
    names = string_values((tn or {}).get("names"))
    mods = []
    for mod in (tn or {}).get("typmods", []) or []:
        kind, body = one_node(mod)
        if kind == "A_Const" and "ival" in body:
            mods.append(body["ival"].get("ival", 0))
    name = names[-1] if names else "?"
    schema = names[0] if len(names) > 1 else None
    display = {"int4": "integer", "int8": "bigint", "int2": "smallint", "bpchar": "char", "float8": "double precision",
               "float4": "real", "bool": "boolean", "timestamptz": "timestamptz"}.get(name, name)
    sql = display + (f"({', '.join(str(m) for m in mods)})" if mods else "")
    if schema and schema != "pg_catalog":
        sql = f"{schema}.{sql}"
    is_array = bool((tn or {}).get("arrayBounds"))
    return {"name": name, "schema": schema, "mods": mods, "array": is_array, "sql": sql + ("[]" if is_array else "")}


def relation_name(rv: dict, env) -> tuple[str | None, str]:
    return rv.get("schemaname"), rv.get("relname", "?")


def touch(info, rv: dict, env, lock: str | None, columns=(), relkind="table"):
    schema, name = relation_name(rv, env)
    info.objects.append(facts_obj(schema, name, list(columns), lock, relkind))


def facts_obj(schema, table, columns, lock, relkind="table"):
    return TouchedObject(schema=schema, table=table, columns=columns, lock_mode=lock, relkind=relkind)


def expression_volatility(expr, env) -> tuple[str, list[str], list[str]]:
    """Worst volatility in ``expr``: 'i', 's' or 'v', plus the volatile and unknown function names."""
    worst, volatile, unknown = "i", [], []
    order = {"i": 0, "s": 1, "v": 2}

    def walk(node):
        nonlocal worst
        if isinstance(node, dict):
            if "FuncCall" in node:
                name = (string_values(node["FuncCall"].get("funcname")) or ["?"])[-1].lower()
                vol = env.function_volatility(name)
                if vol is None:
                    unknown.append(name)
                    vol = "v"  # unknown without the database: assume the worst and say so
                elif vol == "v":
                    volatile.append(name)
                if order[vol] > order[worst]:
                    worst = vol
            elif "SQLValueFunction" in node and worst == "i":
                worst = "s"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(expr)
    return worst, volatile, unknown


