"""Per-statement-type facts: kind, touched objects, lock, rewrite, scan, transactional, data loss.

``describe_node(info, node, env)`` fills a ``StatementInfo`` from a pglast JSON parse tree.
Lock modes and rewrite rules follow the PostgreSQL documentation (see ``statement_facts``).
"""

from __future__ import annotations

from migrations_app.engines.statements.alter import describe_alter_table
from migrations_app.engines.statements.nodes import (AE, LOCK_STMT_MODES, RE, SHARE, SRE, SUE, facts_obj, one_node,
                                                     relation_name, string_values, touch, type_name)


def _drop(info, body, env):
    remove = body.get("removeType", "")
    cascade = body.get("behavior") == "DROP_CASCADE"
    info.details.update(cascade=cascade, if_exists=bool(body.get("missing_ok")))
    names = [string_values(one_node(o)[1].get("items")) if one_node(o)[0] == "List" else string_values([o])
             for o in body.get("objects", [])]
    info.details["dropped"] = [_dropped_object(remove, o) for o in body.get("objects", [])]
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
        elif remove in ("OBJECT_POLICY", "OBJECT_RULE", "OBJECT_TRIGGER") and len(parts) > 1:
            # objects are [schema.]table.name: the table is locked ACCESS EXCLUSIVE
            table = parts[:-1]
            info.objects.append(facts_obj(table[-2] if len(table) > 1 else None, table[-1], [], AE))
    info.kind = {"OBJECT_TABLE": "DROP_TABLE", "OBJECT_INDEX": "DROP_INDEX", "OBJECT_VIEW": "DROP_VIEW",
                 "OBJECT_MATVIEW": "DROP_MATERIALIZED_VIEW", "OBJECT_SCHEMA": "DROP_SCHEMA", "OBJECT_TYPE": "DROP_TYPE",
                 "OBJECT_SEQUENCE": "DROP_SEQUENCE", "OBJECT_FUNCTION": "DROP_FUNCTION",
                 "OBJECT_TRIGGER": "DROP_TRIGGER"}.get(remove, "DROP_" + remove.replace("OBJECT_", ""))
    info.destroys_data = remove in ("OBJECT_TABLE", "OBJECT_SCHEMA", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE") or \
        (cascade and remove not in ("OBJECT_INDEX",))
    if body.get("concurrent"):
        info.transactional = False


def _dropped_object(remove: str, obj: dict) -> dict:
    """What one dropped object is called: ``schema``, ``name``, ``table`` (triggers, policies,
    rules) and, for routines, the input argument types as written (None: no argument list)."""
    kind, body = one_node(obj)
    if kind == "ObjectWithArgs":
        parts = string_values(body.get("objname"))
        args = None if body.get("args_unspecified") else [_arg_type(a) for a in body.get("objargs", []) or []]
        return {"schema": parts[-2] if len(parts) > 1 else None, "name": parts[-1] if parts else "?",
                "table": None, "args": args}
    parts = string_values(body.get("items")) if kind == "List" else string_values([obj])
    if remove in ("OBJECT_POLICY", "OBJECT_RULE", "OBJECT_TRIGGER"):
        table = parts[:-1]
        return {"schema": table[-2] if len(table) > 1 else None, "table": table[-1] if table else None,
                "name": parts[-1] if parts else "?", "args": None}
    return {"schema": parts[-2] if len(parts) > 1 else None, "name": parts[-1] if parts else "?",
            "table": None, "args": None}


def _arg_type(node: dict) -> dict:
    tn = one_node(node)[1]
    names = string_values(tn.get("names"))
    return {"schema": names[-2] if len(names) > 1 else None, "name": names[-1] if names else "?",
            "array": bool(tn.get("arrayBounds")), "pct_type": bool(tn.get("pct_type"))}


def _index(info, body, env):
    schema, table = relation_name(body.get("relation", {}), env)
    cols = [one_node(p)[1].get("name") for p in body.get("indexParams", [])]
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
    schema, table = relation_name(rel, env)
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
    schema, table = relation_name(body.get("relation", {}), env)
    info.kind = "CREATE_TABLE"
    cols, types = [], []
    for elt in body.get("tableElts", []):
        kind, node = one_node(elt)
        if kind == "ColumnDef":
            cols.append(node.get("colname"))
            types.append({"column": node.get("colname"), "type": type_name(node.get("typeName"))})
            for c in node.get("constraints", []) or []:
                con = one_node(c)[1]
                if con.get("contype") == "CONSTR_FOREIGN":
                    touch(info, con.get("pktable", {}), env, SRE)
        elif kind == "Constraint" and node.get("contype") == "CONSTR_FOREIGN":
            touch(info, node.get("pktable", {}), env, SRE)
    info.details["column_types"] = types
    # MergeAttributes locks a partition's parent ACCESS EXCLUSIVE, an INHERITS parent SHARE UPDATE EXCLUSIVE
    for parent in body.get("inhRelations", []) or []:
        touch(info, one_node(parent)[1], env, AE if body.get("partbound") else SUE)
    info.objects.insert(0, facts_obj(schema, table, cols, AE))
    info.details["new_object"] = True


def _dml(info, kind, body, env):
    schema, table = relation_name(body.get("relation", {}), env)
    info.kind = kind
    info.objects.append(facts_obj(schema, table, [], RE))
    has_where = body.get("whereClause") is not None
    info.details["has_where"] = has_where
    if kind in ("UPDATE", "DELETE"):
        info.scans_table = not has_where
        info.destroys_data = True
        if kind == "UPDATE":
            info.objects[0].columns = [one_node(t)[1].get("name") for t in body.get("targetList", []) if one_node(t)[1].get("name")]


def describe_node(info, node: dict, env) -> None:
    ntype, body = one_node(node)
    info.node_type = ntype
    if ntype == "AlterTableStmt":
        describe_alter_table(info, body, env)
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
            touch(info, one_node(rv)[1], env, AE)
    elif ntype == "AlterEnumStmt":
        info.kind = "ALTER_ENUM" if body.get("oldVal") else "ADD_ENUM_VALUE"
        names = string_values(body.get("typeName"))
        info.objects.append(facts_obj(names[-2] if len(names) > 1 else None, names[-1], [], None, "type"))
        info.details.update(new_value=body.get("newVal"), neighbor=body.get("newValNeighbor"),
                            after=bool(body.get("newValIsAfter")))
        info.transactional = env.server_version_num >= 120000 or bool(body.get("oldVal"))
    elif ntype == "VacuumStmt":
        full = any(one_node(o)[1].get("defname") == "full" for o in body.get("options", []))
        info.kind = "VACUUM" if body.get("is_vacuumcmd") else "ANALYZE"
        info.transactional = not body.get("is_vacuumcmd")
        for rel in body.get("rels", []):
            touch(info, one_node(rel)[1].get("relation", {}), env, AE if full else SUE)
        info.rewrites_table = full
        info.scans_table = True
    elif ntype == "ClusterStmt":
        info.kind = "CLUSTER"
        info.rewrites_table = True
        if body.get("relation"):
            touch(info, body["relation"], env, AE)
        else:
            info.transactional = False
    elif ntype == "ReindexStmt":
        concurrent = any(one_node(o)[1].get("defname") == "concurrently" for o in body.get("params", []))
        info.kind = "REINDEX"
        info.transactional = not concurrent and body.get("kind") in ("REINDEX_OBJECT_INDEX", "REINDEX_OBJECT_TABLE")
        if body.get("relation"):
            relkind = "index" if body.get("kind") == "REINDEX_OBJECT_INDEX" else "table"
            touch(info, body["relation"], env, SUE if concurrent else (AE if relkind == "index" else SHARE), relkind=relkind)
        info.scans_table = True
    elif ntype == "TransactionStmt":
        info.kind = {"TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "BEGIN", "TRANS_STMT_COMMIT": "COMMIT",
                     "TRANS_STMT_ROLLBACK": "ROLLBACK"}.get(body.get("kind"), "TRANSACTION")
    elif ntype == "VariableSetStmt":
        info.kind = "SET"
        info.details.update(name=body.get("name"), is_local=bool(body.get("is_local")),
                            value=[one_node(a)[1] for a in body.get("args", [])], reset=body.get("kind") != "VAR_SET_VALUE")
    elif ntype == "LockStmt":
        info.kind = "LOCK_TABLE"
        for rv in body.get("relations", []):
            touch(info, one_node(rv)[1], env, LOCK_STMT_MODES.get(body.get("mode"), AE))
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
        info.details["has_constraint"] = any(one_node(c)[1].get("contype") == "CONSTR_CHECK" for c in body.get("constraints", []))
    elif ntype == "AlterDomainStmt":
        info.kind = "ALTER_DOMAIN"
        info.details["adds_constraint"] = body.get("subtype") == "C"
        info.scans_table = info.details["adds_constraint"] and not one_node(body.get("def"))[1].get("skip_validation")
    elif ntype == "RefreshMatViewStmt":
        info.kind = "REFRESH_MATERIALIZED_VIEW"
        touch(info, body.get("relation", {}), env, "EXCLUSIVE" if body.get("concurrent") else AE, relkind="view")
        info.scans_table = True
    elif ntype == "CreateTrigStmt":
        info.kind = "CREATE_TRIGGER"
        touch(info, body.get("relation", {}), env, SRE)
    elif ntype in ("ViewStmt", "CreateTableAsStmt"):
        info.kind = "CREATE_VIEW" if ntype == "ViewStmt" else "CREATE_TABLE_AS"
        rel = body.get("view") or (body.get("into") or {}).get("rel", {})
        touch(info, rel, env, AE if body.get("replace") else None, relkind="view")
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
        for rel in body.get("relations", []):
            kind, rv = one_node(rel)
            if kind == "RangeVar":
                touch(info, rv, env, SUE)
    else:
        _other(info, ntype, body, env)


# Documented locks of the remaining statement kinds ("Explicit Locking" and each command's page).
def _other(info, ntype, body, env):
    if ntype in ("CreatePolicyStmt", "AlterPolicyStmt"):
        info.kind = "CREATE_POLICY" if ntype == "CreatePolicyStmt" else "ALTER_POLICY"
        touch(info, body.get("table", {}), env, AE)
    elif ntype == "RuleStmt":
        info.kind = "CREATE_RULE"
        touch(info, body.get("relation", {}), env, AE)
    elif ntype == "CommentStmt":
        info.kind = "COMMENT"
        objtype = body.get("objtype")
        if objtype in ("OBJECT_TABLE", "OBJECT_COLUMN", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_INDEX",
                       "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"):
            parts = string_values(one_node(body.get("object"))[1].get("items"))
            if objtype == "OBJECT_COLUMN":
                parts = parts[:-1]
            if parts:
                info.objects.append(facts_obj(parts[-2] if len(parts) > 1 else None, parts[-1], [], SUE))
    elif ntype == "MergeStmt":
        info.kind = "MERGE"
        touch(info, body.get("relation", {}), env, RE)
        actions = {one_node(w)[1].get("commandType") for w in body.get("mergeWhenClauses", [])}
        info.destroys_data = bool(actions & {"CMD_UPDATE", "CMD_DELETE"})
        info.details["has_where"] = True
    elif ntype == "AlterSeqStmt":
        info.kind = "ALTER_SEQUENCE"
        touch(info, body.get("sequence", {}), env, SRE, relkind="sequence")
    elif ntype == "DoStmt":
        info.kind = "DO"
    elif ntype == "CopyStmt":
        info.kind = "COPY"
    elif ntype == "CallStmt":
        info.kind = "CALL"
    elif ntype in ("GrantStmt", "AlterDefaultPrivilegesStmt"):
        info.kind = "GRANT"
    elif ntype == "CreateExtensionStmt":
        info.kind = "CREATE_EXTENSION"
    elif ntype == "ExplainStmt":
        info.kind = "EXPLAIN"
    else:
        info.kind = "OTHER"
