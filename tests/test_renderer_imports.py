"""The renderers' modules import in one direction: no cycle among letters.renderers.*, counting
every import anywhere in a module (function-local and ``if TYPE_CHECKING:`` ones too), and a
module importing ``a.b.c`` depending on the packages ``a.b`` and ``a`` as Python imports them."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter

from tests.conftest import ROOT

PACKAGE = ROOT / "letters" / "renderers"


def _modules() -> dict[str, tuple[ast.Module, str]]:
    """Module name → (its syntax tree, the package its relative imports start from)."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
            package = ".".join(parts)
        else:
            package = ".".join(parts[:-1])
        out[".".join(parts)] = (ast.parse(path.read_text("utf-8")), package)
    return out


def _imported(module: ast.Module, package: str) -> set[str]:
    """Every dotted name ``module`` imports, with each of its parent packages."""
    found: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    with_parents = set()
    for dotted in found:
        parts = dotted.split(".")
        with_parents.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return with_parents


def test_no_import_cycle_among_the_renderers() -> None:
    modules = _modules()
    assert {"letters.renderers.registry", "letters.renderers.fast.renderer"} <= set(modules)
    graph = {
        name: _imported(tree, package) & set(modules) - {name}
        for name, (tree, package) in modules.items()
    }
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle through {sorted(set(exc.args[1]))}") from None
    assert order.index("letters.renderers.base") < order.index("letters.renderers.registry")
