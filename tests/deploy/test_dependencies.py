"""Declared runtime dependencies are exactly what src/reviewer imports: none unused, none missing."""

from __future__ import annotations

import ast
import importlib.metadata
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.shipfiles import ROOT
from tests.sourcefiles import python_modules

SRC = ROOT / "src" / "reviewer"


def declared() -> set[str]:
    """Distribution names in pyproject.toml's [project].dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}


def imported_modules(root: Path) -> dict[str, Path]:
    """Top-level names of every absolute import under root (inside functions too), with a file
    that imports each."""
    found: dict[str, Path] = {}
    for path in python_modules(root):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


def third_party(modules: dict[str, Path]) -> dict[str, Path]:
    ours = {"reviewer", "__future__"}
    return {m: p for m, p in modules.items() if m not in sys.stdlib_module_names and m not in ours}


def distributions_of(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Import name -> the installed distributions that provide it."""
    providers = importlib.metadata.packages_distributions()
    return {m: {canonicalize_name(d) for d in providers.get(m, [])} for m in modules}


def test_the_scan_sees_imports_at_module_level_and_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "import os.path\nfrom httpx import Client\nfrom . import sibling\n"
        "def f():\n    import unidiff.patch\n",
        encoding="utf-8",
    )
    assert set(imported_modules(tmp_path)) == {"os", "httpx", "unidiff"}
    assert set(third_party(imported_modules(tmp_path))) == {"httpx", "unidiff"}


def test_every_third_party_import_is_declared() -> None:
    modules = third_party(imported_modules(SRC))
    assert modules, "the scan found no third-party import at all"
    wanted = declared()
    for module, providers in distributions_of(modules).items():
        assert providers, f"{modules[module]}: `{module}` is provided by no installed distribution"
        assert providers & wanted, (
            f"{modules[module].relative_to(ROOT)} imports `{module}` "
            f"(from {', '.join(sorted(providers))}), which pyproject.toml does not declare"
        )


def test_every_declared_dependency_is_imported() -> None:
    provided = set().union(*distributions_of(third_party(imported_modules(SRC))).values())
    unused = declared() - provided
    assert not unused, f"declared in pyproject.toml but never imported under src/reviewer: {unused}"


def test_gitpython_is_not_a_dependency() -> None:
    # git runs as a subprocess with an allow-listed environment (diff/gitcmd.py); GitPython would
    # add a second way to run git with its own environment handling.
    assert "gitpython" not in declared()
    assert "git" not in imported_modules(SRC)
