"""The two services are siblings: neither imports the other; what both need lives in shared
packages (`enlist.db`, `enlist.web`, `enlist.scim`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "enlist"

FORBIDDEN = {
    "provisioning": "enlist.lms",
    "lms": "enlist.provisioning",
    "db": ("enlist.lms", "enlist.provisioning"),
    "web": ("enlist.lms", "enlist.provisioning"),
    "scim": ("enlist.lms", "enlist.provisioning"),
    "api_tokens": ("enlist.lms", "enlist.provisioning"),
    "metrics": ("enlist.lms", "enlist.provisioning"),
    "logs": ("enlist.lms", "enlist.provisioning"),
    "notify": ("enlist.lms", "enlist.provisioning"),
}


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_its_sibling(package: str) -> None:
    forbidden = FORBIDDEN[package]
    prefixes = (forbidden,) if isinstance(forbidden, str) else forbidden
    offenders = [
        f"{path.relative_to(SRC)}: {module}"
        for path in sorted((SRC / package).rglob("*.py"))
        for module in imported_modules(path)
        if module.startswith(prefixes)
    ]
    assert offenders == []
