"""Imports point downward only, and no two modules import each other, even through a function.

Layers, bottom first: the site's helpers (env, roles, embedded PostgreSQL, errors, middleware,
navigation) and ``targets``; ``staging_app``; ``baselines_app``; ``migrations_app`` (the plans); ``integrations``
(the JSON API, tokens, migration files, the ledger: CI on top of the plans);
the wiring (``dataflow_site.settings``, ``urls``, ``wsgi``, ``asgi``). Every import counts, at
module level or inside a function; ``from package import module`` is an import of the module."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WIRING = {"dataflow_site.settings", "dataflow_site.urls", "dataflow_site.wsgi", "dataflow_site.asgi"}
LAYERS = {"dataflow_site": 0, "targets": 0, "staging_app": 1, "baselines_app": 2, "migrations_app": 3,
          "integrations": 4}
TOP = 5


def _modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[1:2] == ("migrations",):
                continue  # migration files name models by string; the graph of code is what matters
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[tuple[str, int]]:
    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        found |= {(target, node.lineno) for target in map(known, names) if target and target != module}
    return found


def _layer(module: str) -> int:
    return TOP if module in WIRING else LAYERS[module.split(".")[0]]


def _graph() -> dict[str, set[tuple[str, int]]]:
    modules = _modules()
    return {module: _imports(module, path, modules) for module, path in modules.items()}


def _cycles(graph: dict[str, set[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    edges = {module: sorted({target for target, _ in targets}) for module, targets in graph.items()}
    index, low, stack, on_stack, components, counter = {}, {}, [], set(), [], 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            if child < len(edges[node]):
                work.append((node, child + 1))
                nxt = edges[node][child]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_module_imports_from_a_higher_layer():
    upward = [f"{module}:{line} imports {target}" for module, targets in sorted(_graph().items())
              for target, line in sorted(targets) if _layer(target) > _layer(module)]
    assert not upward, "imports that point upward:\n" + "\n".join(upward)


def test_no_two_modules_import_each_other_even_through_a_function():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(cycle) for cycle in cycles)


def test_the_checks_see_an_upward_import_and_a_cycle():
    graph = {"targets.a": {("migrations_app.b", 3)}, "migrations_app.b": {("migrations_app.c", 1)},
             "migrations_app.c": {("migrations_app.b", 2)}}
    assert _layer("migrations_app.b") > _layer("targets.a")
    assert _cycles(graph) == [["migrations_app.b", "migrations_app.c"]]
    modules = _modules()
    assert ("migrations_app.models", 9) not in _imports("targets.models", modules["targets.models"], modules)
    assert any(target == "migrations_app.views.rehearsals" for target, _ in
               _imports("migrations_app.templatetags.rehearsal_tags", modules["migrations_app.templatetags.rehearsal_tags"],
                        modules))
