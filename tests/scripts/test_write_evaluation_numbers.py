"""`scripts/write_evaluation_numbers.py`: the release tool that rewrites docs/evaluation.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "write_evaluation_numbers.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("write_evaluation_numbers", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rewrites_only_its_block(script: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text(
        "# Evaluation\n\n<!-- BEGIN eval-numbers: written by x -->\nSTALE-FIGURES\n"
        "<!-- END eval-numbers -->\n\nkeep me\n",
        encoding="utf-8",
    )
    assert script.main(["--skip-sichuan", "--sim-seeds", "4", "--doc", str(doc)]) == 0
    text = doc.read_text(encoding="utf-8")
    assert "STALE-FIGURES" not in text
    assert text.startswith("# Evaluation\n\n<!-- BEGIN eval-numbers: written by x -->\n")
    assert text.endswith("<!-- END eval-numbers -->\n\nkeep me\n")
    assert "| sim_bank |" in text
    assert "scripts/write_evaluation_numbers.py" in text


def test_needs_the_block_markers_before_any_work(script: ModuleType, tmp_path: Path) -> None:
    doc = tmp_path / "evaluation.md"
    doc.write_text("# nothing here\n", encoding="utf-8")
    # A preset that does not exist would fail the run: the markers are checked first.
    code = script.main(["--skip-sichuan", "--sim-preset", "nonesuch", "--doc", str(doc)])
    assert code == 2
    assert doc.read_text(encoding="utf-8") == "# nothing here\n"
