"""Count the joins between rxnats' modules: private reach-ins and import circles.

    .venv/bin/python tools/structure_metrics.py          # the report
    .venv/bin/python tools/structure_metrics.py --json   # the same figures as JSON

Private reach-ins are found with mypy's own type inference (``mypy.build`` with
``export_types``): every attribute access ``x._name`` (not a dunder) whose receiver ``x``
mypy types as an instance of an rxnats class, and which is not ``self._name`` / ``cls._name``.
It reports

- uses of a private member of ``NATS`` from a module outside the client package (the
  module that defines ``NATS`` and, when that is a package, its submodules);
- writes of a private member of another module's object (``sub._dropped = ...``);
- every private reach-in across modules in ``rxnats/``, and those in ``tests/``.

The import graph is read from the source with :mod:`ast` (explicit imports of rxnats
modules, whether at module level, under ``if TYPE_CHECKING:`` or inside a function). It
reports the strongly connected components (import circles) of all of them and of the
run-time ones, the modules that import ``NATS`` only for type checking, the imports
deferred into functions, and the run-time imports of ``rxnats.rx`` by modules below it
(anything but ``rxnats.rx`` itself and the facades above it: the client package,
``rxnats.subscription``, JetStream, micro and the applications).

Takes about as long as one mypy run.
"""

from __future__ import annotations

import ast
import json
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mypy import build
from mypy.find_sources import create_source_list
from mypy.nodes import MypyFile, TypeInfo
from mypy.options import Options
from mypy.refinfo import get_undocumented_ref_info_json

ROOT = Path(__file__).resolve().parents[1]

#: Packages and modules allowed to import rxnats.rx at run time: rx itself and what sits
#: on top of it (the facades that mix the Rx methods in, and the applications).
RX_USERS = (
    "rxnats.rx",
    "rxnats.client",
    "rxnats.subscription",
    "rxnats.jetstream",
    "rxnats.micro",
    "rxnats.cli",
    "rxnats.bench",
    "rxnats.demo",
    "rxnats.notebook",
    "rxnats.otel",
    "rxnats.testing",
    "rxnats.aio",
    "rxnats.js",
)


def _within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    if isinstance(prefixes, str):
        prefixes = (prefixes,)
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# ---------------------------------------------------------------------------- reach-ins
@dataclass
class Access:
    module: str  # where the access is
    line: int
    owner: str  # the receiver's class (full name)
    owner_module: str  # the module that defines it
    name: str
    write: bool


def _attributes(path: str) -> dict[tuple[int, int, str], ast.Attribute]:
    """The attribute nodes of a file by (line, column of the receiver's start, name)."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    return {
        (node.lineno, node.col_offset, node.attr): node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
    }


def _class_info(graph: Mapping[str, object], fullname: str) -> TypeInfo | None:
    module, _, name = fullname.rpartition(".")
    while module:
        state = graph.get(module)
        tree = getattr(state, "tree", None)
        if isinstance(tree, MypyFile):
            node: object = tree.names.get(name.split(".")[0])
            node = getattr(node, "node", None)
            for part in name.split(".")[1:]:
                node = getattr(getattr(node, "names", {}).get(part), "node", None)
            return node if isinstance(node, TypeInfo) else None
        module, _, head = module.rpartition(".")
        name = f"{head}.{name}"
    return None


def collect_accesses() -> tuple[list[Access], str]:
    """Every private access in rxnats/ and tests/, and the full name of ``NATS``."""
    options = Options()
    options.python_version = (3, 11)
    options.export_types = True
    options.preserve_asts = True
    options.ignore_missing_imports = True
    options.incremental = False
    with tempfile.TemporaryDirectory() as cache:
        options.cache_dir = cache
        sources = create_source_list([str(ROOT / "rxnats"), str(ROOT / "tests")], options)
        result = build.build(sources, options)
    nats_node = result.graph["rxnats"].tree.names["NATS"].node  # type: ignore[union-attr]  # rxnats is in the build: its tree is there
    assert nats_node is not None
    accesses: list[Access] = []
    for state in result.graph.values():
        tree = state.tree
        if not isinstance(tree, MypyFile) or not tree.path.endswith(".py"):
            continue
        path = Path(tree.path).resolve()
        if not path.is_relative_to(ROOT / "rxnats") and not path.is_relative_to(ROOT / "tests"):
            continue
        where = _module_name(path) if path.is_relative_to(ROOT / "rxnats") else (
            "tests." + ".".join(path.relative_to(ROOT / "tests").with_suffix("").parts)
        )
        nodes = _attributes(tree.path)
        for ref in get_undocumented_ref_info_json(tree, result.types):
            target = str(ref["target"])
            owner, _, name = target.rpartition(".")
            if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                continue
            if not owner.startswith("rxnats."):
                continue
            node = nodes.get((int(ref["line"]), int(ref["column"]), name))  # type: ignore[call-overload]  # refinfo values are typed object; line and column are ints
            if node is None:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            info = _class_info(result.graph, owner)
            if info is None:
                continue
            defining = next((b for b in info.mro if name in b.names), info)
            accesses.append(
                Access(
                    where,
                    node.lineno,
                    info.fullname,
                    defining.module_name,
                    name,
                    isinstance(node.ctx, ast.Store | ast.Del),
                )
            )
    return accesses, nats_node.fullname


# ---------------------------------------------------------------------------- imports
@dataclass(frozen=True)
class Import:
    source: str
    target: str
    kind: str  # "runtime", "type-checking" or "function"
    names: tuple[str, ...]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def read_imports() -> tuple[list[Import], set[str]]:
    modules = {_module_name(p): p for p in (ROOT / "rxnats").rglob("*.py")}
    imports: list[Import] = []

    def resolve(module: str, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = module.split(".")
        if not modules[module].name == "__init__.py":
            package = package[:-1]
        base = package[: len(package) - node.level + 1]
        return ".".join([*base, node.module] if node.module else base)

    def visit(module: str, node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            child_kind = kind
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.body:
                    visit_stmt(module, stmt, "type-checking")
                for stmt in child.orelse:
                    visit_stmt(module, stmt, kind)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                child_kind = "function"
            visit_stmt(module, child, child_kind)

    def visit_stmt(module: str, node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _within(alias.name, "rxnats"):
                    imports.append(Import(module, alias.name, kind, ()))
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node)
            if _within(target, "rxnats"):
                plain: list[str] = []
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if sub in modules:
                        imports.append(Import(module, sub, kind, ()))
                    else:
                        plain.append(alias.name)
                if plain:
                    imports.append(Import(module, target, kind, tuple(plain)))
        else:
            visit(module, node, kind)

    for module, path in modules.items():
        visit(module, ast.parse(path.read_text(encoding="utf-8")), "runtime")
    return [i for i in imports if i.target in modules and i.target != i.source], set(modules)


def circles(edges: dict[str, set[str]], nodes: set[str]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10_000)

    def strongconnect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            strongconnect(v)
    return sorted(found, key=len, reverse=True)


# ---------------------------------------------------------------------------- report
def report() -> dict[str, object]:
    accesses, nats = collect_accesses()
    nats_module = nats.rsplit(".", 1)[0]
    client_package = nats_module
    if nats_module.count(".") > 1:  # NATS defined in a submodule of a client package
        client_package = nats_module.rsplit(".", 1)[0]
    in_src = [a for a in accesses if _within(a.module, "rxnats")]
    in_tests = [a for a in accesses if _within(a.module, "tests")]
    nats_uses = [
        a for a in in_src if a.owner == nats and not _within(a.module, client_package)
    ]
    cross = [a for a in in_src if a.owner_module != a.module]
    foreign_writes = [a for a in cross if a.write]

    imports, modules = read_imports()
    all_edges: dict[str, set[str]] = defaultdict(set)
    runtime_edges: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        all_edges[imp.source].add(imp.target)
        if imp.kind == "runtime":
            runtime_edges[imp.source].add(imp.target)
    nats_importers: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        if "NATS" in imp.names and imp.target in (nats_module, "rxnats", client_package):
            nats_importers[imp.source].add(imp.kind)
    type_checking_only = sorted(m for m, kinds in nats_importers.items() if kinds == {"type-checking"})
    deferred = [i for i in imports if i.kind == "function"]
    core_rx = sorted(
        {
            f"{i.source} -> {i.target}"
            for i in imports
            if i.kind == "runtime" and _within(i.target, "rxnats.rx") and not _within(i.source, RX_USERS)
        }
    )
    all_circles = circles(all_edges, modules)
    runtime_circles = circles(runtime_edges, modules)
    return {
        "nats_class": nats,
        "client_package": client_package,
        "nats_private_uses_outside_client": len(nats_uses),
        "nats_private_members_used_outside": sorted({a.name for a in nats_uses}),
        "nats_private_uses_by_module": dict(Counter(a.module for a in nats_uses).most_common()),
        "private_writes_to_other_modules_objects": [
            f"{a.module}:{a.line} {a.owner}.{a.name}" for a in foreign_writes
        ],
        "cross_module_private_reach_ins": len(cross),
        "cross_module_private_reach_ins_by_owner": dict(
            Counter(a.owner for a in cross).most_common()
        ),
        "tests_private_pokes": len(in_tests),
        "tests_private_pokes_by_owner": dict(Counter(a.owner for a in in_tests).most_common()),
        "import_circles_all_kinds": [len(c) for c in all_circles],
        "largest_circle": all_circles[0] if all_circles else [],
        "import_circles_runtime": runtime_circles,
        "modules_importing_NATS_only_for_type_checking": type_checking_only,
        "function_level_imports": len(deferred),
        "function_level_imports_by_module": dict(Counter(i.source for i in deferred).most_common()),
        "runtime_imports_of_rx_from_below": core_rx,
        "runtime_imports_of_rx_from_outside_rx": sorted(
            {
                f"{i.source} -> {i.target}"
                for i in imports
                if i.kind == "runtime"
                and _within(i.target, "rxnats.rx")
                and not _within(i.source, "rxnats.rx")
            }
        ),
    }


def main(argv: list[str]) -> None:
    figures = report()
    if "--json" in argv:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        if isinstance(value, dict | list) and value:
            print(f"{key}:")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                print(f"    {k}: {v}" if isinstance(value, dict) else f"    {v}")
        else:
            print(f"{key}: {value}")


if __name__ == "__main__":
    main(sys.argv[1:])
