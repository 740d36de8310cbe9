"""Per-statement-type facts: kind, touched objects, lock, rewrite, scan, transactional, data loss.

``describe_node(info, node, env)`` fills a ``StatementInfo`` from a pglast JSON parse tree.
Lock modes and rewrite rules follow the PostgreSQL documentation (see ``statement_facts``).
"""

from __future__ import annotations

from migrations_app.engines import statement_facts as facts

AE, SUE, SRE, SHARE, RE = "ACCESS EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE", "ROW EXCLUSIVE"
LOCK_STMT_MODES = {1: "ACCESS SHARE", 2: "ROW SHARE", 3: RE, 4: SUE, 5: SHARE, 6: SRE, 7: "EXCLUSIVE", 8: AE}


def _one(node: dict | None) -> tuple[str, dict]:
    if not node:
        return "", {}
    key = next(iter(node))
    return key, node[key]


def _strings(items) -> list[str]:
    return [i["String"]["sval"] for i in items or [] if "String" in i]


def type_name(tn: dict | None) -> dict:
    """``{'name': 'varchar', 'schema': 'pg_catalog' | None, 'mods': [20], 'array': bool, 'sql': 'varchar(20)'}``."""
    names = _strings((tn or {}).get("names"))
    mods = []
    for mod in (tn or {}).get("typmods", []) or []:
        kind, body = _one(mod)
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


def _relation(rv: dict, env) -> tuple[str | None, str]:
    return rv.get("schemaname"), rv.get("relname", "?")


def _touch(info, rv: dict, env, lock: str | None, columns=(), relkind="table"):
    schema, name = _relation(rv, env)
    info.objects.append(facts_obj(schema, name, list(columns), lock, relkind))


def facts_obj(schema, table, columns, lock, relkind="table"):
    from migrations_app.engines.statements import TouchedObject

    return TouchedObject(schema=schema, table=table, columns=columns, lock_mode=lock, relkind=relkind)


# -- expression volatility -------------------------------------------------------------------

def expression_volatility(expr, env) -> tuple[str, list[str], list[str]]:
    """Worst volatility in ``expr``: 'i', 's' or 'v', plus the volatile and unknown function names."""
    worst, volatile, unknown = "i", [], []
    order = {"i": 0, "s": 1, "v": 2}

    def walk(node):
        nonlocal worst
        if isinstance(node, dict):
            if "FuncCall" in node:
                name = (_strings(node["FuncCall"].get("funcname")) or ["?"])[-1].lower()
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


# -- ALTER TABLE ---------------------------------------------------------------------------

def _alter_table(info, body, env):
    objtype = body.get("objtype", "OBJECT_TABLE")
    schema, table = _relation(body.get("relation", {}), env)
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
        def_type, definition = _one(cmd.get("def"))
        if cmd.get("behavior") == "DROP_CASCADE":
            info.details["cascade"] = True
        if sub in facts.ALWAYS_REWRITE:
            info.rewrites_table = True
        if sub == "AT_AddColumn":
            _add_column(info, definition, env, pre11, columns)
        elif sub == "AT_DropColumn":
            columns.append(cmd.get("name"))
            info.destroys_data = True
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
        elif sub == "AT_SetRelOptions" or sub == "AT_ResetRelOptions":
            names = [(_one(d)[1].get("defnamespace", "") + "." if _one(d)[1].get("defnamespace") else "")
                     + _one(d)[1].get("defname", "") for d in (definition.get("items", []) if def_type == "List" else [])]
            if names and all(n in facts.SHARE_UPDATE_RELOPTIONS or n.startswith(facts.SHARE_UPDATE_RELOPTION_PREFIXES)
                             for n in names):
                cmd_lock = SUE
        elif sub == "AT_DetachPartition":
            if definition.get("concurrent"):
                cmd_lock = SUE
                info.transactional = False
            part = definition.get("name", {})
            _touch(info, part, env, AE if not definition.get("concurrent") else SUE)
        elif sub == "AT_AttachPartition":
            part = definition.get("name", {})
            _touch(info, part, env, AE)
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
    constraints = [_one(c)[1] for c in coldef.get("constraints", []) or []]
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
            info.details["foreign_key"] = {"columns": [name], "references": _relation(c.get("pktable", {}), env)}
            _touch(info, c.get("pktable", {}), env, SRE)


def _alter_type(info, column, coldef):
    tn = type_name(coldef.get("typeName"))
    info.details["new_type"] = tn
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
        cols = _strings(con.get("fk_attrs"))
        columns.extend(cols)
        ref = con.get("pktable", {})
        info.details["foreign_key"] = {"columns": cols, "references": _relation(ref, env),
                                       "ref_columns": _strings(con.get("pk_attrs")),
                                       "on_delete": con.get("fk_del_action")}
        _touch(info, ref, env, SRE)
        info.scans_table = not not_valid
        return SRE
    if contype == "CONSTR_CHECK":
        info.scans_table = not not_valid
        return AE
    if contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"):
        columns.extend(_strings(con.get("keys")))
        info.details["using_index"] = con.get("indexname")
        if not con.get("indexname"):
            info.scans_table = True
            info.details["builds_index"] = True
        elif contype == "CONSTR_PRIMARY":
            info.scans_table = True  # PRIMARY KEY USING INDEX still checks NOT NULL on its columns
        return AE
    return AE


# -- other statements ----------------------------------------------------------------------

def _drop(info, body, env):
    remove = body.get("removeType", "")
    cascade = body.get("behavior") == "DROP_CASCADE"
    info.details.update(cascade=cascade, if_exists=bool(body.get("missing_ok")))
    names = [_strings(_one(o)[1].get("items")) if _one(o)[0] == "List" else _strings([o])
             for o in body.get("objects", [])]
    for parts in names:
        schema = parts[-2] if len(parts) > 1 else None
        name = parts[-1] if parts else "?"
        if remove == "OBJECT_INDEX":
            lock = SUE if body.get("concurrent") else AE
            info.objects.append(facts_obj(schema, name, [], lock, "index"))
        elif remove in ("OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"):
            rel = {"OBJECT_TABLE": "table", "OBJECT_FOREIGN_TABLE": "table", "OBJECT_SEQUENCE": "sequence"}.get(remove, "view")
            info.objects.append(facts_obj(schema, name, [], AE, rel))
        elif remove == "OBJECT_TYPE" or remove == "OBJECT_DOMAIN":
            info.objects.append(facts_obj(schema, name, [], None, "type"))
        elif remove == "OBJECT_SCHEMA":
            info.objects.append(facts_obj(name, name, [], None, "schema"))
    info.kind = {"OBJECT_TABLE": "DROP_TABLE", "OBJECT_INDEX": "DROP_INDEX", "OBJECT_VIEW": "DROP_VIEW",
                 "OBJECT_MATVIEW": "DROP_MATERIALIZED_VIEW", "OBJECT_SCHEMA": "DROP_SCHEMA", "OBJECT_TYPE": "DROP_TYPE",
                 "OBJECT_SEQUENCE": "DROP_SEQUENCE", "OBJECT_FUNCTION": "DROP_FUNCTION",
                 "OBJECT_TRIGGER": "DROP_TRIGGER"}.get(remove, "DROP_" + remove.replace("OBJECT_", ""))
    info.destroys_data = remove in ("OBJECT_TABLE", "OBJECT_SCHEMA", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE") or \
        (cascade and remove not in ("OBJECT_INDEX",))
    if body.get("concurrent"):
        info.transactional = False


def _index(info, body, env):
    schema, table = _relation(body.get("relation", {}), env)
    cols = [_one(p)[1].get("name") for p in body.get("indexParams", [])]
    concurrent = bool(body.get("concurrent"))
    info.kind = "CREATE_INDEX"
    info.objects.append(facts_obj(schema, table, [c for c in cols if c], SUE if concurrent else SHARE))
    info.scans_table = True
    info.transactional = not concurrent
    info.details.update(concurrently=concurrent, unique=bool(body.get("unique")), index=body.get("idxname"),
                        if_not_exists=bool(body.get("if_not_exists")))


def _rename(info, body, env):
    rtype = body.get("renameType")
    rel = body.get("relation") or {}
    schema, table = _relation(rel, env)
    info.details.update(old_name=body.get("subname") or table, new_name=body.get("newname"))
    if rtype == "OBJECT_COLUMN":
        info.kind = "RENAME_COLUMN"
        info.objects.append(facts_obj(schema, table, [body.get("subname")], AE))
    elif rtype == "OBJECT_TABLE":
        info.kind = "RENAME_TABLE"
        info.objects.append(facts_obj(schema, table, [], AE))
    elif rtype == "OBJECT_INDEX":
        info.kind = "RENAME_INDEX"
        info.objects.append(facts_obj(schema, table, [], SUE, "index"))
    elif rtype == "OBJECT_TABCONSTRAINT":
        info.kind = "RENAME_CONSTRAINT"
        info.objects.append(facts_obj(schema, table, [], AE))
    elif rtype in ("OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE"):
        info.kind = "RENAME_" + rtype.replace("OBJECT_", "")
        info.objects.append(facts_obj(schema, table, [], AE, "view"))
    else:
        info.kind = "RENAME_" + (rtype or "OBJECT").replace("OBJECT_", "")


def _create_table(info, body, env):
    schema, table = _relation(body.get("relation", {}), env)
    info.kind = "CREATE_TABLE"
    cols, types = [], []
    for elt in body.get("tableElts", []):
        kind, node = _one(elt)
        if kind == "ColumnDef":
            cols.append(node.get("colname"))
            types.append({"column": node.get("colname"), "type": type_name(node.get("typeName"))})
            for c in node.get("constraints", []) or []:
                con = _one(c)[1]
                if con.get("contype") == "CONSTR_FOREIGN":
                    _touch(info, con.get("pktable", {}), env, SRE)
        elif kind == "Constraint" and node.get("contype") == "CONSTR_FOREIGN":
            _touch(info, node.get("pktable", {}), env, SRE)
    info.details["column_types"] = types
    info.objects.insert(0, facts_obj(schema, table, cols, AE))
    info.details["new_object"] = True


def _dml(info, kind, body, env):
    schema, table = _relation(body.get("relation", {}), env)
    info.kind = kind
    info.objects.append(facts_obj(schema, table, [], RE))
    has_where = body.get("whereClause") is not None
    info.details["has_where"] = has_where
    if kind in ("UPDATE", "DELETE"):
        info.scans_table = not has_where
        info.destroys_data = True
        if kind == "UPDATE":
            info.objects[0].columns = [_one(t)[1].get("name") for t in body.get("targetList", []) if _one(t)[1].get("name")]


def describe_node(info, node: dict, env) -> None:
    ntype, body = _one(node)
    info.node_type = ntype
    if ntype == "AlterTableStmt":
        _alter_table(info, body, env)
    elif ntype == "DropStmt":
        _drop(info, body, env)
    elif ntype == "IndexStmt":
        _index(info, body, env)
    elif ntype == "RenameStmt":
        _rename(info, body, env)
    elif ntype == "CreateStmt":
        _create_table(info, body, env)
    elif ntype in ("UpdateStmt", "DeleteStmt", "InsertStmt"):
        _dml(info, ntype[:-4].upper(), body, env)
    elif ntype == "TruncateStmt":
        info.kind = "TRUNCATE"
        info.destroys_data = True
        info.details["cascade"] = body.get("behavior") == "DROP_CASCADE"
        for rv in body.get("relations", []):
            _touch(info, _one(rv)[1], env, AE)
    elif ntype == "AlterEnumStmt":
        info.kind = "ALTER_ENUM" if body.get("oldVal") else "ADD_ENUM_VALUE"
        names = _strings(body.get("typeName"))
        info.objects.append(facts_obj(names[-2] if len(names) > 1 else None, names[-1], [], None, "type"))
        info.details.update(new_value=body.get("newVal"), neighbor=body.get("newValNeighbor"),
                            after=bool(body.get("newValIsAfter")))
        info.transactional = env.server_version_num >= 120000 or bool(body.get("oldVal"))
    elif ntype == "VacuumStmt":
        full = any(_one(o)[1].get("defname") == "full" for o in body.get("options", []))
        info.kind = "VACUUM" if body.get("is_vacuumcmd") else "ANALYZE"
        info.transactional = not body.get("is_vacuumcmd")
        for rel in body.get("rels", []):
            _touch(info, _one(rel)[1].get("relation", {}), env, AE if full else SUE)
        info.rewrites_table = full
        info.scans_table = True
    elif ntype == "ClusterStmt":
        info.kind = "CLUSTER"
        info.rewrites_table = True
        if body.get("relation"):
            _touch(info, body["relation"], env, AE)
        else:
            info.transactional = False
    elif ntype == "ReindexStmt":
        concurrent = any(_one(o)[1].get("defname") == "concurrently" for o in body.get("params", []))
        info.kind = "REINDEX"
        info.transactional = not concurrent and body.get("kind") in ("REINDEX_OBJECT_INDEX", "REINDEX_OBJECT_TABLE")
        if body.get("relation"):
            relkind = "index" if body.get("kind") == "REINDEX_OBJECT_INDEX" else "table"
            _touch(info, body["relation"], env, SUE if concurrent else (AE if relkind == "index" else SHARE), relkind=relkind)
        info.scans_table = True
    elif ntype == "TransactionStmt":
        info.kind = {"TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "BEGIN", "TRANS_STMT_COMMIT": "COMMIT",
                     "TRANS_STMT_ROLLBACK": "ROLLBACK"}.get(body.get("kind"), "TRANSACTION")
    elif ntype == "VariableSetStmt":
        info.kind = "SET"
        info.details.update(name=body.get("name"), is_local=bool(body.get("is_local")),
                            value=[_one(a)[1] for a in body.get("args", [])], reset=body.get("kind") != "VAR_SET_VALUE")
    elif ntype == "LockStmt":
        info.kind = "LOCK_TABLE"
        for rv in body.get("relations", []):
            _touch(info, _one(rv)[1], env, LOCK_STMT_MODES.get(body.get("mode"), AE))
    elif ntype == "DropdbStmt":
        info.kind = "DROP_DATABASE"
        info.destroys_data = True
        info.transactional = False
        info.details["database"] = body.get("dbname")
    elif ntype in ("CreatedbStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt", "AlterSystemStmt"):
        info.kind = ntype.replace("Stmt", "").upper()
        info.transactional = False
    elif ntype == "CreateEnumStmt":
        info.kind = "CREATE_TYPE"
    elif ntype == "CreateDomainStmt":
        info.kind = "CREATE_DOMAIN"
        info.details["has_constraint"] = any(_one(c)[1].get("contype") == "CONSTR_CHECK" for c in body.get("constraints", []))
    elif ntype == "AlterDomainStmt":
        info.kind = "ALTER_DOMAIN"
        info.details["adds_constraint"] = body.get("subtype") == "C"
        info.scans_table = info.details["adds_constraint"] and not _one(body.get("def"))[1].get("skip_validation")
    elif ntype == "RefreshMatViewStmt":
        info.kind = "REFRESH_MATERIALIZED_VIEW"
        _touch(info, body.get("relation", {}), env, "EXCLUSIVE" if body.get("concurrent") else AE, relkind="view")
        info.scans_table = True
    elif ntype == "CreateTrigStmt":
        info.kind = "CREATE_TRIGGER"
        _touch(info, body.get("relation", {}), env, SRE)
    elif ntype in ("ViewStmt", "CreateTableAsStmt"):
        info.kind = "CREATE_VIEW" if ntype == "ViewStmt" else "CREATE_TABLE_AS"
        rel = body.get("view") or (body.get("into") or {}).get("rel", {})
        _touch(info, rel, env, None, relkind="view")
        info.details["new_object"] = True
    elif ntype == "CreateSchemaStmt":
        info.kind = "CREATE_SCHEMA"
    elif ntype == "CreateSeqStmt":
        info.kind = "CREATE_SEQUENCE"
    elif ntype in ("CreateFunctionStmt",):
        info.kind = "CREATE_FUNCTION"
    elif ntype == "CommentStmt":
        info.kind = "COMMENT"
    elif ntype == "SelectStmt":
        info.kind = "SELECT"
    elif ntype == "CreateStatsStmt":
        info.kind = "CREATE_STATISTICS"
    else:
        info.kind = "OTHER"
