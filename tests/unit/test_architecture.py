"""The stages import one way (ARCHITECTURE.md): a walk over every import statement of hwsim/ and rtl/.

workload, arch  <-  mapping  <-  sim, cost  <-  report  <-  io, compose, sweep, explore  <-  api  <-  cli.
``hwsim.errors`` and ``hwsim.types`` are the vocabulary every stage may use; ``rtl/`` builds hardware from the
descriptions and reaches the models only through ``hwsim.api``. Every import counts, inside functions and
``TYPE_CHECKING`` blocks too: a lazy import is still a dependency. (``rtl`` takes even the vocabulary from the
api.)
"""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO

BASE = {"hwsim", "hwsim.errors", "hwsim.types"}
CORE = {"hwsim.workload", "hwsim.arch", "hwsim.mapping", "hwsim.sim", "hwsim.cost", "hwsim.report"}
EDGE = {"hwsim.io", "hwsim.compose", "hwsim.sweep", "hwsim.explore"}

ALLOWED = {
    "hwsim": set(),
    "hwsim.errors": set(),
    "hwsim.types": {"hwsim.errors"},
    "hwsim.workload": BASE,
    "hwsim.arch": BASE,
    "hwsim.mapping": BASE | {"hwsim.workload", "hwsim.arch"},
    "hwsim.sim": BASE | {"hwsim.workload", "hwsim.arch", "hwsim.mapping"},
    "hwsim.cost": BASE | {"hwsim.workload", "hwsim.arch", "hwsim.mapping"},
    "hwsim.report": BASE | CORE - {"hwsim.report"},
    **{edge: BASE | CORE | EDGE for edge in EDGE},
    "hwsim.api": BASE | CORE | EDGE | {"rtl"},
    "hwsim.cli": {"hwsim", "hwsim.api"},  # the package only for its __version__
    "hwsim.__main__": {"hwsim.cli"},
    "rtl": {"hwsim.api", "hwsim.arch", "hwsim.mapping"},
}
"""Stage -> the stages its modules may import (besides itself, the standard library and third-party packages)."""


def stage(module: str) -> str | None:
    """The stage a dotted module name belongs to (``hwsim.sim.engine`` -> ``hwsim.sim``), None if not ours."""
    parts = module.split(".")
    if parts[0] == "rtl":
        return "rtl"
    if parts[0] != "hwsim":
        return None
    return "hwsim" if len(parts) == 1 or parts[1].startswith("__") and parts[1] != "__main__" else f"hwsim.{parts[1]}"


def module_name(path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path) -> list[tuple[int, str]]:
    """(line, imported module) of every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base in ("hwsim", "rtl"):  # from hwsim import errors: the names are the modules
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


SOURCES = sorted([*(REPO / "hwsim").rglob("*.py"), *(REPO / "rtl").rglob("*.py")])


def violations() -> list[str]:
    found = []
    for path in SOURCES:
        own = stage(module_name(path))
        allowed = ALLOWED[own] if own in ALLOWED else None
        for line, name in imports(path):
            target = stage(name)
            if target is None or target == own:
                continue
            if allowed is None or target not in allowed:
                found.append(f"{path.relative_to(REPO)}:{line}: {own} imports {name}")
    return found


def test_core_stages_read_no_files():
    """Tables and specs are loaded by ``hwsim.io`` and passed in: no core module opens packaged data itself."""
    found = [f"{path.relative_to(REPO)}:{line}: {name}" for path in SOURCES if stage(module_name(path)) in CORE
             for line, name in imports(path) if name.startswith("importlib.resources")]
    assert not found, found


def test_every_stage_is_known():
    stages = {stage(module_name(path)) for path in SOURCES}
    assert stages <= set(ALLOWED), sorted(stages - set(ALLOWED))


def test_imports_follow_the_stages():
    found = violations()
    assert not found, f"{len(found)} imports against the stage order:\n" + "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("from hwsim.io.load import load_workload\n", ["hwsim.sim imports hwsim.io.load"]),
    ("import hwsim.report.systolic\n", ["hwsim.sim imports hwsim.report.systolic"]),
    ("def f():\n    from hwsim.api import simulate\n", ["hwsim.sim imports hwsim.api"]),
    ("from hwsim.mapping import lay\nfrom hwsim import errors\n", []),
])
def test_the_walk_catches_a_backward_import(source, expected, tmp_path, monkeypatch):
    """The checker itself: a module of sim that imports io, report or api (even inside a function) is caught."""
    path = REPO / "hwsim" / "sim" / "_probe_for_test.py"
    monkeypatch.setattr(path.__class__, "read_text", lambda self, *a, **k: source)
    monkeypatch.setitem(globals(), "SOURCES", [path])
    assert [v.split(": ", 1)[1] for v in violations()] == expected


def test_notebooks_import_only_the_api():
    """Notebooks are users: they reach hwsim through ``hwsim.api`` (the package itself only for its path)."""
    import json

    found = []
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%")))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}: {n}" for n in names if stage(n) not in (None, "hwsim.api", "hwsim")]
    assert not found, found
