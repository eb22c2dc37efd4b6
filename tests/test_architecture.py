"""The layering rule: core <- adapters <- entry points, and no I/O libraries in the core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")


def _lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=cwd,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_layer_contracts_hold_for_the_package() -> None:
    result = _lint_imports(ROOT / "src", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_contracts_catch_a_core_module_importing_sqlalchemy(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "telewarden", tmp_path / "telewarden")
    (tmp_path / "telewarden" / "core" / "leak.py").write_text("import sqlalchemy\n")
    result = _lint_imports(tmp_path, tmp_path)
    assert result.returncode != 0
    assert "telewarden.core.leak" in result.stdout


def test_contracts_catch_a_core_module_importing_an_adapter(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src" / "telewarden", tmp_path / "telewarden")
    (tmp_path / "telewarden" / "core" / "leak.py").write_text("import telewarden.adapters.clock\n")
    result = _lint_imports(tmp_path, tmp_path)
    assert result.returncode != 0
    assert "telewarden.core.leak" in result.stdout
