"""The package picture of docs/architecture.md: scripts use only the public entry points."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
# what a thin Snakemake script may import from atomscope: a stage package, io, the log helper, the per-sample steps
PUBLIC = {"io", "logs", "structures", "simulation", "labels", "nets", "training", "inference", "geometry", "motifs", "report", "steps"}


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


def test_the_workflow_finds_shipped_models_without_importing_torch():
    # every snakemake call parses workflow/rules/common.smk, which imports these; torch would add
    # about 1.4 s to each (atomscope.nets loads its names lazily)
    import subprocess
    import sys

    code = "import sys, atomscope.nets.shipped, atomscope.io, atomscope.config; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
    nets = importlib.import_module("atomscope.nets")
    assert set(nets.__all__) == set(dir(nets)) and nets.ResUNet.__name__ == "ResUNet" and nets.DEFAULT_MODEL == "carbon_hrtem"
    with pytest.raises(AttributeError, match="no attribute 'resunet'"):
        nets.resunet
