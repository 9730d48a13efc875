"""The shape of the code base a newcomer relies on: dependencies run one way, rooms stay
small, and the core imports no network or crypto library."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("letters", "channels")
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Every module each module imports, anywhere in it: at the top, inside functions and
    under ``if TYPE_CHECKING``, with the packages above each (Python runs them first)."""

    def owner(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # ``from pkg import mod`` needs mod; ``from pkg import name`` needs pkg
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                found = owner(target)
                # importing a.b.c runs a and a.b first, as Python imports them; a module
                # inside a.b already runs within it (the package re-exporting its own
                # modules is no cycle)
                while found:
                    if found != name and not name.startswith(found + "."):
                        edges[name].add(found)
                    found = owner(found.rpartition(".")[0])
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
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
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_not_even_inside_functions() -> None:
    assert _cycles(_imports(_modules())) == []


#: Flat catalogues of data, not logic, that grow with the product (one entry per stable
#: code): a larger limit, and still one.
CATALOGUES = {"letters.codes": 800}


def test_no_module_is_a_warehouse() -> None:
    sizes = {name: len(path.read_text("utf-8").splitlines()) for name, path in _modules().items()}
    limit = {name: CATALOGUES.get(name, MAX_LINES) for name in sizes}
    assert {name: n for name, n in sizes.items() if n > limit[name]} == {}


def _loaded_by(probe: str) -> set[str]:
    """The words a fresh interpreter prints running ``probe`` (the modules it loaded)."""
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(found.stdout.split())


def test_the_contract_loads_no_network_crypto_or_ssh_library() -> None:
    probe = (
        "import sys, letters.job, letters.validation, letters.rules; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = _loaded_by(probe)
    heavy = {"httpx", "cryptography", "paramiko", "fastapi", "starlette", "dramatiq", "redis"}
    heavy |= {"sqlalchemy", "weasyprint", "reportlab", "pikepdf", "argon2", "nacl", "bcrypt"}
    assert loaded & heavy == set()
    assert "letters" in loaded  # the probe itself worked


def test_a_worker_process_loads_what_writes_a_batch_only_when_it_writes_one() -> None:
    """A worker process (its actors, the print channel and the batch closer its sweeper
    runs every round) holds neither pikepdf (qpdf) nor paramiko nor every country's
    holidays: about 27 MB of each process's memory, needed only when a batch is written or
    sent over SFTP (issue 12: a worker ≤ 150 MB, bench/worker_soak.py)."""
    probe = (
        "import sys, os; os.environ['LETTERS_BROKER'] = 'stub'; "
        "import letters.pipeline.actors, channels.printing.batch, channels.printing.channel; "
        "import channels.registry, letters.rules.calendar as c, datetime as d; "
        "c.is_business_day(d.date(2026, 5, 17)); "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} | "
        "{m for m in sys.modules if m.startswith('holidays.countries.')})))"
    )
    loaded = _loaded_by(probe)
    assert {"pikepdf", "paramiko", "nacl", "bcrypt", "invoke"} & loaded == set()
    assert {m for m in loaded if m.startswith("holidays.countries.")} == set()
    assert {"channels", "dramatiq", "holidays"} <= loaded  # the probe itself worked


def test_the_command_line_help_loads_no_heavy_library() -> None:
    """``letters --help`` (and any command's ``--help``) answers at once: building the parser
    loads neither the configuration, the ledger nor a renderer (issue 12: ≤ 0.3 s)."""
    probe = (
        "import sys, letters.cli; letters.cli.build_parser(); "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} | "
        "{m for m in sys.modules if m.startswith('letters.')})))"
    )
    loaded = _loaded_by(probe)
    heavy = {"pydantic", "pydantic_settings", "sqlalchemy", "rich", "jinja2", "weasyprint"}
    heavy |= {"reportlab", "fastapi", "dramatiq", "redis", "httpx", "paramiko", "pikepdf"}
    assert loaded & heavy == set()
    assert {"letters.config", "letters.ledger", "letters.job"} & loaded == set()
    assert "letters.cli.operate" in loaded  # the probe itself worked


def test_the_readme_lists_every_rule_as_the_rules_catalogue_does() -> None:
    from letters.codes import Code
    from letters.rules import catalogue

    readme = (ROOT / "README.md").read_text("utf-8")
    listed = readme.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert listed == catalogue.markdown(), (
        "README's rules are out of date: run scripts/readme-codes"
    )
    named = {code for rule in catalogue.RULES for code in rule.codes}
    unnamed = [c.value for c in Code if c.family == "rule" and c not in named]
    assert not unnamed, f"rule codes no rule in letters/rules/catalogue.py names: {unnamed}"
    assert all(rule.source.strip() for rule in catalogue.RULES)


def test_the_readme_lists_every_code_as_the_catalogue_does() -> None:
    from letters import codes

    readme = (ROOT / "README.md").read_text("utf-8")
    listed = readme.split("<!-- codes:start -->\n", 1)[1].split("<!-- codes:end -->", 1)[0]
    assert listed == codes.markdown(), "README's code list is out of date: run scripts/readme-codes"
    values = [str(c) for c in codes.Code]
    assert len(values) == len(set(values)), "a code value is used twice"
    assert all(c.family in codes.FAMILIES for c in codes.Code)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", v) for v in values), "kebab-case only"


def test_every_docstring_example_is_run_by_pytest() -> None:
    """The examples are the spec of the numbers and codes; pytest runs them once, through
    ``--doctest-modules`` over ``testpaths``: no module with one may fall outside."""
    import shlex
    import tomllib

    options = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["pytest"]
    options = options["ini_options"]
    addopts = shlex.split(options["addopts"])
    assert "--doctest-modules" in addopts
    ignored = [ROOT / a.removeprefix("--ignore=") for a in addopts if a.startswith("--ignore=")]
    searched = [ROOT / p for p in options["testpaths"]]
    with_examples = [
        path
        for path in _modules().values()
        if any(line.lstrip().startswith(">>> ") for line in path.read_text("utf-8").splitlines())
    ]
    assert with_examples, "the probe found no examples at all"
    outside = [
        str(path.relative_to(ROOT))
        for path in with_examples
        if not any(path.is_relative_to(p) for p in searched)
        or any(path.is_relative_to(p) for p in ignored)
    ]
    assert outside == []
