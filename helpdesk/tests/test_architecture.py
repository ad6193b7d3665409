"""The code's shape, checked: no import cycles between files, no function-level imports
that dodge one, no product module over 400 lines, and the project package `helpdesk`
importing no app outside its composition root (settings, urls, asgi)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "helpdesk",
    "accounts",
    "workorders",
    "knowledge",
    "alerts",
    "dialogue",
    "llm",
    "reports",
    "feishu",
)
STANDALONE = ("llmstub", "feishustub")
APPS = PACKAGES[1:]
COMPOSITION_ROOT = {
    "helpdesk.settings",
    "helpdesk.settings_test",
    "helpdesk.urls",
    "helpdesk.asgi",
    "helpdesk.routing",
}
MAX_LINES = 400
# A function-level import is allowed for start-up cost or an optional dependency, with
# its reason on the line before it or at its end, starting with "lazy:".
LAZY_MARK = "lazy:"


def _is_product(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return "tests" not in parts and "migrations" not in parts


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES + STANDALONE:
        for path in (ROOT / package).rglob("*.py"):
            if _is_product(path):
                name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                found[name.removesuffix(".__init__")] = path
    return found


def _resolve(name: str) -> str | None:
    """The product module an imported name lives in (a module or a name in one)."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> list[tuple[str, ast.stmt, bool]]:
    """(imported module, statement, at module level) of each product import, skipping
    imports under `if TYPE_CHECKING:`."""
    tree = ast.parse(modules()[module].read_text())
    found = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                names = (
                    [alias.name for alias in child.names]
                    if isinstance(child, ast.Import)
                    else [f"{child.module}.{alias.name}" for alias in child.names]
                )
                for name in names:
                    target = _resolve(name)
                    if target is not None and target != module:
                        found.append((target, child, top_level))
            nested = top_level and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            )
            visit(child, nested or (top_level and isinstance(child, ast.ClassDef)))

    visit(tree, True)
    return found


def _cycles() -> list[list[str]]:
    graph = {module: {target for target, _s, _t in _imports(module)} for module in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for module in sorted(graph):
        if module not in index:
            connect(module)
    return components


def _package_inits(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts))}


def test_no_import_cycles_between_files():
    assert _cycles() == []


def test_function_level_imports_say_why():
    unexplained = []
    for module, path in modules().items():
        lines = path.read_text().splitlines()
        for target, statement, top_level in _imports(module):
            if top_level or target in _package_inits(module):
                continue
            here = lines[statement.lineno - 1]
            before = lines[statement.lineno - 2] if statement.lineno > 1 else ""
            if LAZY_MARK not in here and LAZY_MARK not in before:
                unexplained.append(f"{module}:{statement.lineno} imports {target}")
    assert unexplained == []


def test_the_project_package_imports_no_app():
    offending = [
        f"{module} imports {target}"
        for module in modules()
        if module.startswith("helpdesk") and module not in COMPOSITION_ROOT
        for target, _statement, _top in _imports(module)
        if target.split(".")[0] in APPS
    ]
    assert offending == []


@pytest.mark.parametrize("package", PACKAGES + STANDALONE)
def test_no_product_module_is_over_400_lines(package):
    long = {
        str(path.relative_to(ROOT)): count
        for name, path in modules().items()
        if name.split(".")[0] == package
        and (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
