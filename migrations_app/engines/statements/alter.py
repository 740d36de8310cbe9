"""ALTER TABLE: lock per subcommand (strictest wins), rewrite/scan rules for ADD COLUMN defaults,
type changes and constraints, per the PostgreSQL documentation (see ``statement_facts``)."""

from __future__ import annotations

from migrations_app.engines.statements import pg_facts as facts
from migrations_app.engines.statements.destroyed import lossless_type_change
from migrations_app.engines.statements.nodes import (AE, SRE, SUE, expression_volatility, facts_obj, one_node,
                                                     relation_name, string_values, touch, type_name)


def describe_alter_table(info, body, env):
    objtype = body.get("objtype", "OBJECT_TABLE")
    schema, table = relation_name(body.get("relation", {}), env)
    relkind = {"OBJECT_INDEX": "index", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "view",
               "OBJECT_SEQUENCE": "sequence"}.get(objtype, "table")
    lock, columns, kinds = None, [], []
    pre11 = env.server_version_num < 110000
    for raw_cmd in body.get("cmds", []):
        cmd = raw_cmd.get("AlterTableCmd", {})
        sub = cmd.get("subtype", "")
        info.subcommands.append(sub)
        kind = facts.ALTER_TABLE_KINDS.get(sub, "ALTER_TABLE")
        kinds.append(kind)
        cmd_lock = facts.ALTER_TABLE_LOCKS.get(sub, AE)
        def_type, definition = one_node(cmd.get("def"))
        if cmd.get("behavior") == "DROP_CASCADE":
            info.details["cascade"] = True
        if sub in facts.ALWAYS_REWRITE:
            info.rewrites_table = True
        if sub == "AT_AddColumn":
            _add_column(info, definition, env, pre11, columns)
        elif sub == "AT_DropColumn":
            columns.append(cmd.get("name"))
            info.destroys_data = True
            info.details.setdefault("column_changes", []).append((sub, cmd.get("name"), None))
            info.details["if_exists"] = bool(cmd.get("missing_ok"))
        elif sub == "AT_AlterColumnType":
            columns.append(cmd.get("name"))
            _alter_type(info, cmd.get("name"), definition)
        elif sub == "AT_SetNotNull":
            columns.append(cmd.get("name"))
            info.scans_table = True  # unless a valid CHECK (col IS NOT NULL) exists (PG 12+), see lint
        elif sub in ("AT_DropNotNull", "AT_ColumnDefault", "AT_SetStatistics", "AT_SetOptions", "AT_ResetOptions",
                     "AT_SetStorage", "AT_SetCompression", "AT_AddIdentity", "AT_DropIdentity", "AT_SetIdentity",
                     "AT_DropExpression", "AT_SetExpression"):
            columns.append(cmd.get("name"))
            if sub == "AT_ColumnDefault" and definition is not None:
                info.details["default_expr"] = cmd.get("def")
        elif sub in ("AT_AddConstraint", "AT_AddIndexConstraint"):
            cmd_lock = _add_constraint(info, definition, env, columns)
        elif sub == "AT_ValidateConstraint":
            info.scans_table = True
            info.details["constraint"] = cmd.get("name")
        elif sub == "AT_DropConstraint":
            info.details["constraint"] = cmd.get("name")
            info.details.setdefault("dropped_constraints", []).append(cmd.get("name"))
        elif sub == "AT_SetRelOptions" or sub == "AT_ResetRelOptions":
            names = [(one_node(d)[1].get("defnamespace", "") + "." if one_node(d)[1].get("defnamespace") else "")
                     + one_node(d)[1].get("defname", "") for d in (definition.get("items", []) if def_type == "List" else [])]
            if names and all(n in facts.SHARE_UPDATE_RELOPTIONS or n.startswith(facts.SHARE_UPDATE_RELOPTION_PREFIXES)
                             for n in names):
                cmd_lock = SUE
        elif sub == "AT_DetachPartition":
            if definition.get("concurrent"):
                cmd_lock = SUE
                info.transactional = False
            part = definition.get("name", {})
            touch(info, part, env, AE if not definition.get("concurrent") else SUE)
        elif sub == "AT_AttachPartition":
            part = definition.get("name", {})
            touch(info, part, env, AE)
            info.scans_table = True  # the partition is scanned unless a CHECK constraint implies the bound
        lock = facts.strictest(lock, cmd_lock)
    info.kind = _dominant_kind(kinds)
    if relkind == "index" and set(info.subcommands) <= {"AT_SetTableSpace", "AT_SetRelOptions", "AT_ResetRelOptions"}:
        info.kind = "ALTER_INDEX"
    info.objects.insert(0, facts_obj(schema, table, [c for c in columns if c], lock, relkind))
    info.schema, info.table, info.lock_mode = schema, table, facts.strictest(*(o.lock_mode for o in info.objects))
    info.column = next((c for c in columns if c), None)


_KIND_PRIORITY = ("DROP_COLUMN", "ALTER_TYPE", "ADD_CONSTRAINT", "SET_NOT_NULL", "ADD_COLUMN", "DROP_CONSTRAINT",
                  "VALIDATE_CONSTRAINT", "DETACH_PARTITION", "ATTACH_PARTITION", "SET_TABLESPACE", "DROP_NOT_NULL",
                  "SET_DEFAULT")


def _dominant_kind(kinds: list[str]) -> str:
    for kind in _KIND_PRIORITY:
        if kind in kinds:
            return kind
    return kinds[0] if kinds else "ALTER_TABLE"


def _add_column(info, coldef, env, pre11, columns):
    name = coldef.get("colname")
    columns.append(name)
    rewrote_before, notes_before = info.rewrites_table, len(info.notes)
    info.rewrites_table = False
    _add_column_facts(info, coldef, env, pre11, columns, name)
    entry = info.details["added_columns"][-1]
    entry["rewrites"] = info.rewrites_table
    entry["notes"] = info.notes[notes_before:]
    info.rewrites_table = info.rewrites_table or rewrote_before


def _add_column_facts(info, coldef, env, pre11, columns, name):
    tn = type_name(coldef.get("typeName"))
    info.details.setdefault("added_columns", []).append({"name": name, "type": tn["sql"], "type_info": tn})
    info.details["column_type"] = tn
    constraints = [one_node(c)[1] for c in coldef.get("constraints", []) or []]
    contypes = {c.get("contype") for c in constraints}
    default = next((c for c in constraints if c.get("contype") == "CONSTR_DEFAULT"), None)
    not_null = "CONSTR_NOTNULL" in contypes or "CONSTR_PRIMARY" in contypes or coldef.get("is_not_null")
    info.details["not_null"] = bool(not_null)
    info.details["has_default"] = default is not None
    if tn["name"] in facts.SERIAL_TYPES or "CONSTR_IDENTITY" in contypes:
        info.rewrites_table = True
        info.details["default_volatility"] = "v"
        info.notes.append(f"{tn['name'] if tn['name'] in facts.SERIAL_TYPES else 'identity'} column: every existing "
                          "row gets a sequence value, so the table is rewritten")
    elif any(c.get("contype") == "CONSTR_GENERATED" for c in constraints):
        info.rewrites_table = True
        info.notes.append("stored generated column: computed for every row, so the table is rewritten")
    elif default is not None:
        vol, volatile, unknown = expression_volatility(default.get("raw_expr"), env)
        info.details["default_volatility"] = vol
        info.details["default_expr"] = default.get("raw_expr")
        if pre11:
            info.rewrites_table = True
            info.notes.append("before PostgreSQL 11 any non-null default rewrites the table")
        elif vol == "v":
            info.rewrites_table = True
            why = f"volatile default ({', '.join(volatile)})" if volatile else \
                f"default calls {', '.join(unknown)} whose volatility is unknown without the database"
            info.notes.append(f"{why}: every row is rewritten with its own value")
        else:
            info.notes.append("non-volatile default: PostgreSQL 11+ stores it in the catalog, no rewrite"
                              + ("" if env.live else " (volatility from the built-in list, no database)"))
    if not_null and default is None and not info.rewrites_table:
        info.scans_table = False  # fails immediately on a non-empty table rather than scanning
    for c in constraints:
        if c.get("contype") in ("CONSTR_CHECK",):
            info.scans_table = True
        if c.get("contype") in ("CONSTR_PRIMARY", "CONSTR_UNIQUE"):
            info.scans_table = True
            info.details["builds_index"] = True
        if c.get("contype") == "CONSTR_FOREIGN":
            info.details["foreign_key"] = {"columns": [name], "references": relation_name(c.get("pktable", {}), env)}
            touch(info, c.get("pktable", {}), env, SRE)


def _alter_type(info, column, coldef):
    tn = type_name(coldef.get("typeName"))
    info.details["new_type"] = tn
    info.details.setdefault("column_changes", []).append(("AT_AlterColumnType", column, tn))
    # Narrowing or rounding loses values; the live analysis clears this for binary-coercible changes.
    info.details["type_change_lossless"] = info.details.get("type_change_lossless", True) and lossless_type_change(tn)
    if not info.details["type_change_lossless"]:
        info.destroys_data = True
    info.details["using"] = coldef.get("raw_default") is not None
    # Without the old type we cannot tell a binary-coercible change; assume the rewrite (the
    # live analysis refines this from the catalog, see plan_analysis).
    info.rewrites_table = True
    info.notes.append("type change rewrites the table and its indexes unless binary coercible")


def _add_constraint(info, con, env, columns) -> str:
    contype = con.get("contype")
    info.details["constraint_type"] = contype
    info.details["constraint"] = con.get("conname")
    not_valid = bool(con.get("skip_validation"))
    info.details["not_valid"] = not_valid
    if contype == "CONSTR_FOREIGN":
        cols = string_values(con.get("fk_attrs"))
        columns.extend(cols)
        ref = con.get("pktable", {})
        info.details["foreign_key"] = {"columns": cols, "references": relation_name(ref, env),
                                       "ref_columns": string_values(con.get("pk_attrs")),
                                       "on_delete": con.get("fk_del_action")}
        touch(info, ref, env, SRE)
        info.scans_table = not not_valid
        return SRE
    if contype == "CONSTR_CHECK":
        info.scans_table = not not_valid
        return AE
    if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"):
        columns.extend(string_values(con.get("keys")))
        info.details["using_index"] = con.get("indexname")
        if not con.get("indexname"):
            info.scans_table = True
            info.details["builds_index"] = True
        elif contype == "CONSTR_PRIMARY":
            info.scans_table = True  # PRIMARY KEY USING INDEX still checks NOT NULL on its columns
        return AE
    return AE


