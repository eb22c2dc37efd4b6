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


MAX_ENTRY_POINT_LINES = 300
"""Entry points only parse and render: a module under cli/ or api/ that outgrows this is split
along its seams (a use case to services/, rendering to a sibling module)."""

OVER_THE_LIMIT: set[str] = set()
"""Modules allowed over the limit: none (cli/demo.py and cli/screen.py were split last)."""


def entry_points_over(limit: int, package: Path) -> dict[str, int]:
    """Modules under ``cli/`` and ``api/`` of ``package`` longer than ``limit`` lines."""
    found = {}
    for top in ("cli", "api"):
        for path in sorted((package / top).rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found[path.relative_to(package).as_posix()] = lines
    return found


def test_entry_point_modules_stay_under_the_line_limit() -> None:
    over = entry_points_over(MAX_ENTRY_POINT_LINES, ROOT / "src" / "telewarden")
    assert set(over) <= OVER_THE_LIMIT, {k: v for k, v in over.items() if k not in OVER_THE_LIMIT}


def test_the_line_limit_catches_a_long_entry_point(tmp_path: Path) -> None:
    (tmp_path / "api" / "console").mkdir(parents=True)
    (tmp_path / "cli").mkdir()
    (tmp_path / "api" / "console" / "long.py").write_text("x = 1\n" * 301)
    (tmp_path / "cli" / "short.py").write_text("x = 1\n" * 300)
    assert entry_points_over(MAX_ENTRY_POINT_LINES, tmp_path) == {"api/console/long.py": 301}
