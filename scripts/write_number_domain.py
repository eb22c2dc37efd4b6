"""Release tooling: write the shipped number model's training profile (the domain check's reference).

The profile is the deciles of each of the 55 features of the numbers the shipped model was
trained on (``../shared/data/sichuan/features.csv``, app features aligned as the scorer sees
them), stored as ``src/telewarden/data/numbers/domain.json``. ``detect`` and ``numbers domain``
compare a carrier's features with it (``telewarden.services.number_domain``).

Run: uv run python scripts/write_number_domain.py [--features ../shared/data/sichuan/features.csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from telewarden.services.number_domain import write_shipped_profile

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--features",
        type=Path,
        default=ROOT.parent / "shared" / "data" / "sichuan" / "features.csv",
    )
    args = parser.parse_args()
    output = ROOT / "src" / "telewarden" / "data" / "numbers" / "domain.json"
    profile = write_shipped_profile(args.features, output)
    print(f"profile of {profile.rows} numbers x {len(profile.features)} features -> {output}")


if __name__ == "__main__":
    main()
