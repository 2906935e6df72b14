"""The package picture of docs/architecture.md: scripts use only the public entry points."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
# what a thin Snakemake script may import from atomscope: a stage package, io, the log helper
PUBLIC = {"io", "logs", "structures", "simulation", "labels", "nets", "training", "inference", "geometry", "motifs", "report"}


def atomscope_imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every ``from atomscope... import ...`` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.module, [alias.name for alias in node.names])
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "atomscope"
    ]


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_scripts_import_only_public_stage_packages(script):
    imports = atomscope_imports(script)
    assert imports, f"{script.name} imports nothing from atomscope"
    for module, names in imports:
        parts = module.split(".")
        assert len(parts) == 2 and parts[1] in PUBLIC, f"{script.name} imports {module}; use atomscope.<stage> or atomscope.io"
        exported = importlib.import_module(module).__all__
        assert set(names) <= set(exported), f"{script.name} imports {set(names) - set(exported)} that {module} does not export"
