"""The import contract of README's "Imports flow one way", checked over the source tree.

Every ``import`` and ``from … import`` counts, including those inside functions: a deferred import still
ties the packages together. The rules: ``core`` and ``analysis`` import nothing of the project; crawlers
and analysis know no web layer; only ``cli`` imports the demo's ``sample_city``; no packages import each
other, directly or round a longer circle.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = frozenset(
    {
        "alerts",
        "analysis",
        "api",
        "cli",
        "complaints",
        "core",
        "crawlers",
        "dashboards",
        "importing",
        "jobs",
        "sample_city",
        "search",
        "web",
    }
)
#: Packages that import nothing of the project: the ground floor and the pure computations.
SELF_CONTAINED = frozenset({"core", "analysis"})
WEB_LAYER = frozenset({"api", "dashboards", "web"})
#: Packages that must not know the web layer.
WEB_FREE = frozenset({"crawlers", "analysis"})
#: The demo's generated city sits above the domain packages; only the command building the demo uses it.
DEMO = "sample_city"
DEMO_USERS = frozenset({"cli"})


def imported_packages(source: str, packages: Set[str]) -> set[str]:
    """The project packages a module's source imports anywhere (relative imports stay in its package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(top for top in (name.split(".")[0] for name in names) if top in packages)
    return found


def package_imports(root: Path, packages: Set[str]) -> dict[str, dict[str, list[str]]]:
    """For each package, the other packages it imports and the files (relative to ``root``) that do."""
    edges: dict[str, dict[str, list[str]]] = {package: {} for package in packages}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            for imported in imported_packages(path.read_text(encoding="utf-8"), packages) - {package}:
                edges[package].setdefault(imported, []).append(str(path.relative_to(root)))
    return edges


def _reachable(edges: Mapping[str, Set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        package = todo.pop()
        if package not in seen:
            seen.add(package)
            todo.extend(edges.get(package, ()))
    return seen


def contract_violations(edges: Mapping[str, Set[str]]) -> list[str]:
    """Every breach of the contract in a package → imported packages map, one sentence each."""
    violations = []
    for package in sorted(edges):
        imported = set(edges[package]) - {package}
        if package in SELF_CONTAINED:
            violations += [f"{package} imports {other}" for other in sorted(imported)]
        elif package in WEB_FREE:
            web = sorted(imported & WEB_LAYER)
            violations += [f"{package} imports the web layer {other}" for other in web]
        if DEMO in imported and package not in DEMO_USERS | SELF_CONTAINED:  # those already reported
            violations.append(f"{package} imports the demo {DEMO}")
    reach = {package: _reachable(edges, package) for package in edges}
    cycles = {
        frozenset({package, *(other for other in reach[package] if package in reach.get(other, ()))})
        for package in edges
        if package in reach[package]
    }
    violations += [f"import cycle between {', '.join(sorted(cycle))}" for cycle in cycles]
    return sorted(violations)


def test_the_project_keeps_its_import_contract() -> None:
    edges = package_imports(ROOT, PACKAGES)
    violations = contract_violations({package: set(imported) for package, imported in edges.items()})
    where = {
        f"{package} -> {other}: {', '.join(files[:3])}"
        for package, imported in edges.items()
        for other, files in imported.items()
        if any(package in violation and other in violation for violation in violations)
    }
    assert violations == [], "\n".join([*violations, *sorted(where)])


def test_every_package_of_the_project_is_under_contract() -> None:
    on_disk = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert on_disk - {"tests", "benchmarks", "tools", "scripts", "docs"} == PACKAGES


def test_a_wrong_import_inside_a_function_is_reported(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "core" / "shortcut.py").write_text("def late():\n    from api.main import create_app\n")
    (tmp_path / "api" / "main.py").write_text("import core.models\n")
    edges = package_imports(tmp_path, PACKAGES)
    assert edges["core"] == {"api": ["core/shortcut.py"]}
    violations = contract_violations({package: set(imported) for package, imported in edges.items()})
    assert violations == ["core imports api", "import cycle between api, core"]


def test_each_rule_reports_its_breach() -> None:
    assert contract_violations({"analysis": {"core"}}) == ["analysis imports core"]
    assert contract_violations({"crawlers": {"core", "dashboards"}}) == [
        "crawlers imports the web layer dashboards"
    ]
    assert contract_violations({"api": {"sample_city"}, "cli": {"sample_city"}}) == [
        "api imports the demo sample_city"
    ]
    assert contract_violations({"search": {"jobs"}, "jobs": {"alerts"}, "alerts": {"search"}}) == [
        "import cycle between alerts, jobs, search"
    ]
    assert contract_violations({"cli": {"api", "core"}, "api": {"web", "core"}, "web": {"core"}}) == []
