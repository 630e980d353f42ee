"""Which form of the tagger the suite is testing: the pure-Python sources, or,
in ``scripts/test``'s second leg (``MONITOR_COMPILED`` names the folder), the
build whose hot modules mypyc compiled (``setup.py``). The second leg must
really test compiled code, and the first the sources being edited."""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import pytest

from monitor.ops.metrics import build_labels

REPO = Path(__file__).resolve().parents[2]
HOT = ["assemble", "memory", "speakers", "subjects", "tagger", "words"]


def _setup_list() -> list[str]:
    """setup.py's ``COMPILED`` list, read without running setup.py."""
    tree = ast.parse((REPO / "setup.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "COMPILED":
            return [str(name) for name in ast.literal_eval(node.value)]
    raise AssertionError("setup.py has no COMPILED list")


@pytest.mark.parametrize("name", HOT)
def test_the_tagger_under_test_is_the_form_this_leg_asks_for(name: str) -> None:
    module = importlib.import_module(f"monitor.nlp.{name}")
    where = Path(str(module.__file__))
    compiled = os.environ.get("MONITOR_COMPILED")
    if compiled:
        assert where.suffix == ".so", f"{where} is not compiled"
        assert where.is_relative_to(Path(compiled).resolve())
    else:
        assert where == REPO / "monitor" / "nlp" / f"{name}.py"


def test_setup_compiles_existing_modules_and_the_hot_ones() -> None:
    names = _setup_list()
    assert set(HOT) <= set(names)
    for name in names:
        assert (REPO / "monitor" / "nlp" / f"{name}.py").is_file(), name


def test_the_build_info_metric_names_the_form() -> None:
    expected = "compiled" if os.environ.get("MONITOR_COMPILED") else "python"
    assert build_labels()["nlp"] == expected
