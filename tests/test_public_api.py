"""The public API is exactly ``telewarden.__all__`` (httpx rule)."""

from __future__ import annotations

import telewarden


def test_all_lists_every_public_name_sorted_and_importable() -> None:
    assert telewarden.__all__ == sorted(telewarden.__all__)
    for name in telewarden.__all__:
        assert hasattr(telewarden, name), name
    public = {n for n in vars(telewarden) if not n.startswith("_")} - {
        "core",
        "adapters",
        "cli",
        "runners",
        "settings",
    }
    assert public <= set(telewarden.__all__) | {"annotations"}
