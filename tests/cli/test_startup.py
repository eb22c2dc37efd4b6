"""Start-up: `telewarden` loads a command's module only when it runs, and no model library
unless the command trains or scores.

Measured with ``python -X importtime -c "import telewarden.cli.main"`` on a 2-core machine
shared with other test runs, before and after the lazy groups, in alternation: 22.5-28.5 s
cumulative before, 0.82-1.09 s after (load average 10-12); CPU time of the import 7.2 s before,
0.21-0.25 s after. The budget is on CPU time, which a busy runner does not inflate the way it
inflates wall time; the module checks are what catch a regression on a fast machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from telewarden.cli import eval as eval_cli
from telewarden.cli.lazy import LazyCommand
from telewarden.cli.main import COMMANDS

IMPORT_BUDGET_CPU_S = 0.6
"""CPU seconds ``import telewarden.cli.main`` may take in a fresh interpreter (best of three)."""

MODEL_LIBRARIES = ("lightgbm", "sklearn", "scipy", "numba")
HEAVY_AT_START = (*MODEL_LIBRARIES, "polars", "pyarrow", "numpy", "pandas", "sqlalchemy")
HEAVY_AT_START += ("pydantic_settings", "phonenumbers", "telewarden.core.models")


def _run(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


_HELP = """
    import json, sys, time
    started = time.process_time()
    import telewarden.cli.main as main
    seconds = time.process_time() - started
    from typer.testing import CliRunner
    result = CliRunner().invoke(main.app, {args!r})
    assert result.exit_code == 0, result.output
    print(json.dumps({{"seconds": seconds, "modules": sorted(sys.modules)}}))
"""


def _loaded(modules: object, names: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, list)
    return sorted({m for m in modules for n in names if m == n or m.startswith(n + ".")})


def test_importing_the_cli_stays_within_budget_and_loads_nothing_heavy() -> None:
    runs = []
    for _ in range(3):
        run = _run(_HELP.format(args=["--help"]))
        assert _loaded(run["modules"], HEAVY_AT_START) == []
        runs.append(float(str(run["seconds"])))
        if runs[-1] < IMPORT_BUDGET_CPU_S:
            break
    assert min(runs) < IMPORT_BUDGET_CPU_S, f"import telewarden.cli.main took {runs} CPU s"


HELP_PAGES = [
    ["numbers", "--help"],
    ["numbers", "score", "--help"],
    ["detect", "--help"],
    ["eval", "--help"],
    ["eval", "numbers", "--help"],
    ["sim", "--help"],
    ["sms", "--help"],
    ["screen", "--help"],
    ["optin", "--help"],
    ["lists", "--help"],
    ["policy", "--help"],
    ["demo", "--help"],
]


def test_no_help_page_loads_a_model_library() -> None:
    # One interpreter for every page (a subprocess each would cost a minute on a busy
    # runner); a page is blamed for the model modules that appeared while it rendered.
    run = _run(
        f"""
        import json, sys
        from typer.testing import CliRunner
        from telewarden.cli.main import app
        blamed = {{}}
        for args in {HELP_PAGES!r}:
            before = set(sys.modules)
            result = CliRunner().invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
            new = set(sys.modules) - before
            blamed[" ".join(args)] = sorted(
                m for m in new if m.split(".")[0] in {MODEL_LIBRARIES!r}
            )
        print(json.dumps(blamed))
        """
    )
    assert {page: mods for page, mods in run.items() if mods} == {}


def test_numbers_features_loads_no_model_library(tmp_path: object) -> None:
    run = _run(
        f"""
        import json, sys
        import polars as pl
        from typer.testing import CliRunner
        from telewarden.cli.main import app
        voc = pl.DataFrame({{"phone_no_m": ["A"], "opposite_no_m": ["X"], "calltype_id": ["1"],
            "start_datetime": ["2020-01-03 08:15:00"], "call_dur": ["10"], "city_name": ["c"],
            "county_name": ["k"], "imei_m": ["i"]}})
        voc.write_csv({str(tmp_path)!r} + "/voc.csv")
        result = CliRunner().invoke(app, ["numbers", "features", "--voc",
            {str(tmp_path)!r} + "/voc.csv", "--output", {str(tmp_path)!r} + "/f.csv"])
        assert result.exit_code == 0, result.output
        print(json.dumps({{"modules": sorted(sys.modules)}}))
        """
    )
    assert _loaded(run["modules"], MODEL_LIBRARIES) == []


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


@pytest.mark.parametrize(
    "entry",
    [*COMMANDS, *eval_cli.LAZY_COMMANDS],
    ids=lambda entry: entry.name,
)
def test_the_listing_shows_each_commands_own_help(entry: LazyCommand) -> None:
    command = entry.load()
    assert _first_paragraph(command.help) == entry.help
    assert command.name == entry.name
