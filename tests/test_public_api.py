"""The public API is exactly ``telewarden.__all__`` (httpx rule)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import telewarden


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert sorted(telewarden.__all__) == telewarden.__all__
    for name in telewarden.__all__:
        assert getattr(telewarden, name) is not None, name


def test_every_public_name_of_the_package_is_in_all() -> None:
    subpackages = {
        "core", "adapters", "cli", "runners", "services", "api", "testing", "settings",
        "annotations",
    }  # fmt: skip
    public = {n for n in dir(telewarden) if not n.startswith("_")} - subpackages
    assert public == set(telewarden.__all__) - {"__version__"}


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = telewarden.no_such_thing  # type: ignore[attr-defined]


def test_importing_the_package_does_not_load_heavy_libraries() -> None:
    code = (
        "import sys, telewarden; "
        "print(any(m in sys.modules for m in ('sklearn', 'lightgbm', 'phonenumbers', 'polars')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
