"""The layout is the dependency graph: every import of every source file is an edge of GRAPH.

Each ``.py`` file of the repository belongs to one unit (its top folder; the root ``foleyflow``
package, ``foleyflow_ns/``, is split by module: its ``__init__``, the ``cli`` dispatcher and the
``demo``). The scanner reads every import with ``ast``: module-level ones and the lazy ones inside
functions and methods (``if TYPE_CHECKING:`` blocks too), ``from . import x`` and ``from ..x import
y`` resolved against the file's package (pyproject's package-dir mapping), and the module names
that code imports by string: ``importlib.import_module("foleyflow...")``, ``__import__``,
``runpy.run_module`` and the ``COMMANDS`` table of the root dispatcher. Any edge outside GRAPH
fails, named ``file:line``; so does a third-party import a unit must never make, a cycle between
units, and a README "Layout" table that says something else than GRAPH.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[1]

# -- THE GRAPH --------------------------------------------------------------------------------------
TORCH = frozenset({"torch", "torchvision", "torchaudio"})
QT = frozenset({"PySide6", "shiboken6", "PyQt5", "PyQt6"})
OURS = ("runtime", "library", "plugin", "ui", "world", "export", "models", "benchmarks",
        "foleyflow", "foleyflow.cli", "foleyflow.demo", "hosts", "scripts", "tests")


@dataclass(frozen=True)
class Unit:
    folder: str  # where its files live (the root package's units: foleyflow_ns/ and a module)
    imports: frozenset[str]  # the units of ours it may import (itself always)
    never: frozenset[str] = frozenset()  # third-party top-level modules it must never import
    only: frozenset[str] | None = None  # if set: the only third-party modules it may import (+ stdlib)


def _u(folder: str, imports: Iterable[str] = (), never: Iterable[str] = (),
       only: Iterable[str] | None = None) -> Unit:
    return Unit(folder, frozenset(imports), frozenset(never), None if only is None else frozenset(only))


# THE GRAPH (DESIGN.md, "Layout: folders are the dependency graph"): the only edges there may be.
# A unit may always import itself and the standard library; "only" lists all the third-party modules
# it may import, "never" those it must not (lazily or not).
GRAPH: dict[str, Unit] = {
    # unit              folder                  units of ours it may import                third-party
    "runtime":        _u("runtime",             (),                                        only=("numpy", "onnxruntime")),
    "models":         _u("models",              (),                                        only=()),  # data only
    "library":        _u("library",             ("runtime",),                              never=TORCH | QT | {"onnxruntime"}),
    "world":          _u("world",               ("library", "runtime"),                    never=TORCH | QT),
    "plugin":         _u("plugin",              ("library", "runtime", "models"),          never=TORCH | QT),
    "ui":             _u("ui",                  ("plugin", "library", "runtime"),          never=TORCH),
    "export":         _u("export",              ("world", "library", "runtime"),           never=QT),
    "benchmarks":     _u("benchmarks",          ("runtime", "library", "plugin", "ui", "world", "export", "models")),
    # the root package: its __init__ (the version), the lazy dispatcher, the demo
    "foleyflow":      _u("foleyflow_ns",        (),                                        never=TORCH | QT),
    "foleyflow.cli":  _u("foleyflow_ns/cli.py", ("plugin", "ui", "export", "benchmarks", "foleyflow.demo", "foleyflow"),
                         never=TORCH | QT),
    "foleyflow.demo": _u("foleyflow_ns/demo.py", ("plugin", "world", "library", "runtime"),              never=TORCH | QT),
    # hosts run inside other applications and talk to the `foleyflow` command only
    "hosts":          _u("hosts",               (),                                        never=TORCH | QT | {"onnxruntime"}),
    "scripts":        _u("scripts",             tuple(u for u in OURS if u != "tests")),
    "tests":          _u("tests",               OURS),
}
ROOT_UNITS = ("foleyflow", "foleyflow.cli", "foleyflow.demo")  # the README's one "foleyflow" row
README_OPTIONAL = {"scripts"}  # dev scripts: the README's table may leave them out

SKIP_DIRS = {".venv", ".git", "build", "dist", "out", "node_modules", "__pycache__"}


# -- the scanner --------------------------------------------------------------------------------------
def package_dirs() -> dict[str, str]:
    """pyproject's package-dir mapping: dotted package -> folder (``foleyflow`` -> ``foleyflow_ns``)."""
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


@dataclass(frozen=True)
class Edge:
    path: str  # relative to the repo
    line: int
    source: str  # unit of the file
    target: str  # unit of ours, or "3rd:" + top-level third-party module
    module: str  # the module named
    how: str  # the statement, shortly


class Scanner:
    def __init__(self, root: Path, mapping: dict[str, str]):
        self.root = root
        self.folder_to_package = {folder: pkg for pkg, folder in mapping.items()}
        self.package_to_folder = dict(mapping)
        self.units_by_folder = {u.folder: name for name, u in GRAPH.items()}

    # files and their names
    def files(self) -> list[Path]:
        """Every ``.py`` file of the repository (not the venv, build output or hidden folders)."""
        found = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                             and not d.endswith(".egg-info"))
            found += [Path(folder) / n for n in names if n.endswith(".py")]
        return sorted(found)

    def unit_of_file(self, path: Path) -> str | None:
        rel = path.relative_to(self.root).as_posix()
        if rel in self.units_by_folder:  # a unit of one module (the root's cli and demo)
            return self.units_by_folder[rel]
        return self.units_by_folder.get(rel.split("/")[0]) if "/" in rel else None

    def module_of_file(self, path: Path) -> tuple[str, bool]:
        """(dotted name, is a package): ``plugin/cli.py`` -> ``foleyflow.plugin.cli``; outside the
        installed packages the folder path (``tests.conftest``)."""
        parts = list(path.relative_to(self.root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts.pop()
        for n in range(len(parts), 0, -1):
            folder = "/".join(parts[:n])
            if folder in self.folder_to_package:
                return ".".join([self.folder_to_package[folder], *parts[n:]]), is_pkg
        return ".".join(parts), is_pkg

    def unit_of_module(self, module: str) -> str | None:
        """The unit of ours that a dotted module name is in, or None (third-party or stdlib)."""
        if module in ROOT_UNITS:
            return module
        parts = module.split(".")
        for n in range(len(parts), 0, -1):
            pkg = ".".join(parts[:n])
            if pkg in self.package_to_folder and pkg != "foleyflow":
                return self.units_by_folder.get(self.package_to_folder[pkg].split("/")[0])
        if parts[0] == "foleyflow":
            return "foleyflow"  # the root package itself, or a root module without a unit of its own
        return None

    def _is_module_of_ours(self, module: str) -> bool:
        parts = module.split(".")
        for n in range(len(parts), 0, -1):
            pkg = ".".join(parts[:n])
            if pkg in self.package_to_folder:
                base = self.root / self.package_to_folder[pkg] / Path(*parts[n:]) if parts[n:] else \
                    self.root / self.package_to_folder[pkg]
                return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()
        return False

    def _local(self, path: Path, top: str) -> bool:
        """A module beside the file (tests' ``conftest``, a host's own files), on ``sys.path[0]`` when it runs."""
        unit_root = self.root / path.relative_to(self.root).parts[0]
        return any((d / f"{top}.py").is_file() or (d / top / "__init__.py").is_file() for d in {path.parent, unit_root})

    # edges
    def edges(self, path: Path) -> Iterator[Edge]:
        source = self.unit_of_file(path)
        assert source is not None, path
        rel = path.relative_to(self.root).as_posix()
        module, is_pkg = self.module_of_file(path)
        package = module if is_pkg else module.rpartition(".")[0]
        installed = module.split(".")[0] == "foleyflow"
        tree = ast.parse(path.read_text(encoding="utf-8"), rel)

        own_prefix = module.split(".")[0] + "."  # relative names outside the installed packages

        def edge(line: int, target_module: str, how: str) -> Edge | None:
            unit = self.unit_of_module(target_module) if installed or target_module.startswith("foleyflow") else None
            top = target_module.split(".")[0]
            if unit is None and not installed and (target_module.startswith(own_prefix) or self._local(path, top)):
                unit = source  # a module of the same folder (tests' conftest, a script's helper)
            if unit is None and top in self.units_by_folder and top not in self.folder_to_package:
                unit = self.units_by_folder[top]  # `import scripts.x`, `import tests.y`
            if unit is None:
                if top in sys.stdlib_module_names or top == "__future__":
                    return None
                unit = "3rd:" + top
            return Edge(rel, line, source, unit, target_module, how)

        def resolve(level: int, name: str | None) -> str:
            base = package.split(".") if package else []
            if level > 1:
                base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
            return ".".join([*base, *([name] if name else [])])

        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if (e := edge(node.lineno, alias.name, f"import {alias.name}")) is not None:
                        yield e
            elif isinstance(node, ast.ImportFrom):
                base = resolve(node.level, node.module) if node.level else (node.module or "")
                text = f"from {'.' * node.level}{node.module or ''} import "
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if self._is_module_of_ours(sub) or (node.level and not installed) else base
                    if (e := edge(node.lineno, target, text + alias.name)) is not None:
                        yield e
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str) and _call_name(node.func) in STRING_IMPORTS:
                name = node.args[0].value
                if name.startswith("."):
                    level = len(name) - len(name.lstrip("."))
                    name = resolve(level, name.lstrip(".") or None)
                if (e := edge(node.lineno, name, f"{_call_name(node.func)}({node.args[0].value!r})")) is not None:
                    yield e
            elif isinstance(node, ast.Assign | ast.AnnAssign) and "COMMANDS" in _targets(node) and node.value:
                for const in ast.walk(node.value):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) \
                            and MODULE_NAME.fullmatch(const.value):
                        if (e := edge(const.lineno, const.value, f"COMMANDS names {const.value!r}")) is not None:
                            yield e

    def all_edges(self) -> list[Edge]:
        found = [e for f in self.files() if self.unit_of_file(f) for e in self.edges(f)]
        return sorted(found, key=lambda e: (e.path, e.line, e.target, e.module))


STRING_IMPORTS = {"importlib.import_module", "import_module", "__import__", "builtins.__import__",
                  "runpy.run_module", "run_module"}
MODULE_NAME = re.compile(r"foleyflow(\.[A-Za-z_]\w*)*")


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        inner = _call_name(func.value)
        return f"{inner}.{func.attr}" if inner else func.attr
    return ""


def _targets(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def violations(edges: Iterable[Edge]) -> list[str]:
    """One line per edge outside GRAPH: ``file:line: source -> target (statement): the rule``."""
    problems = []
    for e in edges:
        unit = GRAPH[e.source]
        where = f"{e.path}:{e.line}: {e.source} -> {e.target.removeprefix('3rd:')} ({e.how})"
        if e.target.startswith("3rd:"):
            top = e.target[4:]
            if top in unit.never:
                problems.append(f"{where}: {e.source} must never import {top}")
            elif unit.only is not None and top not in unit.only:
                only = ", ".join(sorted(unit.only))
                problems.append(f"{where}: {e.source} imports only {only + ' and ' if only else ''}the standard library")
        elif e.target != e.source and e.target not in unit.imports:
            allowed = ", ".join(sorted(unit.imports)) or "nothing of ours"
            problems.append(f"{where} is not an edge of the graph: {e.source} may import {allowed}")
    return problems


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one node (or a node on a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def unit_graph(edges: Iterable[Edge]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {u: set() for u in GRAPH}
    for e in edges:
        if not e.target.startswith("3rd:") and e.target != e.source:
            graph[e.source].add(e.target)
    return graph


# -- the repository's edges ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(REPO, package_dirs())


@pytest.fixture(scope="module")
def edges(scanner: Scanner) -> list[Edge]:
    return scanner.all_edges()


def test_every_source_file_is_in_a_unit_of_the_graph(scanner):
    files = scanner.files()
    assert len(files) > 100
    stray = [f.relative_to(REPO).as_posix() for f in files if scanner.unit_of_file(f) is None]
    assert stray == [], f"files outside every unit of GRAPH (add their folder to tests/test_layout.py): {stray}"


def test_graph_names_the_installed_packages(scanner):
    """Every package-dir folder is a unit (or the root's), so a new subpackage cannot escape the graph."""
    for package, folder in package_dirs().items():
        assert folder in scanner.units_by_folder, f"{package} ({folder}/) has no unit in GRAPH"
    for name, unit in GRAPH.items():
        assert unit.imports <= set(GRAPH), f"{name} names units GRAPH does not have"


def test_graph_itself_has_no_cycle():
    allowed = {name: set(u.imports) - {name} for name, u in GRAPH.items()}
    assert strongly_connected(allowed) == []


@pytest.mark.parametrize("unit", sorted(GRAPH))
def test_every_import_is_an_edge_of_the_graph(edges, unit):
    problems = violations(e for e in edges if e.source == unit)
    assert problems == [], "imports outside the dependency graph (tests/test_layout.py GRAPH):\n" + "\n".join(problems)


def test_no_cycle_between_units(edges):
    cycles = strongly_connected(unit_graph(edges))
    lines = []
    for comp in cycles:
        lines += [f"{e.path}:{e.line}: {e.source} -> {e.target} ({e.how})" for e in edges
                  if e.source in comp and e.target in comp and e.source != e.target]
    assert cycles == [], f"import cycles between units {cycles}:\n" + "\n".join(lines)


def test_runtime_imports_only_numpy_onnxruntime_and_the_standard_library(edges):
    third = {e.target[4:] for e in edges if e.source == "runtime" and e.target.startswith("3rd:")}
    assert third == {"numpy", "onnxruntime"}
    assert not [e for e in edges if e.source == "runtime" and not e.target.startswith("3rd:") and e.target != "runtime"]


def test_the_root_dispatcher_commands_are_edges(edges):
    """foleyflow_ns/cli.py names its targets as strings: they are the root's edges."""
    targets = {e.target for e in edges if e.path == "foleyflow_ns/cli.py" and e.how.startswith("COMMANDS")}
    assert targets == {"plugin", "ui", "export", "benchmarks", "foleyflow.demo"}


# -- the scanner on planted code: it sees what it claims to see ----------------------------------------
PLANTED = {
    "pyproject.toml": """
        [tool.setuptools]
        package-dir = {"foleyflow" = "foleyflow_ns", "foleyflow.plugin" = "plugin", "foleyflow.runtime" = "runtime", "foleyflow.export" = "export", "foleyflow.ui" = "ui"}
        """,
    "foleyflow_ns/__init__.py": "",
    "foleyflow_ns/cli.py": """
        import importlib
        COMMANDS = {"go": ("foleyflow.plugin.cli", "help"), "panel": ("foleyflow.ui.app", "help")}
        def main():
            return importlib.import_module("foleyflow.export.cli")
        """,
    "runtime/__init__.py": "",
    "runtime/spec.py": """
        import json
        import numpy as np
        from .. import plugin
        """,
    "plugin/__init__.py": "",
    "plugin/cli.py": """
        from typing import TYPE_CHECKING
        from . import timing
        from .timing import rate
        from ..runtime.spec import x
        if TYPE_CHECKING:
            from foleyflow.ui import panel
        class Runner:
            def run(self):
                import torch
                from foleyflow.export import train
        """,
    "plugin/timing.py": "import opentimelineio\n",
    "ui/__init__.py": "",
    "ui/app.py": "from foleyflow import plugin\nimport PySide6\n",
    "export/__init__.py": "",
    "export/cli.py": "def main():\n    from foleyflow.ui import app\n",
    "tests/conftest.py": "import pytest\nfrom foleyflow.plugin import cli\n",
    "tests/test_a.py": "from conftest import thing\nimport scripts.tool\n",
    "scripts/tool.py": "",
}


@pytest.fixture
def planted(tmp_path) -> Scanner:
    for rel, text in PLANTED.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text))
    return Scanner(tmp_path, tomllib.loads((tmp_path / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"])


def test_scanner_resolves_lazy_relative_and_string_imports(planted):
    found = {(e.path, e.line, e.target, e.module) for e in planted.all_edges()}
    assert found == {
        ("foleyflow_ns/cli.py", 3, "plugin", "foleyflow.plugin.cli"),
        ("foleyflow_ns/cli.py", 3, "ui", "foleyflow.ui.app"),
        ("foleyflow_ns/cli.py", 5, "export", "foleyflow.export.cli"),
        ("runtime/spec.py", 3, "3rd:numpy", "numpy"),
        ("runtime/spec.py", 4, "plugin", "foleyflow.plugin"),  # `from .. import plugin`
        ("plugin/cli.py", 3, "plugin", "foleyflow.plugin.timing"),  # `from . import timing`
        ("plugin/cli.py", 4, "plugin", "foleyflow.plugin.timing"),
        ("plugin/cli.py", 5, "runtime", "foleyflow.runtime.spec"),  # `from ..runtime.spec import x`
        ("plugin/cli.py", 7, "ui", "foleyflow.ui"),  # under TYPE_CHECKING
        ("plugin/cli.py", 10, "3rd:torch", "torch"),  # in a method
        ("plugin/cli.py", 11, "export", "foleyflow.export"),
        ("plugin/timing.py", 1, "3rd:opentimelineio", "opentimelineio"),
        ("ui/app.py", 1, "plugin", "foleyflow.plugin"),  # `from foleyflow import plugin`
        ("ui/app.py", 2, "3rd:PySide6", "PySide6"),
        ("export/cli.py", 2, "ui", "foleyflow.ui.app"),
        ("tests/conftest.py", 1, "3rd:pytest", "pytest"),
        ("tests/conftest.py", 2, "plugin", "foleyflow.plugin.cli"),
        ("tests/test_a.py", 1, "tests", "conftest"),
        ("tests/test_a.py", 2, "scripts", "scripts.tool"),
    }


def test_violations_name_file_line_and_edge(planted):
    problems = violations(planted.all_edges())
    assert problems == [
        "export/cli.py:2: export -> ui (from foleyflow.ui import app) is not an edge of the graph: "
        "export may import library, runtime, world",
        "plugin/cli.py:7: plugin -> ui (from foleyflow.ui import panel) is not an edge of the graph: "
        "plugin may import library, models, runtime",
        "plugin/cli.py:10: plugin -> torch (import torch): plugin must never import torch",
        "plugin/cli.py:11: plugin -> export (from foleyflow.export import train) is not an edge of the graph: "
        "plugin may import library, models, runtime",
        "runtime/spec.py:4: runtime -> plugin (from .. import plugin) is not an edge of the graph: "
        "runtime may import nothing of ours",
    ]
    assert strongly_connected(unit_graph(planted.all_edges())) == [["export", "plugin", "runtime", "ui"]]


# -- the README's Layout table says the same ---------------------------------------------------------
def readme_layout(text: str) -> dict[str, tuple[set[str], set[str], int]]:
    """The README's ``## Layout`` table: unit -> (units of ours it imports, third-party names, line).

    Header ``| folder | what | imports |``. The first cell's first backticked name that is a
    folder of GRAPH (``runtime/``, ``foleyflow_ns/``) or an installed name (``foleyflow.runtime``,
    ``foleyflow``) names the unit; a row naming neither (``manifest.json``) is not a unit's row.
    The imports cell is a comma-separated list: the names of units of ours (``runtime``, ``plugin``,
    ``ui``, ``world``, ``export``, ``benchmarks``, ``models``, ``hosts``, ``foleyflow`` for the root),
    third-party top-level modules (``numpy``, ``torch``), or ``all`` (every unit); empty: nothing.
    Backticks and anything in parentheses are ignored.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "## Layout")
    rows: dict[str, tuple[set[str], set[str], int]] = {}
    mapping = package_dirs()
    folder_units = {u.folder: name for name, u in GRAPH.items() if "/" not in u.folder}
    folder_units["foleyflow_ns"] = "root"
    header = None
    for i in range(start + 1, len(lines)):
        line = lines[i].strip()
        if line.startswith("## "):
            break
        if not line.startswith("|"):
            if header is not None:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            assert header[0] == "folder" and "imports" in header, f"README Layout header: {line}"
            continue
        if set(line) <= set("|- :"):
            continue
        unit = None
        for name in re.findall(r"`([^`]+)`", cells[0]):
            if name.endswith("/") and name.rstrip("/") in folder_units:
                unit = folder_units[name.rstrip("/")]
            elif name == "foleyflow":
                unit = "root"
            elif name in mapping:
                unit = folder_units.get(mapping[name])
            elif name.endswith("/"):
                raise AssertionError(f"README.md:{i + 1}: {name} is no folder of the graph")
            if unit:
                break
        if unit is None:
            continue
        cell = re.sub(r"\([^)]*\)", "", cells[header.index("imports")]).replace("`", "")
        names = {n.strip() for n in cell.split(",") if n.strip()}
        ours = {n for n in names if n in folder_units or n in {"foleyflow", "all"}}
        assert unit not in rows, f"README.md:{i + 1}: a second row for {unit}"
        rows[unit] = ({"root" if n == "foleyflow" else n for n in ours}, names - ours, i + 1)
    return rows


def _readme_view() -> dict[str, tuple[set[str], frozenset[str], frozenset[str] | None]]:
    """GRAPH as the README's table shows it: the root's three units as one row named ``root``."""
    view: dict[str, tuple[set[str], frozenset[str], frozenset[str] | None]] = {}
    collapse = {u: "root" for u in ROOT_UNITS}
    for name, unit in GRAPH.items():
        row = collapse.get(name, name)
        ours = {collapse.get(t, t) for t in unit.imports} - {row}
        if row in view:
            old = view[row]
            view[row] = (old[0] | ours, old[1] | unit.never, old[2])
        else:
            view[row] = (ours, unit.never, unit.only)
    return view


def readme_problems(text: str) -> list[str]:
    """Where the README's Layout table and GRAPH disagree, one line each."""
    rows = readme_layout(text)
    view = _readme_view()
    everything = set(view) - {"tests"}
    problems = [f"README.md Layout: no row for {u} (`{GRAPH[u].folder}/`)" for u in sorted(set(view) - set(rows))
                if u not in README_OPTIONAL and u != "root"]
    if "root" not in rows:
        problems.append("README.md Layout: no row for the root package (`foleyflow_ns/` -> `foleyflow`)")
    for unit, (ours, third, line) in sorted(rows.items(), key=lambda kv: kv[1][2]):
        want, never, only = view[unit]
        said = (everything - {unit}) if "all" in ours else ours
        if said != want:
            problems.append(f"README.md:{line}: {unit} imports {', '.join(sorted(said)) or 'nothing of ours'}; "
                            f"the graph says {', '.join(sorted(want)) or 'nothing of ours'}")
        if third & never:
            problems.append(f"README.md:{line}: {unit} lists {', '.join(sorted(third & never))}, which it must never "
                            "import")
        if only is not None and third != only:
            problems.append(f"README.md:{line}: {unit} lists third-party {', '.join(sorted(third)) or 'nothing'}; "
                            f"the graph allows exactly {', '.join(sorted(only)) or 'nothing'}")
    return problems


def test_readme_layout_table_says_what_the_graph_says():
    problems = readme_problems((REPO / "README.md").read_text(encoding="utf-8"))
    assert problems == [], "\n".join(problems)


def test_readme_layout_parser_reads_the_documented_format():
    text = textwrap.dedent("""\
        ## Layout

        | folder | what | imports |
        | --- | --- | --- |
        | `runtime/` -> `foleyflow.runtime` | inference | numpy, onnxruntime |
        | `ui/` -> `foleyflow.ui` | the panel (PySide6) | `plugin`, `library`, `runtime`, PySide6 |
        | `foleyflow_ns/` -> `foleyflow` (root) | the command | plugin, ui (lazily), export |
        | `tests/` | tests | all |
        | `manifest.json` | the manifest | |

        ## Next
        """)
    rows = readme_layout(text)
    assert rows == {"runtime": (set(), {"numpy", "onnxruntime"}, 5), "ui": ({"plugin", "library", "runtime"}, {"PySide6"}, 6),
                    "root": ({"plugin", "ui", "export"}, set(), 7), "tests": ({"all"}, set(), 8)}
    problems = readme_problems(text)
    assert "README.md Layout: no row for plugin (`plugin/`)" in problems
    assert "README.md:7: root imports export, plugin, ui; the graph says benchmarks, export, library, plugin, runtime, " \
           "ui, world" in problems
    assert not [p for p in problems if p.startswith(("README.md:5:", "README.md:6:", "README.md:8:"))]
    wrong = text.replace("numpy, onnxruntime |", "numpy, onnxruntime, torch, plugin |")
    assert [p for p in readme_problems(wrong) if p.startswith("README.md:5:")] == [
        "README.md:5: runtime imports plugin; the graph says nothing of ours",
        "README.md:5: runtime lists third-party numpy, onnxruntime, torch; the graph allows exactly numpy, onnxruntime",
    ]


# -- test data lives inside the repository --------------------------------------------------------------
OUTSIDE = re.compile(r"""\.\./shared|parents?\[?\d?\]?\s*/\s*["']shared["']|parent\s*/\s*["']shared["']""")


def test_tests_and_code_read_nothing_beside_the_repository(scanner):
    """A fresh clone has no shared/ folder beside it: no test, no installed module, no host and not the
    Makefile may reach there (dev scripts are not part of ``make test``)."""
    hits = []
    for f in [*scanner.files(), REPO / "Makefile", REPO / "pyproject.toml"]:
        if f == Path(__file__).resolve() or scanner.unit_of_file(f) == "scripts":
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{f.relative_to(REPO)}:{n}: {line.strip()}")
    assert hits == [], "paths outside the repository (use tests/data or conftest.TIMELINES):\n" + "\n".join(hits)
