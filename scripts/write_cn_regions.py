"""Write ``src/telewarden/data/numbers/cn_regions.txt``: the English province and city names of
+86 numbers in libphonenumber's geocoding data, the names a policy region override may use.

Run from a checkout after upgrading phonenumbers: ``uv run python scripts/write_cn_regions.py``.
(Loading every geocoding module takes about 15 s, too slow for ``policy set`` itself.)
"""

from __future__ import annotations

from pathlib import Path

import phonenumbers
from phonenumbers.geodata import GEOCODE_DATA

TARGET = Path(__file__).resolve().parents[1] / "src/telewarden/data/numbers/cn_regions.txt"


def main() -> None:
    names: set[str] = set()
    for prefix, descriptions in GEOCODE_DATA.items():
        if prefix.startswith("86") and "en" in descriptions:
            names.update(p.strip() for p in descriptions["en"].split(",") if p.strip())
    header = (
        f"# Province and city names of +86 numbers in libphonenumber {phonenumbers.__version__} "
        "geocoding data (English),\n# written by scripts/write_cn_regions.py; one per line.\n"
    )
    TARGET.write_text(header + "\n".join(sorted(names)) + "\n", encoding="utf-8")
    print(f"{len(names)} names -> {TARGET}")


if __name__ == "__main__":
    main()
