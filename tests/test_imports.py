"""Imports point down only: newswatch → alerts → crawler (see ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# what each package may import from the project
ALLOWED = {
    "crawler": {"crawler"},
    "alerts": {"alerts", "crawler"},
    "newswatch": {"newswatch", "alerts", "crawler"},
}


def project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_upward_imports(package):
    wrong = {
        str(path.relative_to(ROOT)): sorted(project_imports(path) - ALLOWED[package])
        for path in (ROOT / package).rglob("*.py")
    }
    wrong = {path: names for path, names in wrong.items() if names}
    assert not wrong, f"{package} may import only {sorted(ALLOWED[package])}: {wrong}"


# what of crawler alerts may import: the store, the items, and the one configuration reader
ALERTS_REACH = ("crawler.storage", "crawler.items", "crawler.config_reader")


def test_alerts_reaches_crawler_only_through_storage_items_and_the_config_reader():
    for path in (ROOT / "alerts").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module.split(".")[0] == "crawler":
                    assert any(
                        module == allowed or module.startswith(f"{allowed}.")
                        for allowed in ALERTS_REACH
                    ), f"{path.relative_to(ROOT)} imports {module}"
