"""The dependency rules of README "Development": surfaces and dashboard pages only map (no
SQLAlchemy, no query, no commit), and no import cycle between modules or between packages.

Imports are read from the source (module level and inside functions, where cycles hide;
`if TYPE_CHECKING:` blocks excepted, which never run)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "propensity"
SURFACES = SRC / "surfaces"
# The dashboard's pages are adapters too: they read and write through the core.
ADAPTERS = (SURFACES, SRC / "web")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in SRC.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for every import in the file that can run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).split(".") if SRC in path.parents else []
    if package and path.name != "__init__.py":
        package = package[:-1]

    def walk(node: ast.AST) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for branch in child.orelse:
                    yield from walk(branch)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package[: len(package) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                for alias in child.names:
                    full = f"{module}.{alias.name}"
                    yield (full if full in MODULES else module), child.lineno
            else:
                yield from walk(child)

    yield from walk(tree)


def _internal(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = {_internal(imported) for imported, _ in _imports(path)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
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
                    found.append(sorted(component))
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_the_import_graph_is_read() -> None:
    graph = _graph()
    # A parser that lost imports would make the cycle tests pass vacuously.
    assert "propensity.serving.service" in graph["propensity.surfaces.customer_success.accounts"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_no_import_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        own = _package(module)
        packages.setdefault(own, set()).update(_package(t) for t in targets if _package(t) != own)
    assert _cycles(packages) == []


SQL_IMPORT = re.compile(r"^(sqlalchemy|alembic|psycopg|sqlite3)(\.|$)")
COMMIT = re.compile(r"\.(commit|rollback|flush|execute|scalars?|add|delete)\(")


@pytest.mark.parametrize(
    "path",
    sorted(p for folder in ADAPTERS for p in folder.rglob("*.py")),
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_a_surface_module_only_maps(path: Path) -> None:
    """No database library, and no session call that queries or writes: surfaces call the
    core, which owns every query and every transaction."""
    offending = [
        f"line {line}: imports {name}" for name, line in _imports(path) if SQL_IMPORT.match(name)
    ]
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        code = text.split("#", 1)[0]
        if "session" in code and COMMIT.search(code):
            offending.append(f"line {number}: {text.strip()}")
    assert offending == []


def test_the_surface_rule_catches_what_it_forbids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sqlalchemy as sa\nfrom sqlalchemy.orm import Session\n"
        "def f(ctx):\n    ctx.session.commit()\n"
    )
    names = [name for name, _ in _imports(sample)]
    assert [n for n in names if SQL_IMPORT.match(n)] == ["sqlalchemy", "sqlalchemy.orm"]
    assert COMMIT.search("    ctx.session.commit()")
